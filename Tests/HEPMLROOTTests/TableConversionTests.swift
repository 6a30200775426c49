import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLROOT
import HEPMLTestSupport
import Testing

/// `Tree.table`: tree columns as table columns, with the widenings the table's element types need.
@Suite struct TableConversionTests {
    func writeTree(_ branches: [TreeBranchData], in directory: URL) throws -> Tree {
        let path = directory.appendingPathComponent("table.root").path
        let writer = ROOTWriter(path: path)
        try writer.writeTree(branches, to: "events")
        try writer.close()
        return try ROOTFile(path: path).tree("events")
    }

    @Test func scalarsWidenAndArraysBecomeLists() throws {
        let directory = try TestEnvironment.temporaryDirectory("root-table")
        defer { try? FileManager.default.removeItem(at: directory) }
        let offsets = [0, 2, 2, 3]
        let tree = try writeTree([
            TreeBranchData(ColumnArray(name: "flag", values: .bool([true, false, true]))),
            TreeBranchData(ColumnArray(name: "small", values: .uint8([1, 2, 255]))),
            TreeBranchData(ColumnArray(name: "count", values: .uint32([0, 4_000_000_000, 7]))),
            TreeBranchData(ColumnArray(name: "id", values: .uint64([1, 2, UInt64(Int64.max)]))),
            TreeBranchData(ColumnArray(name: "triple", values: .float64((0..<9).map(Double.init)), itemShape: [3])),
            TreeBranchData(ColumnArray(name: "jet", values: .float32([1.5, -2, 3]), offsets: offsets), counter: "nJet"),
            TreeBranchData(ColumnArray(name: "tagged", values: .bool([true, false, true]), offsets: offsets), counter: "nJet"),
        ], in: directory)

        let converted = try tree.table()
        #expect(converted.leftOut.isEmpty)
        let table = converted.table
        #expect(table.rowCount == 3)
        #expect(try table.column("flag").boolValues == [true, false, true])
        #expect(try table.column("small").int32Values == [1, 2, 255])
        #expect(try table.column("count").int64Values == [0, 4_000_000_000, 7])
        #expect(try table.column("id").int64Values == [1, 2, Int64.max])
        let triple = try table.column("triple")
        #expect(triple.type == .list(.float64) && triple.listOffsets == [[0, 3, 6, 9]])
        let jet = try table.column("jet")
        #expect(jet.type == .list(.float32) && jet.listOffsets == [offsets] && jet.float32Values == [1.5, -2, 3])
        let tagged = try table.column("tagged")
        #expect(tagged.type == .list(.int32) && tagged.int32Values == [1, 0, 1])

        let selected = try tree.table(branches: ["jet", "small"], entries: 1..<3).table
        #expect(selected.columnNames == ["jet", "small"])
        #expect(try selected.column("jet").listOffsets == [[0, 0, 1]] && selected.column("small").int32Values == [2, 255])
    }

    /// Without a branch list a column that cannot be converted is left out and named with the
    /// reason; named, it is an error naming the file and the branch.
    @Test func unconvertibleColumnsAreLeftOutOrNamed() throws {
        let directory = try TestEnvironment.temporaryDirectory("root-table")
        defer { try? FileManager.default.removeItem(at: directory) }
        let tree = try writeTree([TreeBranchData(ColumnArray(name: "huge", values: .uint64([1, UInt64.max]))),
                                  TreeBranchData(ColumnArray(name: "fine", values: .int32([1, 2])))], in: directory)
        let converted = try tree.table()
        #expect(converted.table.columnNames == ["fine"])
        #expect(converted.leftOut.map(\.branch) == ["huge"] && converted.leftOut[0].reason.contains("does not fit"))
        let error = #expect(throws: FileFormatError.self) { try tree.table(branches: ["huge"]) }
        #expect(error?.object == "events/huge" && error?.file.hasSuffix("table.root") == true)
    }
}

/// `ROOTWriter.writeTree(table:)`: any table as a TTree, read back as the same table.
@Suite struct TableToTreeTests {
    @Test func tablesBecomeTreesAndReadBack() throws {
        let directory = try TestEnvironment.temporaryDirectory("table-tree")
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = try Table(columns: [
            Column(name: "flag", values: .bool([true, false, true, true])),
            Column(name: "id", values: .int64([1, -2, Int64.max, 4])),
            Column(name: "name", values: .string(bytes: Array("abcdefg".utf8), offsets: [0, 1, 3, 3, 7])),
            Column(name: "pt", values: .float32([1.5, 2.5, 3.5]), listOffsets: [[0, 2, 2, 2, 3]]),
            Column(name: "x", values: .float64([0.25, -1, 7, 1e300])),
        ])
        let path = directory.appendingPathComponent("table.root").path
        let writer = ROOTWriter(path: path, compression: .zstd(level: 5))
        try writer.writeTree(table: table, to: "dir/events", title: "from a table")
        try writer.close()
        let tree = try ROOTFile(path: path).tree("dir/events")
        #expect(tree.title == "from a table" && tree.branchNames == ["npt", "flag", "id", "name", "pt", "x"])
        let back = try tree.table(branches: ["flag", "id", "name", "pt", "x"]).table
        #expect(back == table)
        #expect(try tree.table(branches: ["npt"]).table.column("npt").int32Values == [2, 0, 0, 1])

        let nested = try Table(columns: [Column(name: "vv", values: .int32([1, 2]), listOffsets: [[0, 1], [0, 2]])])
        let error = #expect(throws: FileFormatError.self) { try ROOTWriter(path: path).writeTree(table: nested, to: "t") }
        #expect(error?.object == "t/vv")
    }
}

/// The reading benchmarks' files: the DQM-style layout and the trees, as `hepml bench root` reads them.
@Suite struct BenchmarkFilesTests {
    @Test func dqmFilesHoldEveryListedHistogram() throws {
        let directory = try TestEnvironment.temporaryDirectory("root-bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        let paths = try ROOTBenchmarkFiles.writeDQMFiles(in: directory.path, files: 2, histograms: 20)
        #expect(paths == [0, 1].map { ROOTBenchmarkFiles.dqmFile($0, in: directory.path).path })
        let listed = ROOTBenchmarkFiles.dqmHistogramPaths(count: 20, run: ROOTBenchmarkFiles.dqmFile(1, in: directory.path).run)
        let file = try ROOTFile(path: paths[1])
        for (path, is2D) in listed {
            #expect(try file.histogram(path).dimension == (is2D ? 2 : 1), "\(path)")
        }
        #expect(listed.filter(\.is2D).count == 2)
        #expect(ROOTBenchmarkFiles.evenlySpacedSubset(listed.map(\.path), size: 5) == stride(from: 0, to: 20, by: 4).map { listed[$0].path })
    }

    @Test func treesHaveTheirBranchesAndEntries() throws {
        let directory = try TestEnvironment.temporaryDirectory("root-bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        try ROOTBenchmarkFiles.writeTrees(in: directory.path, wideEntries: 50, longEntries: 200)
        let wide = try ROOTFile(path: directory.appendingPathComponent(ROOTBenchmarkFiles.wideTree.file).path).tree(ROOTBenchmarkFiles.wideTree.tree)
        #expect(wide.entries == 50 && wide.branchNames.count == 1001)
        let long = try ROOTFile(path: directory.appendingPathComponent(ROOTBenchmarkFiles.longTree.file).path).tree(ROOTBenchmarkFiles.longTree.tree)
        #expect(long.entries == 200 && long.branchNames == ["x"])
    }
}
