import Foundation
import HEPMLColumnar
import HEPMLCore

extension DQMFetch {
    /// `hepml dqm fetch` from files to files: reads the contents and datasets JSON files, fetches
    /// from the DQM ROOT files found under `inputs` and writes `<outputDirectory>/<PD>.parquet` per
    /// primary dataset. Progress and per-dataset summaries go to `log`; skipped files, nulls and
    /// requested runs without a file go to `warn`. Returns the written paths.
    public static func fetchToParquet(contentsFile: String, datasetsFile: String, inputs: [String], outputDirectory: String,
                                      quiet: Bool = false, log: (String) -> Void, warn: (String) -> Void) throws -> [String] {
        let histogramList = try DQMContents(json: try inputFileData(contentsFile), file: contentsFile)
        let datasetList = try DQMDatasets(json: try inputFileData(datasetsFile), file: datasetsFile)
        guard !datasetList.primaryDatasets.isEmpty else {
            throw FileFormatError(file: datasetsFile, object: "primary_datasets", reason: "lists no primary dataset, so there is nothing to fetch")
        }
        let files = try DQMInputDiscovery.rootFiles(in: inputs)
        if histogramList.histograms.count < 5 { log("note: only \(histogramList.histograms.count) histograms requested") }
        let outcomes = try fetch(contents: histogramList, datasets: datasetList, files: files, quiet: quiet)
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
                     + "the others not named DQM_V*_R<run>__\(outcome.primaryDataset)__<era>… or outside the selected runs")
            } else if outcome.runsRead < 5 { log("note: \(outcome.primaryDataset) has only \(outcome.runsRead) runs; the data set is very limited") }
            let path = (outputDirectory as NSString).appendingPathComponent(OutputName.component(outcome.primaryDataset, extension: "parquet"))
            try Parquet.write(outcome.table, to: path)
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
