import Foundation
import HEPMLCore
import HEPMLROOT

/// The input of `hepml bench dqm`: the DQM-style files of `ROOTBenchmarkFiles` (the very files
/// `hepml bench root` reads) as the runs of one primary dataset, one contents list for all of
/// them, and `manifest.json` naming both for bench/autodqm_reference.py.
public struct DQMBenchmarkInput: Sendable {
    public static let primaryDataset = "Bench"
    public var runFiles: [DQMRunFile]
    public var histograms: [DQMHistogramPath]
    public var manifestPath: String

    /// Writes the files, the manifest and returns what the fetch reads.
    public static func write(in directory: String, files: Int, histograms: Int) throws -> DQMBenchmarkInput {
        let paths = try ROOTBenchmarkFiles.writeDQMFiles(in: directory, files: files, histograms: histograms)
        let runFiles = paths.indices.map { index in
            DQMRunFile(run: ROOTBenchmarkFiles.dqmFile(index, in: directory).run, year: "2022", primaryDataset: primaryDataset,
                       path: paths[index], label: .unknown)
        }
        // Paths relative to "DQMData/Run N/", i.e. <subsystem>/Run summary/..., the same in every file.
        let histogramPaths = ROOTBenchmarkFiles.dqmHistogramPaths(count: histograms, run: 0).map { entry -> DQMHistogramPath in
            let components = entry.path.split(separator: "/").dropFirst(2)
            return DQMHistogramPath(subsystem: String(components.first ?? ""), entry: "/" + components.dropFirst().joined(separator: "/"))
        }
        let manifest: [String: Any] = ["files": paths, "runs": runFiles.map(\.run), "histograms": histogramPaths.map(\.columnName)]
        let manifestPath = "\(directory)/manifest.json"
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: manifest), to: manifestPath)
        return DQMBenchmarkInput(runFiles: runFiles, histograms: histogramPaths, manifestPath: manifestPath)
    }
}
