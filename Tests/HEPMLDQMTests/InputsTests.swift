import Foundation
import HEPMLCore
import HEPMLTestSupport
import Testing
@testable import HEPMLDQM

@Suite struct FileNameTests {
    @Test func parsesOfflineAndOnlineNames() throws {
        let name = try #require(DQMFileName("/data/DQM_V0001_R000355872__HLTPhysics__Run2022C-PromptReco-v1__DQMIO.root"))
        #expect(name.run == 355872)
        #expect(name.primaryDataset == "HLTPhysics")
        #expect(name.processing == "Run2022C-PromptReco-v1")
        #expect(name.year == 2022 && name.era == "C")
        let online = try #require(DQMFileName("DQM_V0001_SiStrip_R000351871.root"))
        #expect(online.run == 351871 && online.primaryDataset == nil)
        #expect(DQMFileName("notes.root") == nil)
        #expect(DQMFileName("DQM_V0001_R__X__Run2022C__DQMIO.root") == nil)
        #expect(DQMFileName.standardName(run: 355872, primaryDataset: "HLTPhysics", processing: "Run2022C-PromptReco-v1")
            == "DQM_V0001_R000355872__HLTPhysics__Run2022C-PromptReco-v1__DQMIO.root")
    }

    @Test func choosesOneFilePerRunByPreference() throws {
        func file(_ run: Int, _ processing: String, pd: String = "ZeroBias") -> String {
            "/d/" + DQMFileName.standardName(run: run, primaryDataset: pd, processing: processing)
        }
        let files = [
            file(1, "Run2023D-PromptReco-v1"), file(1, "Run2023D-10Dec2023-v1"), file(1, "Run2023D-22Jan2024-v2"),
            file(2, "Run2023D-10Dec2023-v1"), file(2, "Run2023D-22Jan2024-v1"),
            file(3, "Run2023D-UL2023-v1"), file(3, "Run2023D-PromptReco-v1"),
            file(4, "Run2023D-PromptReco-v1", pd: "Muon"),
            file(5, "Run2023C-PromptReco-v1"),
            "/d/DQM_V0001_R000000006__ZeroBias__Run2023D-PromptReco-v1-pilot__DQMIO.root",
        ]
        var settings = DQMDatasets.Year(productions: [""], eras: ["D"], badRuns: [2])
        let chosen = try DQMFileSelection.select(files: files, primaryDataset: "ZeroBias", year: "2023", settings: settings)
        #expect(chosen.files.map(\.run) == [1, 2, 3])
        #expect(chosen.files.map(\.path) == [file(1, "Run2023D-PromptReco-v1"), file(2, "Run2023D-22Jan2024-v1"), file(3, "Run2023D-UL2023-v1")])
        // Only bad runs listed: every other run is good (the clean v1 semantics).
        #expect(chosen.files.map(\.label) == [.good, .bad, .good])

        settings = DQMDatasets.Year(productions: ["10Dec2023"], runs: [1, 2, 3, 7])
        let pinned = try DQMFileSelection.select(files: files, primaryDataset: "ZeroBias", year: "2023", settings: settings)
        #expect(pinned.files.map(\.path) == [file(1, "Run2023D-10Dec2023-v1"), file(2, "Run2023D-10Dec2023-v1")])
        #expect(pinned.missingRuns == [3, 7])
        #expect(pinned.files.allSatisfy { $0.label == .unknown })
    }

    @Test func labelSemantics() throws {
        let runs = [1, 2, 3]
        #expect(try RunLabel.assign(runs: runs, goodRuns: [1], badRuns: nil) == [1: .good, 2: .bad, 3: .bad])
        #expect(try RunLabel.assign(runs: runs, goodRuns: [1], badRuns: [2]) == [1: .good, 2: .bad, 3: .unknown])
        #expect(try RunLabel.assign(runs: runs, goodRuns: nil, badRuns: nil) == [1: .unknown, 2: .unknown, 3: .unknown])
        #expect(throws: DQMError.self) { try RunLabel.assign(runs: runs, goodRuns: [1], badRuns: [1]) }
    }
}

@Suite struct JSONInputTests {
    @Test func contentsKeepColumnNamesVerbatim() throws {
        let text = #"{"L1T": ["/Run summary/L1TStage2CaloLayer1/ecalOccupancy", "/Run summary/L1TStage2uGMT/ugmtMuonEta"], "DT": ["Run summary/02-Segments/segments"]}"#
        let contents = try DQMContents(json: Data(text.utf8), file: "c.json")
        #expect(contents.histograms.map(\.columnName) == ["DT/Run summary/02-Segments/segments", "L1T//Run summary/L1TStage2CaloLayer1/ecalOccupancy", "L1T//Run summary/L1TStage2uGMT/ugmtMuonEta"])
        let ecal = contents.histograms[1]
        #expect(ecal.objectPath(run: 355872) == "DQMData/Run 355872/L1T/Run summary/L1TStage2CaloLayer1/ecalOccupancy")
        #expect(ecal.sanitizedName == "L1TRunsummaryL1TStage2CaloLayer1ecalOccupancy")
        #expect(try DQMContents(json: contents.jsonData(), file: "again") == contents)
        #expect(throws: FileFormatError.self) { try DQMContents(json: Data(#"{"L1T": "x"}"#.utf8), file: "bad.json") }
    }

    @Test func datasetsSchema() throws {
        let text = #"""
        {"primary_datasets": ["HLTPhysics"], "years": {"2022": {"productions": [""], "eras": ["C"],
         "runs": ["355872", "355873"], "good_runs": ["355872"], "bad_runs": ["355873"], "comments": "paper set"}}}
        """#
        let datasets = try DQMDatasets(json: Data(text.utf8), file: "d.json")
        let year = try #require(datasets.years["2022"])
        #expect(datasets.primaryDatasets == ["HLTPhysics"])
        #expect(year.runs == [355872, 355873] && year.goodRuns == [355872] && year.badRuns == [355873])
        #expect(try DQMDatasets(json: datasets.jsonData(), file: "again") == datasets)
        #expect(String(decoding: try datasets.jsonData(), as: UTF8.self).contains(#""355872""#))
        let missingProductions = #"{"primary_datasets": ["X"], "years": {"2022": {"eras": ["C"]}}}"#
        #expect(throws: FileFormatError.self) { try DQMDatasets(json: Data(missingProductions.utf8), file: "d.json") }
        #expect(throws: FileFormatError.self) { try DQMDatasets(json: Data(#"{"years": {}}"#.utf8), file: "d.json") }
        let badRun = #"{"primary_datasets": ["X"], "years": {"2022": {"productions": [""], "runs": ["12a"]}}}"#
        #expect(throws: FileFormatError.self) { try DQMDatasets(json: Data(badRun.utf8), file: "d.json") }
    }
}

@Suite struct DiscoveryTests {
    @Test func directoriesGlobsAndLists() throws {
        let root = try TestEnvironment.temporaryDirectory("dqm-discovery")
        defer { try? FileManager.default.removeItem(at: root) }
        let nested = root.appendingPathComponent("a/b")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        for path in ["a/one.root", "a/b/two.root", "a/b/skip.txt", "a/b/x.dqminfo.root", "three.root"] {
            try Data().write(to: root.appendingPathComponent(path))
        }
        let base = root.path
        #expect(try DQMInputDiscovery.rootFiles(in: [base + "/a"]) == [base + "/a/b/two.root", base + "/a/one.root"])
        #expect(try DQMInputDiscovery.rootFiles(in: [base + "/*.root"]) == [base + "/three.root"])
        try "# inputs\nthree.root\n\(base)/a/one.root  # absolute\n\n".write(toFile: base + "/list.txt", atomically: true, encoding: .utf8)
        #expect(try DQMInputDiscovery.rootFiles(in: [base + "/list.txt"]) == [base + "/a/one.root", base + "/three.root"])
        #expect(throws: DQMError.self) { try DQMInputDiscovery.rootFiles(in: [base + "/missing"]) }
        #expect(throws: DQMError.self) { try DQMInputDiscovery.rootFiles(in: [base + "/*.none"]) }
    }
}

@Suite struct HistogramTests {
    @Test func rootStorageDropsFlowAndIsRowMajor() throws {
        // 2×3 bins: ROOT stores (2+2)×(3+2) values, x fastest; value = 10·ix + iy for real bins.
        var storage = [Double](repeating: -1, count: 4 * 5)
        for ix in 1...2 { for iy in 1...3 { storage[ix + 4 * iy] = Double(10 * ix + iy) } }
        let histogram = try DQMHistogram(rootStorage: storage, xEdges: [0, 1, 2], yEdges: [0, 1, 2, 3])
        #expect(histogram.contents == [11, 12, 13, 21, 22, 23])
        #expect(histogram.shape == [2, 3])
        let oneD = try DQMHistogram(rootStorage: [5, 1, 2, 3, 7], xEdges: Binning.uniformEdges(count: 3, lower: 0, upper: 3))
        #expect(oneD.contents == [1, 2, 3] && oneD.entries == 6 && !oneD.isTwoDimensional)
        #expect(throws: DQMError.self) { try DQMHistogram(rootStorage: [1, 2], xEdges: [0, 1, 2]) }
        #expect(throws: DQMError.self) { try DQMHistogram(xEdges: [0], contents: []) }
    }
}
