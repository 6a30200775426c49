import Foundation
import HEPMLCore
@testable import HEPMLROOT
import HEPMLTestSupport
import Testing

/// The StreamerInfo record: parsed from C++ ROOT files, written by HEPML, read back by HEPML and uproot.
@Suite struct StreamerInfoTests {
    /// Files written by C++ ROOT 6.08–6.24 whose StreamerInfo lists cover every class the writer describes.
    static let referenceFiles = [
        "TH3D.root", "histograms1d2d.root", "uproot-issue-722.root", "uproot-issue-tbranch-of-th2.root", "uproot-issue-227a.root",
        "uproot-issue-222.root", "uproot-Zmumu-zstd.root", "uproot-sample-6.20.04-zlib.root", "uproot-HZZ-lz4.root",
        "uproot-leaflist.root", "uproot-nesteddirs.root", "uproot-small-evnt-tree-fullsplit.root",
    ]

    /// What identifies a member for C++ ROOT and uproot (titles are comments, sizes informational).
    static func signature(_ element: StreamerElement) -> String {
        "\(element.kind.rawValue) \(element.name) \(element.type) \(element.typeName) base=\(element.baseVersion)/\(element.baseChecksum) count=\(element.countName)/\(element.countClass)"
    }

    @Test(.requiresShared) func builtinDescriptionsMatchCppROOT() throws {
        var compared: Set<String> = []
        for name in StreamerInfoTests.referenceFiles {
            let path = try TestEnvironment.rootTestFile(name)
            let infos = try ROOTFile(path: path.path).streamerInfos()
            #expect(!infos.isEmpty, "\(name)")
            for info in infos {
                guard let builtin = BuiltinStreamers.byName[info.className], builtin.version == info.version else { continue }
                compared.insert(info.className)
                #expect(builtin.checksum == info.checksum, "\(info.className) checksum in \(name)")
                #expect(builtin.elements.map(StreamerInfoTests.signature) == info.elements.map(StreamerInfoTests.signature),
                        "\(info.className) members in \(name)")
                // The checksum rule reproduces what ROOT stored (the two collection bases are given explicitly).
                if !["THashList", "TSeqCollection"].contains(info.className) {
                    #expect(StreamerInfo.computeChecksum(className: info.className, elements: info.elements) == info.checksum, "\(info.className)")
                }
            }
        }
        // Every class C++ ROOT files in the corpus carry at our versions was compared; the rest
        // (TH1C/S/I, TH3F, TArrayC/S/I, …) use the same checksum rule.
        let expected: Set<String> = ["TObject", "TNamed", "TString", "TObjString", "TCollection", "TSeqCollection", "TList", "THashList",
                                     "TObjArray", "TAttLine", "TAttFill", "TAttMarker", "TAtt3D", "TAttAxis", "TArray", "TArrayF", "TArrayD",
                                     "TAxis", "TH1", "TH2", "TH3", "TH1F", "TH1D", "TH2F", "TH2D", "TH3D", "ROOT::TIOFeatures", "TLeaf",
                                     "TLeafO", "TLeafB", "TLeafS", "TLeafI", "TLeafL", "TLeafF", "TLeafD", "TBranch", "TTree"]
        #expect(expected.subtracting(compared).isEmpty, "not compared: \(expected.subtracting(compared).sorted())")
    }

    @Test func writtenFilesDescribeEveryClass() throws {
        let directory = try TestEnvironment.temporaryDirectory("root-streamers")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("streamers.root").path
        let writer = ROOTWriter(path: path)
        for (histogramPath, histogram) in sampleHistograms() { try writer.write(histogram, to: histogramPath) }
        try writer.writeTree(sampleColumns(entries: 50, seed: 1), to: "events", entriesPerBasket: 20)
        try writer.close()

        let infos = try ROOTFile(path: path).streamerInfos()
        let versions = Dictionary(infos.map { ($0.className, $0.version) }, uniquingKeysWith: { first, _ in first })
        let expected: [String: Int] = [
            "TH1F": 3, "TH1D": 3, "TH2F": 4, "TH2D": 4, "TH3F": 4, "TH3D": 4, "TH1": 8, "TH2": 5, "TH3": 6, "TAxis": 10, "TAttAxis": 4,
            "TNamed": 1, "TObject": 1, "TAttLine": 2, "TAttFill": 2, "TAttMarker": 2, "TAtt3D": 1, "TArray": 1, "TArrayF": 1, "TArrayD": 1,
            "THashList": 0, "TList": 5, "TSeqCollection": 0, "TCollection": 3, "TObjString": 1, "TTree": 20, "TBranch": 13, "TLeaf": 2,
            "TLeafO": 1, "TLeafB": 1, "TLeafS": 1, "TLeafI": 1, "TLeafL": 1, "TLeafF": 1, "TLeafD": 1, "TObjArray": 3,
            "ROOT::TIOFeatures": 1, "TProfile": 7, "TProfile2D": 8,
        ]
        for (name, version) in expected { #expect(versions[name] == version, "\(name)") }
        #expect(infos.count == Set(infos.map(\.className)).count, "each class described once")
        for info in infos { #expect(BuiltinStreamers.byName[info.className] == info, "\(info.className) round trip") }
        // Bases precede the classes that derive from them.
        let order = Dictionary(infos.enumerated().map { ($1.className, $0) }, uniquingKeysWith: { first, _ in first })
        for info in infos {
            for element in info.elements where element.kind == .base {
                #expect((order[element.name] ?? .max) < (order[info.className] ?? 0), "\(element.name) before \(info.className)")
            }
        }
    }

    @Test func histogramOnlyFileDescribesOnlyHistogramClasses() throws {
        let directory = try TestEnvironment.temporaryDirectory("root-streamers")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("h.root").path
        let writer = ROOTWriter(path: path, compression: .none)
        try writer.write(Histogram(className: "TH1D", name: "h", xAxis: Axis(binCount: 2, minimum: 0, maximum: 1), contents: [0, 1, 2, 0], entries: 3), to: "h")
        try writer.close()
        let names = Set(try ROOTFile(path: path).streamerInfos().map(\.className))
        #expect(names.contains("TH1D") && names.contains("TAxis") && names.contains("TArrayD"))
        #expect(!names.contains("TTree") && !names.contains("TH1F") && !names.contains("TObjString"))
    }

    /// uproot lists the records, and reads histograms and a tree with the models it generates from
    /// them: the built-in models of the histogram, axis and tree classes are withheld, so only the
    /// StreamerInfo written by HEPML tells uproot how to read those objects.
    @Test(.requiresPython) func uprootReadsThroughTheStreamers() throws {
        let python = try TestEnvironment.python()
        let directory = try TestEnvironment.temporaryDirectory("root-streamers")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("streamers.root").path
        let writer = ROOTWriter(path: path)
        // Profiles are left to C++ ROOT's judgement (CppROOTTests): uproot would read them with its built-in models.
        let histograms = sampleHistograms().filter { !$0.1.isProfile }
        for (histogramPath, histogram) in histograms { try writer.write(histogram, to: histogramPath) }
        let branches = sampleColumns(entries: 300, seed: 4)
        try writer.writeTree(branches, to: "trees/events", entriesPerBasket: 128)
        try writer.close()

        let script = """
        import sys, json, uproot
        f = uproot.open(sys.argv[1])
        streamers = {name: sorted(versions) for name, versions in f.file.streamers.items()}
        withheld = {"TH1", "TH2", "TH3", "TAxis", "TAttAxis", "TH1F", "TH1D", "TH2F", "TH2D", "TH3F", "TH3D", "TAttLine", "TAttFill", "TAttMarker",
                    "TTree", "TBranch", "TLeaf", "TLeafO", "TLeafB", "TLeafS", "TLeafI", "TLeafL", "TLeafF", "TLeafD"}
        classes = {name: cls for name, cls in uproot.classes.items() if name not in withheld}
        g = uproot.open(sys.argv[1], custom_classes=classes)
        out = {"streamers": streamers, "hist": {}, "generated": []}
        for path in sys.argv[2:]:
            h = g[path]
            out["generated"].append(type(h).__module__ + "." + type(h).__name__)
            out["hist"][path] = {"values": [repr(float(v)) for v in h.values(flow=True).T.ravel()],
                                 "entries": repr(float(h.member("fEntries"))), "title": h.member("fXaxis").member("fTitle"),
                                 "nbins": h.member("fXaxis").member("fNbins")}
        t = g["trees/events"]
        out["generated"].append(type(t).__module__ + "." + type(t).__name__)
        out["tree"] = {name: [repr(float(x)) for x in t[name].array(library="np").ravel()] for name in ["f64", "i32", "a3"]}
        out["jagged"] = [len(x) for x in t["jf"].array(library="np")]
        print(json.dumps(out))
        """
        let result = try TestEnvironment.runPython(python, script: script, arguments: [path] + histograms.map(\.0))
        try #require(result.status == 0, "\(result.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let streamers = try #require(json["streamers"] as? [String: [Int]])
        for (name, version) in ["TH1F": 3, "TH2D": 4, "TH3F": 4, "TH1": 8, "TAxis": 10, "TObjString": 1] {
            #expect(streamers[name] == [version], "\(name)")
        }
        let generated = try #require(json["generated"] as? [String])
        // Models generated from streamers are created in uproot's dynamic module, not uproot.models.
        #expect(generated.allSatisfy { !$0.hasPrefix("uproot.models.") }, "\(generated)")
        let hists = try #require(json["hist"] as? [String: [String: Any]])
        for (histogramPath, histogram) in histograms {
            let read = try #require(hists[histogramPath])
            let expected = histogram.className.hasSuffix("F") ? histogram.contents.map { Double(Float($0)) } : histogram.contents
            #expect(numbers(read["values"]) == expected, "\(histogramPath)")
            #expect((read["entries"] as? String).flatMap(Double.init) == histogram.entries)
            #expect(read["title"] as? String == "x [GeV]")
            #expect(read["nbins"] as? Int == 5)
        }
        let tree = try #require(json["tree"] as? [String: Any])
        for branch in branches where ["f64", "i32", "a3"].contains(branch.column.name) {
            let values = branch.column.values
            #expect(numbers(tree[branch.column.name]) == (0..<values.count).map { values.double(at: $0) }, "\(branch.column.name)")
        }
        let jagged = try #require(branches.first { $0.column.name == "jf" }?.column.offsets)
        #expect(json["jagged"] as? [Int] == zip(jagged.dropFirst(), jagged).map { $0 - $1 })
    }
}
