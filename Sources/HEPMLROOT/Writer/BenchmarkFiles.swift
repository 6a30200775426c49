import HEPMLCore

/// The files of the ROOT reading benchmarks (`hepml bench root`, `hepml bench dqm`), written by
/// this writer with fixed seeds so that every run, and the Python peers in bench/ (uproot,
/// AutoDQM_ML), read the same bytes.
public enum ROOTBenchmarkFiles {
    /// Object paths of the DQM-style histograms of one file, `DQMData/Run <run>/<subsystem>/Run
    /// summary/FolderK/h<i>`, over eight subsystems and 25 folders; every tenth is a 2D histogram.
    /// bench/uproot_reference.py builds the same list.
    public static func dqmHistogramPaths(count: Int, run: Int) -> [(path: String, is2D: Bool)] {
        let subsystems = ["Hcal", "Ecal", "Pixel", "SiStrip", "Muons", "JetMET", "Tracking", "L1T"]
        return (0..<count).map { i in
            let subsystem = subsystems[i % subsystems.count]
            return ("DQMData/Run \(run)/\(subsystem)/Run summary/Folder\(i % 25)/h\(i)", i % 10 == 9)
        }
    }

    /// The DQM-style file number `index` in `directory` and the run it holds.
    public static func dqmFile(_ index: Int, in directory: String) -> (path: String, run: Int) {
        ("\(directory)/dqm_\(index).root", 1000 + index)
    }

    /// The DQM-style files `dqmFile(0..<files)`: 90% TH1F of 100 bins and 10% TH2F 50×50 at
    /// `dqmHistogramPaths`, seeded per file; written in parallel. Returns their paths.
    @discardableResult
    public static func writeDQMFiles(in directory: String, files: Int, histograms: Int) throws -> [String] {
        let paths = (0..<files).map { dqmFile($0, in: directory).path }
        _ = try Parallel.map(files) { index -> Int in
            var random = SeededGenerator(seed: 42, stream: UInt64(index))
            let writer = ROOTWriter(path: paths[index])
            for (path, is2D) in dqmHistogramPaths(count: histograms, run: dqmFile(index, in: directory).run) {
                let name = String(path.split(separator: "/").last ?? "h")
                let histogram: Histogram
                if is2D {
                    let cells = (0..<(52 * 52)).map { _ in Double(random.next() % 50) }
                    histogram = Histogram(className: "TH2F", name: name, xAxis: Axis(binCount: 50, minimum: 0, maximum: 50),
                                          yAxis: Axis(name: "yaxis", binCount: 50, minimum: 0, maximum: 50), contents: cells, entries: cells.reduce(0, +))
                } else {
                    let cells = (0..<102).map { _ in Double(random.next() % 1000) }
                    histogram = Histogram(className: "TH1F", name: name, xAxis: Axis(binCount: 100, minimum: 0, maximum: 100), contents: cells, entries: cells.reduce(0, +))
                }
                try writer.write(histogram, to: path)
            }
            try writer.close()
            return index
        }
        return paths
    }

    /// `size` paths spread evenly over `all` (every k-th from the first), the subset a DQM fetch
    /// of a few monitored histograms reads; bench/uproot_reference.py picks the same ones.
    public static func evenlySpacedSubset(_ all: [String], size: Int) -> [String] {
        let step = max(1, all.count / max(1, size))
        return Array(stride(from: 0, to: all.count, by: step).map { all[$0] }.prefix(size))
    }

    /// File names and tree names of the whole-tree benchmarks.
    public static let wideTree = (file: "nano.root", tree: "Events")
    public static let longTree = (file: "long.root", tree: "tree")

    /// The NanoAOD-like tree (900 flat float branches, 100 jagged ones sharing the counter `nJet`
    /// of 0–5 items per entry) and the long single-branch tree, as `wideTree` and `longTree` in
    /// `directory`.
    public static func writeTrees(in directory: String, wideEntries: Int, longEntries: Int) throws {
        var random = SeededGenerator(seed: 7)
        let wide = ROOTWriter(path: "\(directory)/\(wideTree.file)")
        let n = wideEntries
        var counts = [Int](repeating: 0, count: n)
        for i in 0..<n { counts[i] = Int(random.next() % 6) }
        var offsets = [0]
        for count in counts { offsets.append(offsets[offsets.count - 1] + count) }
        var branches: [TreeBranchData] = []
        for b in 0..<900 {
            branches.append(TreeBranchData(ColumnArray(name: "Event_f\(b)", values: .float32((0..<n).map { _ in Float(random.nextNormal()) }))))
        }
        for b in 0..<100 {
            branches.append(TreeBranchData(ColumnArray(name: "Jet_v\(b)", values: .float32((0..<offsets[n]).map { _ in Float(random.nextNormal()) }), offsets: offsets),
                                           counter: "nJet"))
        }
        try wide.writeTree(branches, to: wideTree.tree, entriesPerBasket: 5000)
        try wide.close()
        let long = ROOTWriter(path: "\(directory)/\(longTree.file)")
        try long.writeTree([TreeBranchData(ColumnArray(name: "x", values: .float32((0..<longEntries).map { _ in Float(random.nextNormal()) })))],
                           to: longTree.tree, entriesPerBasket: 100_000)
        try long.close()
    }
}
