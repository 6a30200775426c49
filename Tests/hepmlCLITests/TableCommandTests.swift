import Foundation
import HEPMLColumnar
import HEPMLTestSupport
import Testing

@Suite struct TableCommandTests {
    @Test func convertsBetweenFormatsAndShowsSchemaAndRows() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("modules.csv")
        try "CALQ_0,CALQ_1,label\n1,2,good\n3,4,\"bad, really\"\n".write(to: csv, atomically: true, encoding: .utf8)

        let parquet = directory.appendingPathComponent("modules.parquet").path
        let converted = try TestEnvironment.run(hepml, ["table", "convert", csv.path, parquet, "--compression", "snappy"])
        #expect(converted.status == 0, "\(converted.output)")
        let table = try TableFile.read(path: parquet)
        #expect(table.columnNames == ["CALQ_0", "CALQ_1", "label"])
        #expect(table.rowCount == 2)
        #expect(try table.column("label").values.string(at: 1) == "bad, really")

        let schema = try TestEnvironment.run(hepml, ["table", "show", parquet, "--schema"])
        #expect(schema.status == 0)
        #expect(schema.output.contains("2 rows"))
        #expect(schema.output.contains("snappy"))

        let npz = directory.appendingPathComponent("numbers.npz").path
        let projected = try TestEnvironment.run(hepml, ["table", "convert", parquet, npz, "--columns", "CALQ_1"])
        #expect(projected.status == 0, "\(projected.output)")
        let shown = try TestEnvironment.run(hepml, ["table", "show", npz, "--head", "5"])
        #expect(shown.output.contains("CALQ_1"))
        #expect(!shown.output.contains("CALQ_0"))
        #expect(shown.output.contains("4"))
    }

    /// `table convert … OUT.root --tree NAME`: a table becomes a TTree that `root dump` reads back.
    @Test func convertsATableToATree() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = try Table(columns: [
            Column(name: "ok", values: .bool([true, false])),
            Column(name: "label", values: .string(bytes: Array("abc".utf8), offsets: [0, 1, 3])),
            Column(name: "pt", values: .float64([1.5, 2, 3]), listOffsets: [[0, 1, 3]]),
        ])
        let input = directory.appendingPathComponent("in.parquet").path
        try TableFile.write(table, to: input)
        let tree = directory.appendingPathComponent("out.root").path
        let convert = try TestEnvironment.run(hepml, ["table", "convert", input, tree, "--tree", "dir/events", "--compression", "lzma:2"])
        try #require(convert.status == 0, "\(convert.output)")
        let back = directory.appendingPathComponent("back.parquet").path
        let dump = try TestEnvironment.run(hepml, ["root", "dump", tree + ":dir/events", "--branches", "ok,label,pt", "--to", back])
        try #require(dump.status == 0, "\(dump.output)")
        #expect(try TableFile.read(path: back) == table)
        let missingTree = try TestEnvironment.run(hepml, ["table", "convert", input, tree])
        #expect(missingTree.status != 0 && missingTree.output.contains("--tree"))
    }

    @Test func reportsTheLineAndColumnOfABadField() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("broken.csv")
        try "a,b\n1,2\n3,\"unterminated\n".write(to: csv, atomically: true, encoding: .utf8)
        let result = try TestEnvironment.run(hepml, ["table", "show", csv.path])
        #expect(result.status != 0)
        #expect(result.output.contains("broken.csv"))
        #expect(result.output.contains("line 3"))
    }
}
