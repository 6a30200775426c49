import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLExperiment
import HEPMLNN

/// The algorithms of `hepml dqm train`.
public enum DQMAlgorithm: String, Sendable, CaseIterable, Codable {
    case pca
    case autoencoder
    case statisticalTester = "statistical_tester"

    /// Upstream names, `ae` included.
    public init?(name: String) {
        switch name.lowercased() {
        case "pca": self = .pca
        case "autoencoder", "ae": self = .autoencoder
        case "statistical_tester": self = .statisticalTester
        default: return nil
        }
    }
}

/// The statistic of the statistical tester. 1D and 2D histograms are scored differently where
/// upstream does: the KS variants are 1D tests, so 2D histograms get AutoDQM's Poisson pull χ².
public enum DQMStatistic: String, Sendable, CaseIterable, Codable {
    /// AutoDQM_ML's KS: two-sample KS on the arrays of normalized bin contents treated as samples.
    case ksBinContent = "ks_bin_content"
    /// A proper KS distance between the normalized cumulative distributions.
    case ks
    /// AutoDQM's beta-binomial χ² (per used bin) against one or several reference runs.
    case betaBinomialChi2 = "beta_binomial_chi2"
    /// AutoDQM's beta-binomial normalized max |pull|.
    case betaBinomialMaxPull = "beta_binomial_max_pull"
}

/// Everything `hepml dqm train` is told; `init(json:file:)` reads an AutoDQM_ML algorithm JSON.
public struct DQMTrainingConfiguration: Sendable {
    public var algorithm: DQMAlgorithm
    /// Histogram column names; empty means every histogram column of the input.
    public var histograms: [String] = []
    /// Per histogram whether to normalize (AutoDQM_ML's `{"normalize": bool}`); default true.
    public var normalize: [String: Bool] = [:]
    public var tag = "default"
    public var outputDirectory = "output"
    public var componentCount = PCAModel.defaultComponentCount
    public var references: [Int] = []
    public var statistic = DQMStatistic.ksBinContent
    public var autoencoderMode = AutoencoderArchitecture.Mode.individual
    public var autoencoderOptions = AutoencoderArchitecture.Options()
    public var lowStatisticsThreshold = DQMPreprocessing.defaultLowStatisticsThreshold
    public var rebinMinimumOccupancy: Double?
    public var trainFraction = 0.5
    public var seed: UInt64 = 0
    public var retrain = false
    public var quiet = false

    public init(algorithm: DQMAlgorithm) {
        self.algorithm = algorithm
    }

    /// An algorithm JSON: `name`, and optionally `tag`, `output_dir`, `histograms` (CSV string
    /// or `{name: {"normalize": bool}}`), `n_components`, `reference`, `autoencoder_mode`,
    /// `statistic`, `low_stat_threshold`, `rebin_min_occupancy`, `seed` and `config` (autoencoder
    /// options; unknown keys ignored as upstream does). Command-line options override it.
    public init(json data: Data, file: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FileFormatError(file: file, reason: "not a JSON object")
        }
        func fail(_ key: String, _ expected: String) -> FileFormatError {
            FileFormatError(file: file, object: key, reason: "expected \(expected)")
        }
        guard let name = object["name"] as? String, let algorithm = DQMAlgorithm(name: name) else {
            throw fail("name", "\"pca\", \"autoencoder\", \"ae\" or \"statistical_tester\"")
        }
        self.init(algorithm: algorithm)
        if let value = object["tag"] { guard let tag = value as? String else { throw fail("tag", "a string") }; self.tag = tag }
        if let value = object["output_dir"] { guard let dir = value as? String else { throw fail("output_dir", "a string") }; outputDirectory = dir }
        if let value = object["histograms"] {
            if let text = value as? String {
                histograms = Self.splitList(text)
            } else if let table = value as? [String: Any] {
                histograms = table.keys.sorted()
                for (key, settings) in table { normalize[key] = (settings as? [String: Any])?["normalize"] as? Bool ?? true }
            } else {
                throw fail("histograms", "a comma-separated string or an object")
            }
        }
        if let value = object["n_components"] { guard let n = value as? Int else { throw fail("n_components", "an integer") }; componentCount = n }
        if let value = object["reference"] {
            if let run = value as? Int { references = [run] } else if let runs = value as? [Int] { references = runs } else if let text = value as? String {
                references = try Self.splitList(text).map { guard let run = Int($0) else { throw fail("reference", "run numbers") }; return run }
            } else { throw fail("reference", "a run number or a list of them") }
        }
        if let value = object["autoencoder_mode"] {
            guard let text = value as? String, let mode = AutoencoderArchitecture.Mode(rawValue: text) else { throw fail("autoencoder_mode", "\"individual\" or \"simultaneous\"") }
            autoencoderMode = mode
        }
        if let value = object["statistic"] {
            guard let text = value as? String, let statistic = DQMStatistic(rawValue: text) else { throw fail("statistic", DQMStatistic.allCases.map(\.rawValue).joined(separator: ", ")) }
            self.statistic = statistic
        }
        if let value = object["low_stat_threshold"] { guard let t = value as? Double else { throw fail("low_stat_threshold", "a number") }; lowStatisticsThreshold = t }
        if let value = object["rebin_min_occupancy"] { guard let r = value as? Double else { throw fail("rebin_min_occupancy", "a number") }; rebinMinimumOccupancy = r }
        if let value = object["seed"] { guard let s = value as? Int, s >= 0 else { throw fail("seed", "a non-negative integer") }; seed = UInt64(s) }
        if let value = object["config"] {
            guard let config = value as? [String: Any] else { throw fail("config", "an object") }
            do {
                autoencoderOptions = try JSONDecoder().decode(AutoencoderArchitecture.Options.self, from: try JSONSerialization.data(withJSONObject: config))
            } catch {
                throw FileFormatError(file: file, object: "config", reason: describe(error))
            }
        }
    }

    static func splitList(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// What one training run produced.
public struct DQMTrainingResult: Sendable {
    /// The input table (every row) with `train_label` and the new score/reco columns; runs
    /// below the low-statistics cut have `SplitRole.belowThreshold` and null scores.
    public var table: Table
    public var outputPath: String
    public var runsRemovedForLowStatistics: Int
    public var trainingRuns: Int
    public var heldOutRuns: Int
    /// Model files written (or loaded, see `loadedModels`).
    public var modelFiles: [String]
    public var loadedModels: [String]
}

/// `hepml dqm train`: preprocessing, one of the algorithms, output columns and model files.
public enum DQMTraining {
    public static func run(inputFile: String, configuration: DQMTrainingConfiguration, log: @escaping (String) -> Void = { print($0) }) throws -> DQMTrainingResult {
        var table = try Parquet.read(path: inputFile)
        let names = configuration.histograms.isEmpty ? DQMTable.histogramColumnNames(table) : configuration.histograms
        guard !names.isEmpty else { throw DQMError.invalidConfiguration("\(inputFile) has no histogram column") }
        var columns = try names.map { name -> DQMTable.HistogramColumn in
            guard let column = table[name] else {
                throw DQMError.invalidConfiguration("\(inputFile) has no column '\(name)'")
            }
            return try DQMTable.histogramColumn(column)
        }

        // Low-statistics cut (v1): every histogram of a kept run has enough entries.
        let keep = DQMPreprocessing.passesLowStatistics(columns.map(\.runs), threshold: configuration.lowStatisticsThreshold)
        let kept = keep.indices.filter { keep[$0] }
        let removed = keep.count - kept.count
        // The algorithms see the kept runs only; the written table keeps every input row (the
        // others flagged `SplitRole.belowThreshold`, without scores), so training in the
        // fetch's directory never replaces the fetched table with a filtered copy.
        let inputTable = table
        guard !kept.isEmpty else {
            throw DQMError.insufficientData("\(inputFile): none of its \(keep.count) runs has at least \(configuration.lowStatisticsThreshold) entries in every one of the \(names.count) selected histograms (the low-statistics cut; lower it with --low-stat-threshold)")
        }
        if removed > 0 {
            log("\(removed) of \(keep.count) runs are below \(configuration.lowStatisticsThreshold) entries (or miss a histogram): "
                + "not trained on or scored, kept in the table with \(DQMTable.splitColumn) \(SplitRole.belowThreshold.rawValue)")
            table = try selectRows(table, kept)
            columns = columns.map { $0.selecting(rows: kept) }
        }
        let runs = try DQMTable.runNumbers(table)
        let labels = try DQMTable.labels(table)

        // The split among good runs is kept if the file already has one, so that algorithms
        // trained one after another on the same file share it.
        let roles: [SplitRole]
        if table[DQMTable.splitColumn] != nil {
            roles = try DQMTable.integers(table, DQMTable.splitColumn).map { SplitRole(rawValue: $0) ?? .excluded }
        } else {
            roles = SplitRole.split(labels: labels, trainFraction: configuration.trainFraction, seed: configuration.seed)
        }
        let trainRows = roles.indices.filter { roles[$0] == .train }
        let heldOutRows = roles.indices.filter { roles[$0] == .heldOut }
        guard !trainRows.isEmpty else { throw DQMError.insufficientData("no good run to train on (label 0 after the low-statistics cut)") }
        log("\(table.rowCount) runs: \(trainRows.count) training, \(heldOutRows.count) held-out good, \(labels.filter { $0 == .bad }.count) bad, \(labels.filter { $0 == .unknown }.count) unlabelled")

        try FileManager.default.createDirectory(atPath: configuration.outputDirectory, withIntermediateDirectories: true)
        let prepared = columns.map { column in
            PreparedHistogram(column: column, normalize: configuration.normalize[column.name] ?? true)
        }
        var context = Context(configuration: configuration, histograms: prepared, trainRows: trainRows, heldOutRows: heldOutRows,
                              runs: runs, log: log)
        let outputs: [HistogramOutput]
        switch configuration.algorithm {
        case .pca: outputs = try context.trainPCA()
        case .autoencoder: outputs = try context.trainAutoencoders()
        case .statisticalTester: outputs = try context.runStatisticalTests()
        }
        // Kept row `k` is input row `kept[k]`; the other input rows get no score (null).
        var written = inputTable
        func spread<Value>(_ values: [Value]) -> [Value?] {
            var all = [Value?](repeating: nil, count: keep.count)
            for (row, value) in zip(kept, values) { all[row] = value }
            return all
        }
        let allRoles = spread(roles).map { $0 ?? .belowThreshold }
        try written.set(try Column(name: DQMTable.splitColumn, int64: allRoles.map { Int64($0.rawValue) }))
        for output in outputs {
            if let reco = output.reconstructions {
                try written.set(try DQMTable.listColumn(name: DQMTable.recoColumn(output.name, tag: configuration.tag), shape: reco.shape,
                                                        runs: spread(reco.runs).map { $0 ?? nil }, float64: true))
            }
            let scores = spread(output.scores)
            try written.set(try Column(name: DQMTable.scoreColumn(output.name, tag: configuration.tag), float64: scores.map { $0 ?? 0 },
                                       validity: scores.map { $0 != nil }))
        }
        let stem = ((inputFile as NSString).lastPathComponent as NSString).deletingPathExtension
        let outputPath = (configuration.outputDirectory as NSString).appendingPathComponent(OutputName.component(stem, extension: "parquet"))
        try Parquet.write(written, to: outputPath)
        return DQMTrainingResult(table: written, outputPath: outputPath, runsRemovedForLowStatistics: removed,
                                 trainingRuns: trainRows.count, heldOutRuns: heldOutRows.count,
                                 modelFiles: context.modelFiles, loadedModels: context.loadedModels)
    }

    /// The rows at `rows` (ascending), built from contiguous slices.
    static func selectRows(_ table: Table, _ rows: [Int]) throws -> Table {
        var ranges: [Range<Int>] = []
        for row in rows {
            if let last = ranges.last, last.upperBound == row { ranges[ranges.count - 1] = last.lowerBound..<row + 1 } else { ranges.append(row..<row + 1) }
        }
        let columns = try table.columns.map { column in try Column.concatenate(ranges.map { column.slice($0) }) }
        return try Table(columns: columns, metadata: table.metadata)
    }

    /// AutoDQM_ML's file-name stem of a histogram: the column name without `/` and spaces.
    public static func sanitizedName(_ column: String) -> String {
        column.replacingOccurrences(of: "/", with: "").replacingOccurrences(of: " ", with: "")
    }

    public static func pcaModelPath(directory: String, histogram: String, tag: String) -> String {
        (directory as NSString).appendingPathComponent(OutputName.component("pca_\(sanitizedName(histogram))_\(tag)", extension: "json"))
    }

    /// The run directory of an autoencoder (`RunDirectory` layout). Individual mode: one per
    /// histogram (sanitized, so no sub-directories as upstream's raw names make); simultaneous
    /// mode: one per tag.
    public static func autoencoderRunDirectory(directory: String, histogram: String?, tag: String) -> RunDirectory {
        let stem = histogram.map { "autoencoder_\(sanitizedName($0))_\(tag)" } ?? "autoencoder_\(tag)"
        return RunDirectory((directory as NSString).appendingPathComponent(OutputName.component(stem)))
    }
}

struct PreparedHistogram {
    var column: DQMTable.HistogramColumn
    var normalize: Bool
    var name: String { column.name }

    /// The contents every run is scored on: normalized unless told otherwise. Runs reaching
    /// the algorithms always have the histogram (the low-statistics cut removes the others).
    func inputs() -> [[Double]] {
        let width = column.contents.rowWidth
        return (0..<column.contents.rowCount).map { row in
            let values = Array(column.contents.values[(row * width)..<((row + 1) * width)])
            return normalize ? DQMPreprocessing.normalized(values) : values
        }
    }

    /// `inputs()` as the network takes them: one contiguous float32 buffer, runs after one
    /// another, rebinned by `map` when given and multiplied by `scale` (the input scale).
    func trainingBuffer(rebinnedBy map: RebinMap?, scale: Double) throws -> [Float] {
        if let map { return try inputs().flatMap { try map.apply($0).map { Float($0 * scale) } } }
        let width = column.contents.rowWidth
        var buffer = [Float](repeating: 0, count: column.contents.values.count)
        column.contents.values.withUnsafeBufferPointer { source in
            buffer.withUnsafeMutableBufferPointer { target in
                for row in 0..<column.contents.rowCount {
                    let range = (row * width)..<((row + 1) * width)
                    let normalizing = normalize ? DQMPreprocessing.normalizingScale(source[range]) : 1
                    for index in range { target[index] = normalizing == 0 ? 0 : Float(source[index] * normalizing * scale) }
                }
            }
        }
        return buffer
    }
}

struct HistogramOutput {
    var name: String
    var scores: [Double]
    var reconstructions: (shape: [Int], runs: [[Double]?])?
}

private struct Context {
    var configuration: DQMTrainingConfiguration
    var histograms: [PreparedHistogram]
    var trainRows: [Int]
    var heldOutRows: [Int]
    var runs: [Int]
    var log: (String) -> Void
    var modelFiles: [String] = []
    var loadedModels: [String] = []

    init(configuration: DQMTrainingConfiguration, histograms: [PreparedHistogram], trainRows: [Int], heldOutRows: [Int], runs: [Int], log: @escaping (String) -> Void) {
        self.configuration = configuration
        self.histograms = histograms
        self.trainRows = trainRows
        self.heldOutRows = heldOutRows
        self.runs = runs
        self.log = log
    }

    /// The optional minimum-occupancy map from the training runs of one histogram.
    func rebinMap(_ inputs: [[Double]]) -> RebinMap? {
        guard let minimum = configuration.rebinMinimumOccupancy else { return nil }
        let training = trainRows.map { DQMPreprocessing.normalized(inputs[$0]) }
        return RebinMap.minimumOccupancy(meanOccupancy: RebinMap.meanOccupancy(normalizedRuns: training), minimumOccupancy: minimum)
    }

    /// Shape of the scored (possibly rebinned) histogram: rebinning flattens 2D to 1D as upstream.
    static func shape(_ histogram: PreparedHistogram, _ map: RebinMap?) -> [Int] {
        map.map { [$0.outputBinCount] } ?? histogram.column.shape
    }

    mutating func trainPCA() throws -> [HistogramOutput] {
        let directory = configuration.outputDirectory
        let progress = ProgressReporter("dqm train pca", total: histograms.count, unit: "histograms", quiet: configuration.quiet)
        defer { progress.finish() }
        var outputs: [HistogramOutput] = []
        for histogram in histograms {
            let path = DQMTraining.pcaModelPath(directory: directory, histogram: histogram.name, tag: configuration.tag)
            var inputs = histogram.inputs()
            var model: PCAModel
            if FileManager.default.fileExists(atPath: path) && !configuration.retrain {
                log("warning: \(path) exists; loading it instead of retraining (use --retrain to refit)")
                model = try PCAModel(json: try Data(contentsOf: URL(fileURLWithPath: path)), file: path)
                if let map = model.rebinMap { inputs = try inputs.map { try map.apply($0) } }
                guard model.featureCount == inputs.first?.count else {
                    throw DQMError.invalidConfiguration("\(path) expects \(model.featureCount) bins, \(histogram.name) has \(inputs.first?.count ?? 0)")
                }
                loadedModels.append(path)
            } else {
                let map = rebinMap(inputs)
                if let map { inputs = try inputs.map { try map.apply($0) } }
                let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
                model = try PCAModel.fit(samples: trainRows.map { inputs[$0] }, componentCount: configuration.componentCount, name: stem)
                model.rebinMap = map
                try AtomicFile.write(try model.jsonData(), to: path)
            }
            modelFiles.append(path)
            var scores: [Double] = []
            var recos: [[Double]?] = []
            for input in inputs {
                let result = try model.score(input)
                scores.append(result.score)
                recos.append(result.reconstruction)
            }
            outputs.append(HistogramOutput(name: histogram.name, scores: scores,
                                           reconstructions: (model.rebinMap.map { [$0.outputBinCount] } ?? histogram.column.shape, recos)))
            progress.advance()
        }
        return outputs
    }

    mutating func trainAutoencoders() throws -> [HistogramOutput] {
        let directory = configuration.outputDirectory
        // Inputs (normalized, optionally rebinned with a map from the training runs).
        var inputs: [[[Double]]] = []
        var maps: [RebinMap?] = []
        for histogram in histograms {
            var values = histogram.inputs()
            let map = rebinMap(values)
            if let map { values = try values.map { try map.apply($0) } }
            inputs.append(values)
            maps.append(map)
        }
        let branches = zip(histograms, maps).map { histogram, map in
            AutoencoderArchitecture.Branch(name: DQMTraining.sanitizedName(histogram.name), shape: Context.shape(histogram, map))
        }
        let groups: [[Int]] = configuration.autoencoderMode == .individual ? histograms.indices.map { [$0] } : [Array(histograms.indices)]
        var outputs = [HistogramOutput?](repeating: nil, count: histograms.count)
        for (groupIndex, group) in groups.enumerated() {
            let architecture = try AutoencoderArchitecture(branches: group.map { branches[$0] }, options: configuration.autoencoderOptions)
            let run = DQMTraining.autoencoderRunDirectory(directory: directory, histogram: configuration.autoencoderMode == .individual ? histograms[group[0]].name : nil,
                                                         tag: configuration.tag)
            let earlierFile = run.path + ".safetensors"
            if !run.isComplete && !configuration.retrain && FileManager.default.fileExists(atPath: earlierFile) {
                throw DQMError.invalidConfiguration("\(earlierFile) was written by an earlier HEPML, which kept autoencoders in single files; train again with --retrain (the new model goes to \(run.path)/)")
            }
            let options = configuration.autoencoderOptions
            let scales = group.map { index in options.inputScale.factor(trainingInputs: trainRows.map { inputs[index][$0] }) }
            let buffers = try zip(group, scales).map { index, scale in try histograms[index].trainingBuffer(rebinnedBy: maps[index], scale: scale) }
            let label = configuration.autoencoderMode == .individual ? "ae \(groupIndex + 1)/\(groups.count)" : "ae"
            let settings = AutoencoderArchitecture.RunSettings(
                histograms: group.map { histograms[$0].name }, rebinMaps: group.map { maps[$0] }, inputScales: scales, options: options.trainingOptions,
                seed: configuration.seed &+ UInt64(groupIndex), trainingRuns: trainRows.map { runs[$0] }, validationRuns: heldOutRows.map { runs[$0] })
            let outcome = try architecture.train(in: run, settings: settings, buffers: buffers, trainingRows: trainRows, validationRows: heldOutRows,
                                                 label: label, retrain: configuration.retrain, showProgress: !configuration.quiet, log: log)
            if let history = outcome.history {
                let stop = history.stoppedEarly ? "stopped early" : "ran all epochs"
                log("\(label) \(group.count == 1 ? histograms[group[0]].name : "\(group.count) histograms"): \(history.epochs.count) epochs (\(stop)), best epoch \(history.restoredEpoch ?? history.epochs.count), validation loss \(history.epochs.last?.validationLoss.map { String(format: "%.3g", $0) } ?? "-")")
            } else {
                loadedModels.append(run.path)
            }
            modelFiles.append(run.path)
            let reconstructed = try AutoencoderArchitecture.reconstruct(outcome.model, buffers: buffers, rows: runs.count)
            for (position, index) in group.enumerated() {
                // Reconstructions back in the normalized histogram's units, where they are scored and stored.
                let width = branches[index].shape.reduce(1, *)
                let recos = (0..<runs.count).map { row in
                    reconstructed[position][(row * width)..<((row + 1) * width)].map { Double($0) / scales[position] }
                }
                let scores = options.score.scores(inputs: inputs[index], reconstructions: recos, trainingRows: trainRows)
                outputs[index] = HistogramOutput(name: histograms[index].name, scores: scores,
                                                 reconstructions: (Context.shape(histograms[index], maps[index]), recos))
            }
        }
        return outputs.compactMap { $0 }
    }

    mutating func runStatisticalTests() throws -> [HistogramOutput] {
        var referenceRows: [Int] = []
        if configuration.references.isEmpty {
            guard let first = trainRows.first else { throw DQMError.insufficientData("no training run to use as reference") }
            log("warning: no --reference given; using run \(runs[first]), the first training run")
            referenceRows = [first]
        } else {
            for run in configuration.references {
                guard let row = runs.firstIndex(of: run) else {
                    throw DQMError.invalidConfiguration("reference run \(run) is not in the table (or was removed by the low-statistics cut)")
                }
                referenceRows.append(row)
            }
        }
        var outputs: [HistogramOutput] = []
        for histogram in histograms {
            let raw = histogram.column.runs.map { $0 ?? [] }
            let normalized = raw.map(DQMPreprocessing.normalized)
            let references = referenceRows.map { raw[$0] }
            let twoDimensional = histogram.column.shape.count == 2
            var scores: [Double] = []
            for row in raw.indices {
                switch configuration.statistic {
                case .ksBinContent, .ks:
                    if twoDimensional {
                        // The KS tests are 1D; 2D maps get AutoDQM's Poisson pull χ², averaged over references.
                        var total = 0.0
                        for reference in references {
                            total += try PoissonPullTest.evaluate(data: raw[row], reference: reference, xBins: histogram.column.shape[0],
                                                                  yBins: histogram.column.shape[1]).chi2
                        }
                        scores.append(total / Double(references.count))
                    } else {
                        var total = 0.0
                        for reference in referenceRows.map({ normalized[$0] }) {
                            total += configuration.statistic == .ks
                                ? try KolmogorovSmirnov.cumulativeStatistic(normalized[row], reference)
                                : KolmogorovSmirnov.binContentStatistic(normalized[row], reference)
                        }
                        scores.append(total / Double(references.count))
                    }
                case .betaBinomialChi2, .betaBinomialMaxPull:
                    let result = BetaBinomialTest.evaluate(data: raw[row].map { $0.rounded() }, references: references.map { $0.map { $0.rounded() } })
                    let value = configuration.statistic == .betaBinomialChi2 ? result?.chi2 : result.map { abs($0.maxPull) }
                    scores.append(value ?? .nan)
                }
            }
            outputs.append(HistogramOutput(name: histogram.name, scores: scores, reconstructions: nil))
        }
        return outputs
    }
}
