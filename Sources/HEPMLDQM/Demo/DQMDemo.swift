import Foundation
import HEPMLColumnar
import HEPMLCore

/// What `hepml demo` runs on; the defaults are `make demo`'s.
public struct DQMDemoOptions: Sendable {
    /// Working directory: `data/` (ROOT files and JSON), `output/` (Parquet and models), `report/`.
    public var directory = "hepml-demo"
    public var runs = 200
    /// Seed of the data set, the split and the weights.
    public var seed: UInt64 = 2022
    /// Minimum mean occupancy of the (upstream HEAD) rebinning before PCA and the autoencoder; 0 turns it off.
    public var rebinMinimumOccupancy = 0.0
    /// Autoencoder options: HEPML's default or upstream's (docs/dqm.md, "Autoencoder defaults").
    public var autoencoderPreset = AutoencoderPreset.hepml
    /// No progress bars.
    public var quiet = false

    public init() {}
}

/// What the demo found: the assessment's headline numbers and, because the generator knows what
/// it planted, the run-level AUC of every algorithm per anomaly type.
public struct DQMDemoResult: Sendable {
    /// The HTML report's index.html.
    public var reportPath: String
    /// One per algorithm tag, as `DQMAssessment.summaryTable` prints them.
    public var summaries: [DQMAlgorithmSummary]
    public var detection: [DQMAnomalyDetection]
    /// The algorithm tags in training order: pca, ae, beta_binomial.
    public var tags: [String]
}

/// `hepml demo` (`make demo`): the whole offline DQM workflow on a synthetic data set — generate,
/// fetch, train PCA, autoencoders and the beta-binomial test, assess.
public enum DQMDemo {
    /// Runs every step in `options.directory`, timing each on `log`; fetch problems go to `warn`.
    /// The output directory is emptied first: models from an earlier demo would otherwise be
    /// loaded, not trained.
    public static func run(_ options: DQMDemoOptions, log: @escaping (String) -> Void, warn: @escaping (String) -> Void) throws -> DQMDemoResult {
        let start = ResourceUsage.now()
        func step(_ text: String) { log(String(format: "[%6.1f s] %@", ResourceUsage.now() - start, text)) }
        let data = (options.directory as NSString).appendingPathComponent("data")
        let output = (options.directory as NSString).appendingPathComponent("output")
        let reportDirectory = (options.directory as NSString).appendingPathComponent("report")
        try? FileManager.default.removeItem(atPath: output)

        step("generate \(options.runs) runs")
        var configuration = SyntheticDQMConfiguration()
        configuration.runCount = options.runs
        configuration.seed = options.seed
        let dataset = try SyntheticDQMDataset.generate(configuration)
        let json = try dataset.write(to: data, quiet: options.quiet)

        step("fetch")
        let written = try DQMFetch.fetchToParquet(contentsFile: json.contents, datasetsFile: json.datasets, inputs: [data],
                                                  outputDirectory: output, quiet: options.quiet, log: log, warn: warn)
        guard let fetched = written.first else { throw DQMError.insufficientData("fetch wrote no table") }

        let trained = (output as NSString).appendingPathComponent((fetched as NSString).lastPathComponent)
        var input = fetched
        let algorithms: [(algorithm: DQMAlgorithm, tag: String, statistic: DQMStatistic?)] = [
            (.pca, "pca", nil), (.autoencoder, "ae", nil), (.statisticalTester, "beta_binomial", .betaBinomialChi2),
        ]
        for (algorithm, tag, statistic) in algorithms {
            step("train \(algorithm.rawValue) [\(tag)]")
            var training = DQMTrainingConfiguration(algorithm: algorithm)
            training.tag = tag
            training.outputDirectory = output
            training.seed = options.seed
            training.quiet = options.quiet
            if algorithm != .statisticalTester && options.rebinMinimumOccupancy > 0 { training.rebinMinimumOccupancy = options.rebinMinimumOccupancy }
            if algorithm == .autoencoder {
                training.autoencoderOptions = options.autoencoderPreset.options
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                log("autoencoder: \(options.autoencoderPreset.rawValue) options \(String(decoding: try encoder.encode(options.autoencoderPreset.options), as: UTF8.self))")
            }
            if let statistic {
                training.statistic = statistic
                training.references = try trainingRuns(table: trained, count: 3)
            }
            _ = try DQMTraining.run(inputFile: input, configuration: training, log: log)
            input = trained
        }

        step("assess")
        var assessment = DQMAssessmentConfiguration()
        assessment.seed = options.seed
        let assessed = try DQMAssessment.assess(inputFile: trained, outputDirectory: reportDirectory, configuration: assessment)
        log(DQMAssessment.summaryTable(assessed.summaries))
        let detection = try dataset.detectionByAnomaly(table: try Parquet.read(path: trained))
        let tags = algorithms.map(\.tag)
        log("run-level AUC (RF-ROC N=1) per planted anomaly, evaluated runs vs held-out good runs:")
        log(DQMAssessment.detectionTable(detection, tags: tags))
        step("done")
        return DQMDemoResult(reportPath: assessed.reportPath, summaries: assessed.summaries, detection: detection, tags: tags)
    }

    /// The first `count` training runs as references of the statistical test, so that it, like
    /// the ML models, is judged on held-out runs only.
    static func trainingRuns(table path: String, count: Int) throws -> [Int] {
        let table = try Parquet.read(path: path, columns: [DQMTable.runColumn, DQMTable.splitColumn])
        let runs = try DQMTable.runNumbers(table)
        let roles = try DQMTable.integers(table, DQMTable.splitColumn)
        return Array(zip(runs, roles).filter { $0.1 == SplitRole.train.rawValue }.map(\.0).prefix(count))
    }
}
