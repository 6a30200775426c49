import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLExperiment

extension DQMFetch {
    /// `hepml dqm fetch` from files to files: reads the contents and datasets JSON files, fetches
    /// from the DQM ROOT files found under `inputs` and writes `<outputDirectory>/<PD>.parquet` per
    /// primary dataset. Progress and per-dataset summaries go to `log`; skipped files, nulls and
    /// requested runs without a file go to `warn`. Returns the written paths.
    ///
    /// With a `shard` it writes the part `<PD>.part-K-of-N.parquet` and its manifest instead (see
    /// `merge`). With `failOnSkip` a file that cannot be read fails the fetch before anything is
    /// written, so that a batch task with a corrupt input ends as failed.
    public static func fetchToParquet(contentsFile: String, datasetsFile: String, inputs: [String], outputDirectory: String,
                                      shard: Shard? = nil, failOnSkip: Bool = false,
                                      quiet: Bool = false, log: (String) -> Void, warn: (String) -> Void) throws -> [String] {
        let contentsData = try inputFileData(contentsFile)
        let datasetsData = try inputFileData(datasetsFile)
        let histogramList = try DQMContents(json: contentsData, file: contentsFile)
        let datasetList = try DQMDatasets(json: datasetsData, file: datasetsFile)
        guard !datasetList.primaryDatasets.isEmpty else {
            throw FileFormatError(file: datasetsFile, object: "primary_datasets", reason: "lists no primary dataset, so there is nothing to fetch")
        }
        let files = try DQMInputDiscovery.rootFiles(in: inputs)
        if histogramList.histograms.count < 5 { log("note: only \(histogramList.histograms.count) histograms requested") }
        let outcomes = try fetch(contents: histogramList, datasets: datasetList, files: files, shard: shard, quiet: quiet)
        let skippedFiles = outcomes.flatMap(\.skippedFiles)
        if failOnSkip, let first = skippedFiles.first {
            let others = skippedFiles.dropFirst().map { $0.path }
            throw FileFormatError(file: first.path, reason: "unreadable (--fail-on-skip): \(first.reason)"
                + (others.isEmpty ? "" : "; \(others.count) more: \(others.joined(separator: ", "))"))
        }
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        var written: [String] = []
        for outcome in outcomes {
            for (path, reason) in outcome.skippedFiles { warn("skipped \(path): \(reason)") }
            for (run, problems) in outcome.incompleteRuns {
                for (column, reason) in problems { warn("run \(run): \(column): \(reason); stored as null") }
            }
            if !outcome.missingRuns.isEmpty {
                warn("\(outcome.primaryDataset): no file for requested runs \(outcome.missingRuns.map(String.init).joined(separator: ", "))")
            }
            if outcome.runsRead == 0 {
                let years = datasetList.years.keys.sorted().joined(separator: ", ")
                warn("\(outcome.primaryDataset): no run read: \(files.count) ROOT files found under \(inputs.joined(separator: ", ")), "
                     + "\(outcome.skippedFiles.count) of them selected for this primary dataset and years [\(years)] but skipped, "
                     + "the others not named DQM_V*_R<run>__\(outcome.primaryDataset)__<era>… or outside the selected runs"
                     + (shard.map { " or in shards other than \($0)" } ?? ""))
            } else if shard == nil, outcome.runsRead < 5 { log("note: \(outcome.primaryDataset) has only \(outcome.runsRead) runs; the data set is very limited") }
            let baseName = OutputName.component(outcome.primaryDataset)
            let name = shard.map { $0.partName(baseName) } ?? baseName
            let path = (outputDirectory as NSString).appendingPathComponent("\(name).parquet")
            try Parquet.write(outcome.table, to: path)
            if let shard {
                let fingerprints = partFingerprints(contents: contentsData, datasets: datasetsData, files: files, primaryDataset: outcome.primaryDataset)
                try outcome.manifest(shard: shard, part: path, fingerprints: fingerprints).write(to: ShardManifest.path(forPart: path))
            }
            written.append(path)
            log("\(outcome.primaryDataset): \(outcome.runsRead) runs read, \(outcome.skippedFiles.count) files skipped, "
                + "\(outcome.incompleteRuns.count) runs incomplete, \(outcome.missingRuns.count) requested runs without a file → \(path)")
        }
        return written
    }

    private static func inputFileData(_ path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else { throw FileFormatError(file: path, reason: "cannot read file") }
        return data
    }
}
