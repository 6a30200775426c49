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
