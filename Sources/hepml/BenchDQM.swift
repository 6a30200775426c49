import ArgumentParser
import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLDQM

/// `hepml bench dqm`: the fetch step (every histogram of every file into one Parquet table) on
/// the DQM-style files of `hepml bench root`; `bench/autodqm_reference.py` reads the same files
/// the AutoDQM_ML way (uproot, one histogram at a time) for comparison.
struct BenchDQM: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dqm", abstract: "DQM fetch benchmark (compare with bench/autodqm_reference.py).")

    @Option(help: "Directory for the generated files (kept; default: a fresh temporary directory, removed).") var directory: String?
    @Option(help: "Number of DQM files.") var files = 20
    @Option(help: "Histograms per file (90% TH1F 100 bins, 10% TH2F 50×50).") var histograms = 2000
    @Option(help: "Python with uproot and awkward: also run bench/autodqm_reference.py on the same files.") var python: String?
    @Option(help: "Path of bench/autodqm_reference.py.") var reference = "bench/autodqm_reference.py"

    func run() throws {
        let keep = directory != nil
        let base = directory ?? NSTemporaryDirectory() + "hepml-bench-dqm-\(getpid())"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(atPath: base) } }
        print("hepml bench dqm: \(Parallel.threadCount) threads, \(files) files × \(histograms) histograms in \(base)")

        let fileCount = files, histogramCount = histograms
        let input = try DQMBenchmarkInput.write(in: base, files: fileCount, histograms: histogramCount)

        // The fetch: parallel over files (one open file per worker), table, Parquet.
        let start = ResourceUsage.now()
        let reads = try Parallel.map(fileCount) { DQMFetch.read(path: input.runFiles[$0].path, run: input.runFiles[$0].run, histograms: input.histograms) }
        let readSeconds = ResourceUsage.now() - start
        let outcome = try DQMFetch.outcome(primaryDataset: DQMBenchmarkInput.primaryDataset, histograms: input.histograms, files: input.runFiles, reads: reads)
        try Parquet.write(outcome.table, to: "\(base)/Bench.parquet")
        let totalSeconds = ResourceUsage.now() - start
        let count = Double(fileCount * histogramCount)
        let peak = Double(ResourceUsage.peakResidentBytes()) / 1e6
        guard outcome.runsRead == fileCount, outcome.incompleteRuns.isEmpty else {
            throw ValidationError("fetch read \(outcome.runsRead) of \(fileCount) files, \(outcome.incompleteRuns.count) incomplete")
        }
        print(String(format: "hepml read:            %.3f s = %9.0f histograms/s", readSeconds, count / readSeconds))
        print(String(format: "hepml read + Parquet:  %.3f s = %9.0f histograms/s, peak RSS %.0f MB", totalSeconds, count / totalSeconds, peak))
        let results: [String: Double] = ["read_seconds": readSeconds, "fetch_seconds": totalSeconds, "histograms": count,
                                         "fetch_histograms_per_second": count / totalSeconds, "peak_rss_megabytes": peak]
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys, .prettyPrinted]), to: "\(base)/hepml-bench-dqm.json")

        if let python {
            let output = try runPeerScript(python: python, [reference, input.manifestPath])
            print(output, terminator: "")
            if let line = output.split(separator: "\n").first(where: { $0.hasPrefix("{") }),
               let peer = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double], let seconds = peer["fetch_seconds"] {
                print(String(format: "speed-up (read + Parquet): %.1f×", seconds / totalSeconds))
            }
        } else {
            print("compare: python \(reference) \(input.manifestPath)  (run with --directory to keep the files)")
        }
    }
}
