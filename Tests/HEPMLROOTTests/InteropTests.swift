import Foundation
import HEPMLCore
import HEPMLROOT
import HEPMLTestSupport
import Testing

/// uproot reads what HEPML writes and HEPML reads what uproot writes; values must agree exactly.
/// Python prints numbers as `repr` strings because JSON number parsing may round; this parses them exactly.
func numbers(_ value: Any?) -> [Double] {
    ((value as? [String]) ?? []).map { Double($0) ?? .nan }
}

@Suite struct InteropTests {
    static let readScript = """
    import sys, json, uproot, numpy as np
    f = uproot.open(sys.argv[1])
    out = {"keys": sorted(k.split(";")[0] for k in f.keys()), "hist": {}, "tree": {}}
    for path, cls in f.classnames().items():
        path = path.split(";")[0]
        if cls.startswith("TH"):
            h = f[path]
            out["hist"][path] = {"values": [repr(float(v)) for v in h.values(flow=True).T.ravel()],
                                 "variances": [repr(float(v)) for v in h.variances(flow=True).T.ravel()],
                                 "edges": [repr(float(v)) for v in h.axis(0).edges()],
                                 "labels": [str(x) for x in h.axis(0).member("fLabels") or []],
                                 "entries": repr(float(h.member("fEntries"))), "xtitle": h.axis(0).member("fTitle")}
    import awkward as ak
    t = f["trees/events"]
    arrays = t.arrays(library="ak")
    for name in arrays.fields:
        out["tree"][name] = [repr(x) for x in ak.to_list(ak.flatten(arrays[name], axis=None))]
    out["entries"] = t.num_entries
    print(json.dumps(out))
    """

    static let writeScript = """
    import sys, numpy as np, awkward as ak, uproot
    rng = np.random.default_rng(5)
    with uproot.recreate(sys.argv[1]) as f:
        counts, edges = np.histogram(rng.normal(size=1000), bins=20, range=(-3, 3))
        f["top/hist1d"] = (counts.astype(np.float64), edges)
        c2, ex, ey = np.histogram2d(rng.normal(size=500), rng.normal(size=500), bins=(6, 4))
        f["top/inner/hist2d"] = (c2, ex, ey)
        n = 1500
        flat = {"i4": np.arange(n, dtype=np.int32) - 700, "u8": np.arange(n, dtype=np.uint64) * 3,
                "f4": rng.normal(size=n).astype(np.float32), "f8": rng.normal(size=n), "b": np.arange(n) % 3 == 0,
                "i2": (np.arange(n) % 300 - 150).astype(np.int16)}
        tree = f.mktree("flat", {name: array.dtype for name, array in flat.items()})
        tree.extend(flat)
        tree.extend(flat)  # a second basket per branch
        jag = ak.unflatten(rng.normal(size=2000).astype(np.float32), np.repeat([0, 1, 3], 500))
        jets = ak.zip({"pt": jag, "eta": jag * 2})
        f.mktree("dir/jagged", {"jet": jets.type.content}).extend({"jet": jets})
    """

    @Test(.requiresPython) func uprootReadsHEPMLFiles() throws {
        let python = try TestEnvironment.python()
        let directory = try TestEnvironment.temporaryDirectory("root-interop")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("hepml.root").path
        let writer = ROOTWriter(path: path)
        // Profiles are judged by C++ ROOT (CppROOTTests).
        let histograms = sampleHistograms().filter { !$0.1.isProfile }
        for (histogramPath, histogram) in histograms { try writer.write(histogram, to: histogramPath) }
        let branches = sampleColumns(entries: 1200, seed: 9)
        try writer.writeTree(branches, to: "trees/events", entriesPerBasket: 500)
        try writer.close()

        let result = try TestEnvironment.runPython(python, script: InteropTests.readScript, arguments: [path])
        try #require(result.status == 0, "\(result.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let keys = try #require(json["keys"] as? [String])
        #expect(keys.contains("DQMData/Run 1/Hcal/Run summary/h3F") && keys.contains("one/two/h2D"))
        let hists = try #require(json["hist"] as? [String: [String: Any]])
        for (histogramPath, histogram) in histograms {
            let read = try #require(hists[histogramPath])
            let expectedContents = histogram.className.hasSuffix("F") ? histogram.contents.map { Double(Float($0)) } : histogram.contents
            #expect(numbers(read["values"]) == expectedContents, "\(histogramPath)")
            #expect(numbers(read["variances"]) == histogram.variances, "\(histogramPath)")
            #expect(numbers(read["edges"]) == histogram.xAxis.edges)
            #expect(read["labels"] as? [String] == ["first", "last"])
            #expect((read["entries"] as? String).flatMap(Double.init) == histogram.entries)
            #expect(read["xtitle"] as? String == "x [GeV]")
        }
        #expect(json["entries"] as? Int == 1200)
        let tree = try #require(json["tree"] as? [String: Any])
        for branch in branches {
            let read = try #require(tree[branch.column.name] as? [String], "\(branch.column.name)")
            let values = branch.column.values
            let expected: [String] = (0..<values.count).map { i in
                switch values {
                case .bool(let flags): return flags[i] ? "True" : "False"
                case .float32, .float64: return "\(values.double(at: i))"
                default: return values.text(at: i)
                }
            }
            let isFloat: Bool
            switch values {
            case .float32, .float64: isFloat = true
            default: isFloat = false
            }
            let got = read.map { text in isFloat ? (Double(text).map { "\($0)" } ?? text) : text }
            #expect(got == expected, "\(branch.column.name)")
        }
    }

    @Test(.requiresPython) func hepmlReadsUprootFiles() throws {
        let python = try TestEnvironment.python()
        let directory = try TestEnvironment.temporaryDirectory("root-interop")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("uproot.root").path
        let written = try TestEnvironment.runPython(python, script: InteropTests.writeScript, arguments: [path])
        try #require(written.status == 0, "\(written.output)")
        let dump = """
        import sys, json, uproot, awkward as ak
        f = uproot.open(sys.argv[1])
        r = lambda values: [repr(float(v)) for v in values]
        out = {"h1": r(f["top/hist1d"].values(flow=True)), "h2": r(f["top/inner/hist2d"].values().ravel()),
               "e1": r(f["top/hist1d"].axis().edges())}
        for name in ["flat", "dir/jagged"]:
            t = f[name]
            for b in t.keys():
                out[name + ":" + b] = r(ak.flatten(t[b].array(), axis=None))
        print(json.dumps(out))
        """
        let result = try TestEnvironment.runPython(python, script: dump, arguments: [path])
        try #require(result.status == 0, "\(result.output)")
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])

        let file = try ROOTFile(path: path)
        let h1 = try file.histogram("top/hist1d")
        #expect(h1.contents == numbers(expected["h1"]))
        #expect(h1.xAxis.edges == numbers(expected["e1"]))
        let h2 = try file.histogram("top/inner/hist2d")
        #expect(h2.valuesWithoutFlow == numbers(expected["h2"]))
        for treePath in ["flat", "dir/jagged"] {
            let tree = try file.tree(treePath)
            for column in try tree.arrays() {
                let want = numbers(expected["\(treePath):\(column.name)"])
                #expect(!want.isEmpty && doubles(column) == want, "\(treePath):\(column.name)")
            }
        }
    }
}
