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

    func run() throws {
        let keep = directory != nil
        let base = directory ?? NSTemporaryDirectory() + "hepml-bench-root-\(getpid())"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(atPath: base) } }
        print("hepml bench root: \(Parallel.threadCount) threads, files in \(base)")

        // 1. Write the DQM files (this also measures the writer).
        let fileCount = files, histogramCount = histograms
        let reusing = reuse && keep && FileManager.default.fileExists(atPath: "\(base)/\(ROOTBenchmarkFiles.longTree.file)")
        var start = ResourceUsage.now()
        if !reusing { try ROOTBenchmarkFiles.writeDQMFiles(in: base, files: fileCount, histograms: histogramCount) }
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
                let dqmFile = ROOTBenchmarkFiles.dqmFile(index, in: base)
                let file = try ROOTFile(path: dqmFile.path)
                let all = ROOTBenchmarkFiles.dqmHistogramPaths(count: histogramCount, run: dqmFile.run).map(\.path)
                var cells = 0
                for path in ROOTBenchmarkFiles.evenlySpacedSubset(all, size: size) { cells += try file.histogram(path).contents.count > 0 ? 1 : 0 }
                return cells
            }
            let seconds = ResourceUsage.now() - start
            let total = counts.reduce(0, +)
            results[label + "_seconds"] = seconds
            results[label + "_histograms"] = Double(total)
            print(String(format: "%@: %d histograms in %.3f s = %.0f histograms/s", label, total, seconds, Double(total) / seconds))
        }

        // 3. Whole-tree reads.
        if !reusing { try ROOTBenchmarkFiles.writeTrees(in: base, wideEntries: wideEntries, longEntries: longEntries) }
        for (label, tree) in [("tree_wide", ROOTBenchmarkFiles.wideTree), ("tree_long", ROOTBenchmarkFiles.longTree)] {
            // Best of five: these reads take tens of milliseconds, so one run mostly measures noise.
            var seconds = Double.infinity
            var columns: [ColumnArray] = []
            for _ in 0..<5 {
                columns.removeAll()  // release the previous run's arrays before reading again
                start = ResourceUsage.now()
                columns = try ROOTFile(path: "\(base)/\(tree.file)").tree(tree.tree).arrays()
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
}
