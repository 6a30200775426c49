import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLExperiment
import HEPMLROOT
import HEPMLRemote

extension DQMHistogram {
    /// The bin contents of a ROOT histogram without flow, for TH1*/TH2* (contents) and
    /// TProfile/TProfile2D (bin means), as uproot's `values()` gives them to AutoDQM_ML.
    public init(root histogram: Histogram) throws {
        guard histogram.dimension == 1 || histogram.dimension == 2 else {
            throw DQMError.invalidHistogram("\(histogram.className) '\(histogram.name)': only 1D and 2D histograms are supported")
        }
        try self.init(rootStorage: histogram.binValues, xEdges: histogram.xAxis.edges,
                      yEdges: histogram.dimension == 2 ? histogram.yAxis.edges : nil)
    }

    /// A TH1F/TH2F with these contents, flow cells zero, as a DQM file stores it.
    public func rootHistogram(name: String) -> Histogram {
        let nx = xBinCount, ny = yBinCount
        let xAxis = Axis(binCount: nx, minimum: xEdges[0], maximum: xEdges[nx])
        guard let yEdges else {
            let cells = [0] + contents + [0]
            return Histogram(className: "TH1F", name: name, xAxis: xAxis, contents: cells, entries: entries)
        }
        var cells = [Double](repeating: 0, count: (nx + 2) * (ny + 2))
        for ix in 0..<nx {
            for iy in 0..<ny { cells[(ix + 1) + (nx + 2) * (iy + 1)] = contents[ix * ny + iy] }
        }
        let yAxis = Axis(name: "yaxis", binCount: ny, minimum: yEdges[0], maximum: yEdges[ny])
        return Histogram(className: "TH2F", name: name, xAxis: xAxis, yAxis: yAxis, contents: cells, entries: entries)
    }
}

extension SyntheticDQMDataset {
    /// Writes every run as a DQM ROOT file (`DQMData/Run N/<subsystem>/Run summary/...`) under
    /// `directory`, plus `contents.json`, `datasets.json` and `truth.json` (the planted anomaly of
    /// every run, for judging detectors per anomaly type); files are written in parallel, each
    /// atomically. Returns the paths of the contents and datasets JSON files.
    @discardableResult
    public func write(to directory: String, quiet: Bool = false) throws -> (contents: String, datasets: String) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let runs = self.runs
        let progress = ProgressReporter("dqm generate", total: runs.count, unit: "files", quiet: quiet)
        _ = try Parallel.map(runs.count) { index -> Int in
            let run = runs[index]
            let writer = ROOTWriter(path: (directory as NSString).appendingPathComponent(run.fileName))
            for (path, histogram) in run.histograms {
                let objectPath = path.objectPath(run: run.run)
                let name = String(objectPath.split(separator: "/").last ?? "h")
                try writer.write(histogram.rootHistogram(name: name), to: objectPath)
            }
            try writer.close()
            progress.advance()
            return index
        }
        progress.finish()
        let contentsPath = (directory as NSString).appendingPathComponent("contents.json")
        let datasetsPath = (directory as NSString).appendingPathComponent("datasets.json")
        try AtomicFile.write(try contents.jsonData(), to: contentsPath)
        try AtomicFile.write(try datasets.jsonData(), to: datasetsPath)
        try AtomicFile.write(try truthJSONData(), to: (directory as NSString).appendingPathComponent("truth.json"))
        return (contentsPath, datasetsPath)
    }
}

/// `hepml dqm fetch`: reads the monitored histograms of one file per run and builds one table
/// per primary dataset.
public enum DQMFetch {
    /// What became of one run's file.
    public enum FileRead: Sendable {
        /// Per requested histogram its contents (nil when missing) and whether the stored type is
        /// double precision; `problems` names each missing histogram and why.
        case read(histograms: [DQMHistogram?], doublePrecision: [Bool], problems: [(column: String, reason: String)])
        /// The file could not be used at all.
        case skipped(reason: String)
    }

    /// Reads `histograms` of `run` from one file. A missing key leaves that histogram nil; a file
    /// that cannot be opened, or whose every histogram fails for a reason other than absence,
    /// is skipped.
    public static func read(path: String, run: Int, histograms: [DQMHistogramPath]) -> FileRead {
        let file: ROOTFile
        do {
            file = try ROOTFile(path: path)
        } catch {
            return .skipped(reason: reason(error, file: path))
        }
        var results: [DQMHistogram?] = []
        var double: [Bool] = []
        var problems: [(column: String, reason: String)] = []
        var corruptions: [String] = []
        // All histograms' records in one vector read (one round trip for a remote file).
        let fetched = file.histogramResults(histograms.map { $0.objectPath(run: run) })
        for (path, result) in zip(histograms, fetched) {
            do {
                let histogram = try result.get()
                results.append(try DQMHistogram(root: histogram))
                double.append(histogram.className.hasSuffix("D") || histogram.className.hasPrefix("TProfile"))
            } catch let error as FileFormatError where error.reason == "no such key" || error.reason == "no such directory" {
                results.append(nil)
                double.append(false)
                problems.append((path.columnName, "missing (\(error.object))"))
            } catch {
                results.append(nil)
                double.append(false)
                problems.append((path.columnName, reason(error, file: file.path)))
                corruptions.append(reason(error, file: file.path))
            }
        }
        if !histograms.isEmpty, results.allSatisfy({ $0 == nil }), let first = corruptions.first {
            return .skipped(reason: first)
        }
        return .read(histograms: results, doublePrecision: double, problems: problems)
    }

    /// An error's text without its leading file name: the warnings name the file once.
    private static func reason(_ error: Error, file: String) -> String {
        let text = String(describing: error)
        guard text.hasPrefix(file) else { return text }
        return String(text.dropFirst(file.count).drop { $0 == ":" || $0 == " " })
    }

    /// The table of one primary dataset and what happened on the way.
    public struct Outcome: Sendable {
        public var primaryDataset: String
        public var table: Table
        /// The file chosen for every run this fetch read (skipped ones included).
        public var files: [DQMRunFile]
        public var runsRead: Int
        public var skippedFiles: [(path: String, reason: String)]
        /// Runs kept with a null in some columns.
        public var incompleteRuns: [(run: Int, problems: [(column: String, reason: String)])]
        /// Runs requested in the datasets JSON without a file.
        public var missingRuns: [Int]
    }

    /// Selects one file per run for every primary dataset and year of `datasets` among `files`,
    /// reads them in parallel (one open file per worker; remote files on more threads, a limited
    /// number per host: `RemoteFiles.map`) and builds the tables. With a `shard`, only that part
    /// of the selected runs (over all primary datasets and years, a run's files never split) is
    /// read; files are selected and labelled among all `files` first, so every part sees the same
    /// choice and labels as an unsharded fetch.
    public static func fetch(contents: DQMContents, datasets: DQMDatasets, files: [String], shard: Shard? = nil, quiet: Bool = false) throws -> [Outcome] {
        guard !contents.histograms.isEmpty else { throw DQMError.invalidConfiguration("the contents JSON lists no histogram") }
        var selections: [(primaryDataset: String, files: [DQMRunFile], missingRuns: [Int])] = []
        for primaryDataset in datasets.primaryDatasets {
            var selected: [DQMRunFile] = []
            var missingRuns: [Int] = []
            for year in datasets.years.keys.sorted() {
                guard let settings = datasets.years[year] else { continue }
                let choice = try DQMFileSelection.select(files: files, primaryDataset: primaryDataset, year: year, settings: settings)
                selected += choice.files
                missingRuns += choice.missingRuns
            }
            selections.append((primaryDataset, selected, missingRuns))
        }
        let shardRuns = shard?.select(selections.flatMap { $0.files.map(\.run) })
        var outcomes: [Outcome] = []
        for (primaryDataset, allSelected, missingRuns) in selections {
            let selected = shardRuns.map { runs in allSelected.filter { runs.contains($0.run) } } ?? allSelected
            let histograms = contents.histograms
            let progress = ProgressReporter("dqm fetch \(primaryDataset)", total: selected.count, unit: "files", quiet: quiet)
            let reads = try RemoteFiles.map(selected.map(\.path)) { index -> FileRead in
                let result = read(path: selected[index].path, run: selected[index].run, histograms: histograms)
                progress.advance()
                return result
            }
            progress.finish()
            outcomes.append(try outcome(primaryDataset: primaryDataset, histograms: histograms, files: selected, reads: reads, missingRuns: missingRuns))
        }
        return outcomes
    }

    /// Builds the table from the reads of `files` (same order): skipped files are left out,
    /// missing histograms and histograms with another binning than the first run's become nulls.
    public static func outcome(primaryDataset: String, histograms: [DQMHistogramPath], files: [DQMRunFile], reads: [FileRead], missingRuns: [Int] = []) throws -> Outcome {
        var kept: [(file: DQMRunFile, histograms: [DQMHistogram?], double: [Bool])] = []
        var skipped: [(path: String, reason: String)] = []
        var incomplete: [(run: Int, problems: [(column: String, reason: String)])] = []
        for (file, read) in zip(files, reads) {
            switch read {
            case .skipped(let reason):
                skipped.append((file.path, reason))
            case .read(let contents, let double, let problems):
                kept.append((file, contents, double))
                if !problems.isEmpty { incomplete.append((file.run, problems)) }
            }
        }
        var columns: [Column] = []
        for (index, path) in histograms.enumerated() {
            // The first run that has the histogram fixes its binning; a run with other binning
            // cannot be compared bin by bin and gets a null, reported like a missing histogram.
            let reference = kept.lazy.compactMap { $0.histograms[index] }.first
            let shape = reference?.shape ?? [0]
            var runs: [[Double]?] = []
            var double = false
            for (row, run) in kept.enumerated() {
                guard let histogram = run.histograms[index] else { runs.append(nil); continue }
                guard histogram.shape == shape else {
                    runs.append(nil)
                    let problem = (column: path.columnName, reason: "binning \(histogram.shape) differs from \(shape)")
                    if let position = incomplete.firstIndex(where: { $0.run == kept[row].file.run }) {
                        incomplete[position].problems.append(problem)
                    } else {
                        incomplete.append((kept[row].file.run, [problem]))
                    }
                    continue
                }
                runs.append(histogram.contents)
                double = double || run.double[index]
            }
            columns.append(try DQMTable.listColumn(name: path.columnName, shape: shape, runs: runs, float64: double))
        }
        columns.append(try Column(name: DQMTable.runColumn, int64: kept.map { Int64($0.file.run) }))
        columns.append(try Column(name: DQMTable.yearColumn, strings: kept.map { $0.file.year }))
        columns.append(try Column(name: DQMTable.labelColumn, int64: kept.map { Int64($0.file.label.rawValue) }))
        let table = try Table(columns: columns)
        return Outcome(primaryDataset: primaryDataset, table: table, files: files, runsRead: kept.count, skippedFiles: skipped,
                       incompleteRuns: incomplete.sorted { $0.run < $1.run }, missingRuns: missingRuns)
    }
}
