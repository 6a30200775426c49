import Foundation
import HEPMLCore
import HEPMLROOT
import HEPMLTestSupport
import Testing

/// Opens a shared C++-ROOT-written test file (tests marked `.requiresShared`).
func sharedFile(_ name: String) throws -> ROOTFile {
    try ROOTFile(path: TestEnvironment.rootTestFile(name).path)
}

func column(_ columns: [ColumnArray], _ name: String) throws -> ColumnArray {
    try #require(columns.first { $0.name == name })
}

func doubles(_ column: ColumnArray) -> [Double] { (0..<column.values.count).map { column.values.double(at: $0) } }

/// Items of jagged entry `i` as doubles.
func entry(_ column: ColumnArray, _ i: Int) -> [Double] {
    guard let offsets = column.offsets else { return [] }
    return (offsets[i]..<offsets[i + 1]).map { column.values.double(at: $0) }
}

@Suite struct ReaderTests {
    @Test(.requiresShared) func everySharedFileIsListedAndFullyRead() throws {
        let directory = try TestEnvironment.sharedDirectory()
        let root = directory.appendingPathComponent("testdata/root")
        let names = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".root") }.sorted()
        #expect(names.count >= 20)
        // Plus the C++ ROOT files of ../shared/repro that once broke the reader.
        let repro = directory.appendingPathComponent("repro")
        let reproNames = ((try? FileManager.default.contentsOfDirectory(atPath: repro.path)) ?? []).filter { $0.hasSuffix(".root") }.sorted()
        #expect(reproNames.contains("uproot-issue21.root"))
        let paths = names.map { root.appendingPathComponent($0).path } + reproNames.map { repro.appendingPathComponent($0).path }
        for path in paths {
            let name = URL(fileURLWithPath: path).lastPathComponent
            let file = try ROOTFile(path: path)
            let keys = try file.keys()
            #expect(!keys.isEmpty, "\(name) lists no keys")
            let histogramPaths = keys.filter { $0.className.hasPrefix("TH") || $0.className.hasPrefix("TProfile") }.map(\.path)
            let axes = Dictionary(zip(histogramPaths, file.histogramAxes(histogramPaths)), uniquingKeysWith: { first, _ in first })
            for key in keys {
                if key.className.hasPrefix("TH") || key.className.hasPrefix("TProfile") {
                    let histogram = try file.histogram(key.path)
                    #expect(histogram.contents.count == histogram.cellCount)
                    #expect(try axes[key.path]?.get() == Array([histogram.xAxis, histogram.yAxis, histogram.zAxis].prefix(histogram.dimension)),
                            "\(name) \(key.path)")
                } else if key.className == "TTree" {
                    let tree = try file.tree(key.path)
                    for column in try tree.arrays() {
                        #expect(column.entryCount == tree.entries, "\(name) \(key.path)/\(column.name)")
                    }
                }
            }
        }
    }

    /// `histogramAxes` inflates only the start of an object when the axes lie in it, and the whole
    /// object when they reach further (many bin labels, long variable edges); either way it must
    /// give the axes of a full read, compressed or not.
    @Test(arguments: [ROOTWriter.Compression.none, .zlib(level: 1), .zstd(level: 5)])
    func histogramAxesAgreeWithFullReads(compression: ROOTWriter.Compression) throws {
        let directory = try TestEnvironment.temporaryDirectory("root-axes")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("axes.root").path
        let labels = Dictionary(uniqueKeysWithValues: (1...150).map { ($0, "a fairly long label of bin \($0)") })
        let labelled = Axis(binCount: 150, minimum: 0, maximum: 150, labels: labels)
        let variable = Axis(binCount: 300, minimum: 0, maximum: 300, variableEdges: (0...300).map { Double($0) })
        let square = Axis(binCount: 50, minimum: -1, maximum: 1)
        let histograms = sampleHistograms() + [
            ("labelled", Histogram(className: "TH1F", name: "labelled", xAxis: labelled, contents: Array(repeating: 1, count: 152), entries: 150)),
            ("variable", Histogram(className: "TH1D", name: "variable", xAxis: variable, contents: Array(repeating: 2, count: 302), entries: 300)),
            ("square", Histogram(className: "TH2F", name: "square", title: "50 × 50", xAxis: square,
                                 yAxis: Axis(name: "yaxis", title: "y [cm]", binCount: 50, minimum: 0, maximum: 5),
                                 contents: (0..<(52 * 52)).map { Double($0 % 7) }, entries: 1)),
        ]
        let writer = ROOTWriter(path: path, compression: compression)
        for (objectPath, histogram) in histograms { try writer.write(histogram, to: objectPath) }
        try writer.close()
        let file = try ROOTFile(path: path)
        for (objectPath, axes) in zip(histograms.map(\.0), file.histogramAxes(histograms.map(\.0))) {
            let histogram = try file.histogram(objectPath)
            #expect(try axes.get() == Array([histogram.xAxis, histogram.yAxis, histogram.zAxis].prefix(histogram.dimension)), "\(objectPath)")
        }
    }

    /// Every basket of `nllscan` is stored inside its TBranch (fBaskets), none as a key; values
    /// from uproot 5.7.
    @Test(.requiresShared) func embeddedBasketsAreRead() throws {
        let file = try ROOTFile(path: TestEnvironment.sharedDirectory().appendingPathComponent("repro/uproot-issue21.root").path)
        let tree = try file.tree("nllscan")
        #expect(tree.entries == 61)
        let columns = try tree.arrays()
        #expect(columns.map(\.name) == ["status", "nll", "mH", "mu_ggH", "mu_VBF", "mu_VH", "mu_ttH"])
        #expect(columns.allSatisfy { $0.entryCount == 61 })
        let mH = doubles(try column(columns, "mH"))
        #expect(mH.first == 124 && mH.last == 126 && mH[30] == 125)
        #expect(doubles(try column(columns, "status")) == [Double](repeating: 0, count: 61))
        let nll = doubles(try column(columns, "nll"))
        #expect(abs(nll[0] - -882339.66660106) < 1e-6 && abs(nll[60] - -882341.57848284) < 1e-6)
        // An entry range inside the embedded basket.
        let slice = try tree.arrays(branches: ["mu_ggH"], entries: 58..<61)
        #expect(doubles(slice[0]).map { ($0 * 1e8).rounded() / 1e8 } == [0.96666477, 0.95724944, 0.94679028])
    }

    @Test(.requiresShared) func histogramsFromSpecSection9() throws {
        let file = try sharedFile("uproot-histograms.root")
        let one = try file.histogram("one")
        #expect(one.title == "numero uno")
        #expect(one.contents == [0, 68, 285, 755, 1580, 2296, 2286, 1570, 795, 289, 76, 0])
        #expect(one.entries == 10000)
        #expect(one.xAxis.binCount == 10 && one.xAxis.minimum == -3 && one.xAxis.maximum == 3)
        #expect(one.variances == one.contents)  // Sumw2 off: Poisson
        #expect(try file.histogram("three").entries == 5)

        let cutflow = try sharedFile("uproot-issue33.root")
        let labels = try cutflow.histogram("cutflow").xAxis.labels
        #expect(labels.count == 7 && labels[1] == "Dijet" && labels[2] == "MET")

        let variable = try sharedFile("uproot-issue-722.root")
        let hist = try variable.histogram("hist")
        #expect(hist.className == "TH1D" && hist.xAxis.binCount == 27 && hist.xAxis.variableEdges.count == 28)
        #expect(hist.xAxis.labels.count == 27 && hist.sumw2.count == 29)

        let th3 = try sharedFile("TH3D.root")
        let cube = try th3.histogram("histogram")
        #expect(cube.dimension == 3 && cube.cellCount == 8448)
        #expect(cube.xAxis.binCount == 10 && cube.yAxis.binCount == 20 && cube.zAxis.binCount == 30)

        let dir = try sharedFile("uproot-issue-tbranch-of-th2.root")
        let h2 = try dir.histogram("g4SimHits/h")
        #expect(h2.dimension == 2 && h2.cellCount == 10404 && h2.sumw2.count == 10404)
        #expect(h2.valuesWithoutFlow.count == 10000)
    }

    @Test(.requiresShared) func twoDimensionalFlatteningIsXMajor() throws {
        let file = try sharedFile("histograms1d2d.root")
        let h = try file.histogram("myTH2F")
        let nx = h.xAxis.binCount, ny = h.yAxis.binCount
        let flat = h.valuesWithoutFlow
        for ix in 0..<nx {
            for iy in 0..<ny {
                #expect(flat[ix * ny + iy] == h.contents[(ix + 1) + (nx + 2) * (iy + 1)])
            }
        }
    }

    @Test(.requiresShared) func profiles() throws {
        let file = try sharedFile("uproot-issue-227a.root")
        let profile = try file.histogram("hprof2d")
        #expect(profile.dimension == 2 && profile.binEntries.count == profile.cellCount)
        #expect(profile.entries == 12)
    }

    @Test(.requiresShared) func hzzJaggedValuesAgreeAcrossCodecs() throws {
        var reference: [ColumnArray]?
        for name in ["uproot-HZZ.root", "uproot-HZZ-zlib.root", "uproot-HZZ-lz4.root"] {
            let file = try sharedFile(name)
            let tree = try file.tree("events")
            #expect(tree.entries == 2421)
            let columns = try tree.arrays()
            let njet = try column(columns, "NJet")
            #expect(doubles(njet).prefix(6) == [0, 1, 0, 3, 2, 2])
            let px = try column(columns, "Jet_Px")
            #expect(entry(px, 1) == [Double(Float(-38.874714))])
            #expect(entry(px, 3) == [-71.69521, 36.606369, -28.866419].map { Double(Float($0)) })
            #expect(entry(try column(columns, "Muon_Px"), 0).first == Double(Float(-52.899456)))
            if let reference { #expect(columns == reference, "\(name) differs from uproot-HZZ.root") } else { reference = columns }
        }
    }

    @Test(.requiresShared) func zmumuAcrossZstdAndStrings() throws {
        let plain = try sharedFile("uproot-Zmumu.root"), zstd = try sharedFile("uproot-Zmumu-zstd.root")
        let a = try plain.tree("events").arrays(), b = try zstd.tree("events").arrays()
        #expect(a == b)
        #expect(a.count == 20)
        if case .string(let types) = try column(a, "Type").values { #expect(Set(types).isSubset(of: ["GT", "TT", "GG"])) }
    }

    @Test(.requiresShared) func sampleVersionsAndCodecs() throws {
        var reference: [ColumnArray]?
        for name in ["uproot-sample-6.20.04-zlib.root", "uproot-sample-6.20.04-lzma.root", "uproot-sample-6.20.04-lz4.root"] {
            let file = try sharedFile(name)
            let columns = try file.tree("sample").arrays()
            #expect(columns.count >= 35)
            let i4 = try column(columns, "i4")
            #expect(doubles(i4) == (-15..<15).map(Double.init))
            let ai4 = try column(columns, "ai4")
            #expect(ai4.itemShape == [3] && ai4.values.count == 90)
            let u8 = try column(columns, "u8")
            if case .uint64 = u8.values {} else { Issue.record("u8 should be uint64") }
            if let reference { #expect(columns == reference) } else { reference = columns }
        }
    }

    @Test(.requiresShared) func leafListSmallFlatTreeAndVectors() throws {
        let leaflist = try sharedFile("uproot-leaflist.root")
        let columns = try leaflist.tree("tree").arrays()
        #expect(columns.map(\.name).contains("leaflist.x"))
        #expect(try column(columns, "leaflist.x").values.count == 5)

        let flat = try sharedFile("uproot-small-flat-tree.root")
        let flatColumns = try flat.tree("tree").arrays()
        let slice = try column(flatColumns, "SliceInt32")
        let n = try column(flatColumns, "N")
        for i in 0..<100 { #expect(entry(slice, i).count == Int(n.values.double(at: i))) }
        if case .uint32 = try column(flatColumns, "UInt32").values {} else { Issue.record("UInt32 should be unsigned") }

        let vv = try sharedFile("uproot-vectorVectorDouble.root")
        let x = try column(try vv.tree("t").arrays(), "x")
        #expect(x.innerOffsets != nil && x.entryCount == 5)
    }

    @Test(.requiresShared) func directoriesCyclesAndRanges() throws {
        let file = try sharedFile("uproot-nesteddirs.root")
        let paths = try file.keys().map(\.path)
        #expect(paths.contains("one/two/tree") && paths.contains("three/tree"))
        #expect(try file.tree("one/two/tree;1").entries == 100)
        #expect(try file.keys(under: "one", recursive: false).map(\.path) == ["one/two", "one/tree"])
        let tree = try file.tree("one/tree")
        let part = try tree.arrays(branches: ["one"], entries: 1..<3)
        #expect(doubles(part[0]) == [2, 3])
        #expect(throws: FileFormatError.self) { try file.histogram("one/nothing") }
    }

    /// `std::vector<T>` and `std::string` members of a split class, whose types only the class's
    /// TStreamerInfo gives. Expected values were derived with uproot 5.7.7 at development time
    /// (`tree[b].array(library="np")`): entry i holds i % 10 copies of i (`vec-%03d` for strings),
    /// and StdStr is `std-%03d`.
    @Test(.requiresShared) func splitClassSTLMembersUseStreamerInfo() throws {
        let file = try sharedFile("uproot-small-evnt-tree-fullsplit.root")
        let tree = try file.tree("tree")
        let summaries = Dictionary(tree.branchSummaries().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(summaries["StlVecI16"]?.typeName == "var * int16")
        #expect(summaries["StlVecStr"]?.typeName == "var * string")
        #expect(summaries["StdStr"]?.typeName == "string")
        let names = ["StdStr", "StlVecI16", "StlVecI32", "StlVecI64", "StlVecU16", "StlVecU32", "StlVecU64", "StlVecF32", "StlVecF64", "StlVecStr"]
        let columns = try tree.arrays(branches: names)
        #expect(columns.allSatisfy { $0.entryCount == 100 })
        #expect(try column(columns, "StdStr").values == .string((0..<100).map { "std-" + String(format: "%03d", $0) }))
        for name in names.dropFirst().dropLast() {
            let vector = try column(columns, name)
            for i in [0, 1, 2, 9, 10, 57, 99] {
                #expect(entry(vector, i) == [Double](repeating: Double(i), count: i % 10), "\(name)[\(i)]")
            }
        }
        if case .int16 = try column(columns, "StlVecI16").values {} else { Issue.record("StlVecI16 is not int16") }
        if case .uint64 = try column(columns, "StlVecU64").values {} else { Issue.record("StlVecU64 is not uint64") }
        let strings = try column(columns, "StlVecStr")
        let offsets = try #require(strings.offsets)
        guard case .string(let texts) = strings.values else { Issue.record("StlVecStr is not a string column"); return }
        #expect(Array(texts[offsets[2]..<offsets[3]]) == ["vec-002", "vec-002"])
        #expect(Array(texts[offsets[99]..<offsets[100]]) == [String](repeating: "vec-099", count: 9))
        #expect(offsets[1] == 0)
    }

    /// Branches are selected as uproot names them: full paths, unique names, wildcards (against
    /// names, or full paths when the pattern has a `/`), and a split object's parent for its members.
    @Test(.requiresShared) func branchesAreSelectedByUprootPathsNamesAndWildcards() throws {
        let tree = try sharedFile("uproot-small-evnt-tree-fullsplit.root").tree("tree")
        let px = try #require(tree.allBranches.first { $0.name == "P3.Px" })
        #expect(tree.fullPath(of: px) == "evt/P3/P3.Px")
        #expect(try tree.branches(matching: ["evt/P3/P3.Px"]).map(\.name) == ["P3.Px"])
        #expect(try tree.branches(matching: ["P3.Px", "evt/I32"]).map(\.name) == ["P3.Px", "I32"])
        #expect(try tree.branches(matching: ["evt/P3"]).map(\.name) == ["P3.Px", "P3.Py", "P3.Pz"])
        #expect(try tree.branches(matching: ["StlVec*"]).map(\.name) == ["StlVecI16", "StlVecI32", "StlVecI64", "StlVecU16", "StlVecU32",
                                                                          "StlVecU64", "StlVecF32", "StlVecF64", "StlVecStr"])
        #expect(try tree.branches(matching: ["evt/P3/*", "P3.Px"]).map(\.name) == ["P3.Px", "P3.Py", "P3.Pz"])
        let error = #expect(throws: FileFormatError.self) { try tree.branches(matching: ["Nope*"]) }
        #expect(error?.reason == "no such branch" && error?.object == "tree/Nope*")
        // Every listed name can be passed back.
        let listed = tree.branchSummaries().filter(\.isSupported).map(\.name)
        #expect(try tree.arrays(branches: listed, entries: 0..<5).count >= listed.count)

        let hzz = try sharedFile("uproot-HZZ.root").tree("events")
        #expect(try hzz.arrays(branches: ["Jet_P*"], entries: 0..<10).map(\.name) == ["Jet_Px", "Jet_Py", "Jet_Pz"])
    }
}
