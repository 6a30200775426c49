import Foundation
import HEPMLColumnar
import HEPMLTestSupport
import Testing

/// `hepml root dump` through the columnar writers. Expected values are the spec §9 HZZ facts
/// (NJet 0,1,0,3,2,2; Jet_Px[1] = [-38.874714]; Jet_Px[3] = [-71.69521, 36.606369, -28.866419]) and the
/// five entries of `uproot-vectorVectorDouble.root` as uproot 5.7.7 reads them.
@Suite struct RootDumpTests {
    static let njet: [Int32] = [0, 1, 0, 3, 2, 2]
    static let jetPxOffsets = [0, 0, 1, 1, 4, 6, 8]

    func dump(_ file: URL, _ arguments: [String], to name: String, in directory: URL) throws -> (status: Int32, output: String, path: String) {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let output = directory.appendingPathComponent(name).path
        let result = try TestEnvironment.run(hepml, ["root", "dump", file.path + ":" + arguments[0]] + arguments.dropFirst() + ["--to", output])
        return (result.status, result.output, output)
    }

    @Test(.requiresShared, arguments: ["hzz.parquet", "hzz.npz"])
    func jaggedBranchesBecomeListColumns(output: String) throws {
        let file = try TestEnvironment.rootTestFile("uproot-HZZ.root")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try dump(file, ["events", "--branches", "NJet,Jet_Px,Jet_ID,MET_px", "--entries", "0:6"], to: output, in: directory)
        try #require(result.status == 0, "\(result.output)")
        let table = try TableFile.read(path: result.path)
        #expect(table.columnNames == ["NJet", "Jet_Px", "Jet_ID", "MET_px"])
        #expect(table.rowCount == 6)
        #expect(try table.column("NJet").int32Values == RootDumpTests.njet)
        let px = try table.column("Jet_Px")
        #expect(px.type == .list(.float32))
        #expect(px.listOffsets == [RootDumpTests.jetPxOffsets])
        let values = try #require(px.float32Values)
        #expect(Array(values[0..<1]) == [-38.874714])
        #expect(Array(values[1..<4]) == [-71.69521, 36.606369, -28.866419])
        let id = try table.column("Jet_ID")
        #expect(id.type == .list(.int32) && id.int32Values == [Int32](repeating: 1, count: 8))
        #expect(try table.column("MET_px").type == .float32)
    }

    @Test(.requiresShared) func vectorOfVectorsBecomesListOfLists() throws {
        let file = try TestEnvironment.rootTestFile("uproot-vectorVectorDouble.root")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["vv.parquet", "vv.npz"] {
            let result = try dump(file, ["t"], to: name, in: directory)
            try #require(result.status == 0, "\(result.output)")
            let column = try TableFile.read(path: result.path).column("x")
            #expect(column.type == .listOfLists(.float64))
            // [], [[], []], [[10], [], [10, 20]], [[20, -21, -22]], [[200], [-201], [202]]
            #expect(column.listOffsets == [[0, 0, 2, 5, 6, 9], [0, 0, 0, 1, 1, 3, 6, 7, 8, 9]])
            #expect(column.float64Values == [10, 10, 20, 20, -21, -22, 200, -201, 202])
        }
    }

    @Test(.requiresShared) func csvGetsOneRowPerJetWithEntryAndSubentry() throws {
        let file = try TestEnvironment.rootTestFile("uproot-HZZ.root")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let scalars = try dump(file, ["events", "--branches", "NJet,MET_px", "--entries", "0:6"], to: "hzz.csv", in: directory)
        try #require(scalars.status == 0, "\(scalars.output)")
        let flat = try TableFile.read(path: scalars.path)
        #expect(flat.columnNames == ["NJet", "MET_px"] && flat.rowCount == 6)
        #expect(try flat.column("NJet")[3] == .int64(3))

        let jets = try dump(file, ["events", "--branches", "NJet,Jet_Px,Jet_ID,MET_px", "--entries", "0:6"], to: "jets.csv", in: directory)
        try #require(jets.status == 0, "\(jets.output)")
        let table = try TableFile.read(path: jets.path)
        #expect(table.columnNames == ["entry", "subentry", "NJet", "Jet_Px", "Jet_ID", "MET_px"])
        #expect(try table.column("entry").int64Values == [1, 3, 3, 3, 4, 4, 5, 5])
        #expect(try table.column("subentry").int64Values == [0, 0, 1, 2, 0, 1, 0, 1])
        #expect(try table.column("NJet").int64Values == [1, 3, 3, 3, 2, 2, 2, 2])
        let px = try #require(try table.column("Jet_Px").float64Values)
        #expect(px.count == 8 && abs(px[0] + 38.874714) < 1e-5 && abs(px[3] + 28.866419) < 1e-5)

        let mixed = try dump(file, ["events", "--branches", "Jet_Px,Muon_Px"], to: "mixed.csv", in: directory)
        #expect(mixed.status != 0 && mixed.output.contains("share a counter"), "\(mixed.output)")
        #expect(!FileManager.default.fileExists(atPath: mixed.path))
    }

    @Test(.requiresShared, .requiresPython) func pandasReadsTheParquetDump() throws {
        let file = try TestEnvironment.rootTestFile("uproot-HZZ.root")
        let python = try TestEnvironment.python()
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try dump(file, ["events", "--branches", "NJet,Jet_Px", "--entries", "0:6"], to: "hzz.parquet", in: directory)
        try #require(result.status == 0, "\(result.output)")
        let script = """
        import sys, json, pandas as pd
        frame = pd.read_parquet(sys.argv[1])
        print(json.dumps({"njet": [int(n) for n in frame["NJet"]],
                          "px3": [repr(float(x)) for x in frame["Jet_Px"][3]], "dtype": str(frame["Jet_Px"][3].dtype)}))
        """
        let read = try TestEnvironment.runPython(python, script: script, arguments: [result.path])
        try #require(read.status == 0, "\(read.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(read.output.utf8)) as? [String: Any])
        #expect(json["njet"] as? [Int] == RootDumpTests.njet.map(Int.init))
        #expect((json["px3"] as? [String])?.compactMap(Float.init) == [-71.69521, 36.606369, -28.866419])
        #expect(json["dtype"] as? String == "float32")
    }

    /// Wildcards and --entry-start/--entry-stop select; a .root output is a tree again; the
    /// default set names what it leaves out on standard error instead of failing.
    @Test(.requiresShared) func wildcardsEntryRangesAndROOTOutput() throws {
        let file = try TestEnvironment.rootTestFile("uproot-HZZ.root")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let parquet = try dump(file, ["events", "--branches", "NJet,Jet_P*", "--entry-start", "2", "--entry-stop", "6"], to: "w.parquet", in: directory)
        try #require(parquet.status == 0, "\(parquet.output)")
        let table = try TableFile.read(path: parquet.path)
        #expect(table.columnNames == ["NJet", "Jet_Px", "Jet_Py", "Jet_Pz"])
        #expect(try table.column("NJet").int32Values == Array(RootDumpTests.njet[2...]))

        let root = try dump(file, ["events", "--branches", "NJet,Jet_Px", "--entries", "0:6", "--compression", "lz4"], to: "copy.root", in: directory)
        try #require(root.status == 0, "\(root.output)")
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let back = try TestEnvironment.run(hepml, ["root", "dump", root.path + ":events", "--branches", "NJet,Jet_Px", "--to", directory.appendingPathComponent("back.parquet").path])
        try #require(back.status == 0, "\(back.output)")
        let copied = try TableFile.read(path: directory.appendingPathComponent("back.parquet").path)
        #expect(try copied.column("NJet").int32Values == RootDumpTests.njet)
        #expect(try copied.column("Jet_Px").listOffsets == [RootDumpTests.jetPxOffsets])

        // The split-class tree: std::vector<std::string> has no table column, so it is left out by name.
        let split = try dump(try TestEnvironment.rootTestFile("uproot-small-evnt-tree-fullsplit.root"), ["tree"], to: "split.parquet", in: directory)
        try #require(split.status == 0, "\(split.output)")
        #expect(split.output.contains("left out StlVecStr: "))
        #expect(try !TableFile.read(path: split.path).columnNames.contains("StlVecStr"))
        let named = try dump(try TestEnvironment.rootTestFile("uproot-small-evnt-tree-fullsplit.root"), ["tree", "--branches", "StlVecStr"], to: "named.parquet", in: directory)
        #expect(named.status != 0 && named.output.contains("uproot-small-evnt-tree-fullsplit.root") && named.output.contains("tree/StlVecStr"))
    }

    /// `root scan` prints TTree::Scan's rows: one per jet, with the entry's scalars repeated.
    @Test(.requiresShared) func scanPrintsOneRowPerInstance() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let file = try TestEnvironment.rootTestFile("uproot-HZZ.root").path
        let result = try TestEnvironment.run(hepml, ["root", "scan", file + ":events", "--branches", "NJet,Jet_Px", "--entries", "3:4"])
        try #require(result.status == 0, "\(result.output)")
        let rows = result.output.split(separator: "\n").filter { $0.hasPrefix("*") && !$0.hasPrefix("**") }.map { $0.split(separator: "*").map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(rows.first == ["Row", "Instance", "NJet", "Jet_Px"])
        #expect(rows.dropFirst().map { $0[0] + " " + $0[1] + " " + $0[2] } == ["3 0 3", "3 1 3", "3 2 3"])
        #expect(rows.dropFirst().map { Float($0[3]) } == [-71.69521, 36.606369, -28.866419])
    }
}
