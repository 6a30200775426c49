import ArgumentParser
import Foundation
import HEPMLCore
import HEPMLROOT

/// `hepml bench root`: DQM-style histogram fetches and whole-tree reads over files written by
/// the HEPML writer; `bench/uproot_reference.py` runs uproot on the same files.
struct BenchROOT: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "root", abstract: "ROOT reading benchmark (DQM fetch and whole-tree reads).")

    @Option(help: "Directory for the generated files (kept; default: a fresh temporary directory, removed).") var directory: String?
    @Option(help: "Number of DQM files.") var files = 20
    @Option(help: "Histograms per DQM file (90% TH1F 100 bins, 10% TH2F 50×50).") var histograms = 2000
    @Option(help: "Size of the histogram subset fetched from every file.") var subset = 200
    @Option(help: "Entries of the NanoAOD-like tree (1,000 branches).") var wideEntries = 20000
    @Option(help: "Entries of the single-branch tree.") var longEntries = 1_000_000
    @Flag(help: "Reuse the files an earlier run left in --directory instead of writing them (for profiling the reader).") var reuse = false

    static func dqmPaths(count: Int, run: Int) -> [(path: String, is2D: Bool)] {
        let subsystems = ["Hcal", "Ecal", "Pixel", "SiStrip", "Muons", "JetMET", "Tracking", "L1T"]
        return (0..<count).map { i in
            let subsystem = subsystems[i % subsystems.count]
            return ("DQMData/Run \(run)/\(subsystem)/Run summary/Folder\(i % 25)/h\(i)", i % 10 == 9)
        }
    }

    /// The DQM-style benchmark files, `dqm_<i>.root` for run 1000 + i: 90% TH1F of 100 bins and
    /// 10% TH2F 50×50 under `DQMData/Run N/<subsystem>/Run summary/FolderK/`, seeded per file so
    /// that `hepml bench root` and `hepml bench dqm` read identical files. Returns their paths.
    @discardableResult
    static func writeDQMFiles(in base: String, files: Int, histograms: Int) throws -> [String] {
        let paths = (0..<files).map { "\(base)/dqm_\($0).root" }
        _ = try Parallel.map(files) { index -> Int in
            var random = SeededGenerator(seed: 42, stream: UInt64(index))
            let writer = ROOTWriter(path: paths[index])
            for (path, is2D) in dqmPaths(count: histograms, run: 1000 + index) {
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

    static func subsetPaths(_ all: [String], size: Int) -> [String] {
        let step = max(1, all.count / max(1, size))
        return Array(stride(from: 0, to: all.count, by: step).map { all[$0] }.prefix(size))
    }

    func run() throws {
        let keep = directory != nil
        let base = directory ?? NSTemporaryDirectory() + "hepml-bench-root-\(getpid())"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(atPath: base) } }
        print("hepml bench root: \(Parallel.threadCount) threads, files in \(base)")

        // 1. Write the DQM files (this also measures the writer).
        let fileCount = files, histogramCount = histograms
        let reusing = reuse && keep && FileManager.default.fileExists(atPath: "\(base)/long.root")
        var start = ResourceUsage.now()
        if !reusing { try BenchROOT.writeDQMFiles(in: base, files: fileCount, histograms: histogramCount) }
        let writeSeconds = ResourceUsage.now() - start
        if reusing {
            print("write: skipped, reusing the files in \(base)")
        } else {
            print(String(format: "write: %d files × %d histograms in %.2f s (%.0f histograms/s)", fileCount, histogramCount, writeSeconds,
                         Double(fileCount * histogramCount) / writeSeconds))
        }

        // 2. DQM fetch: a list of paths from every file, one open file per worker.
        var results: [String: Double] = ["write_seconds": writeSeconds]
        for (label, size) in [("fetch_subset", subset), ("fetch_all", histogramCount)] {
            start = ResourceUsage.now()
            let counts = try Parallel.map(fileCount) { index -> Int in
                let file = try ROOTFile(path: "\(base)/dqm_\(index).root")
                let all = BenchROOT.dqmPaths(count: histogramCount, run: 1000 + index).map(\.path)
                var cells = 0
                for path in BenchROOT.subsetPaths(all, size: size) { cells += try file.histogram(path).contents.count > 0 ? 1 : 0 }
                return cells
            }
            let seconds = ResourceUsage.now() - start
            let total = counts.reduce(0, +)
            results[label + "_seconds"] = seconds
            results[label + "_histograms"] = Double(total)
            print(String(format: "%@: %d histograms in %.3f s = %.0f histograms/s", label, total, seconds, Double(total) / seconds))
        }

        // 3. Whole-tree reads.
        if !reusing { try writeTrees(base) }
        for (label, file, tree) in [("tree_wide", "nano.root", "Events"), ("tree_long", "long.root", "tree")] {
            // Best of five: these reads take tens of milliseconds, so one run mostly measures noise.
            var seconds = Double.infinity
            var columns: [ColumnArray] = []
            for _ in 0..<5 {
                columns.removeAll()  // release the previous run's arrays before reading again
                start = ResourceUsage.now()
                columns = try ROOTFile(path: "\(base)/\(file)").tree(tree).arrays()
                seconds = min(seconds, ResourceUsage.now() - start)
            }
            let bytes = columns.reduce(0) { $0 + $1.values.count * 4 }
            results[label + "_seconds"] = seconds
            results[label + "_megabytes"] = Double(bytes) / 1e6
            print(String(format: "%@: %d branches, %.1f MB in %.3f s = %.0f MB/s", label, columns.count, Double(bytes) / 1e6, seconds, Double(bytes) / 1e6 / seconds))
        }
        let peak = ResourceUsage.peakResidentBytes()
        results["peak_rss_megabytes"] = Double(peak) / 1e6
        print(String(format: "peak RSS: %.0f MB", Double(peak) / 1e6))
        let json = try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys, .prettyPrinted])
        try AtomicFile.write(json, to: "\(base)/hepml-bench-root.json")
    }

    /// The NanoAOD-like tree (900 flat float branches, 100 jagged ones and their counter) and the
    /// long single-branch tree.
    private func writeTrees(_ base: String) throws {
        var random = SeededGenerator(seed: 7)
        let wide = ROOTWriter(path: "\(base)/nano.root")
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
        try wide.writeTree(branches, to: "Events", entriesPerBasket: 5000)
        try wide.close()
        let long = ROOTWriter(path: "\(base)/long.root")
        try long.writeTree([TreeBranchData(ColumnArray(name: "x", values: .float32((0..<longEntries).map { _ in Float(random.nextNormal()) })))],
                           to: "tree", entriesPerBasket: 100_000)
        try long.close()
    }
}
