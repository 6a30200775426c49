import ArgumentParser
import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLDQM

/// `hepml demo` (`make demo`): the whole offline DQM workflow on a synthetic data set.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate a synthetic DQM data set, fetch it, train PCA, autoencoders and a statistical test, and assess them.")

    @Option(help: "Working directory (data, Parquet, models, report).") var directory = "hepml-demo"
    @Option(help: "Number of runs.") var runs = 200
    @Option(help: "Seed of the data set, the split and the weights.") var seed: UInt64 = 2022
    @Option(help: "Minimum mean occupancy of the (upstream HEAD) rebinning before PCA and the autoencoder; 0 turns it off.") var rebinMinOccupancy = 0.0
    @Option(help: "Autoencoder options: hepml (the default) or upstream (AutoDQM_ML's DEFAULT_OPT); see docs/dqm.md.")
    var aeConfig = AutoencoderPreset.hepml
    @Flag(help: "No progress bars.") var quiet = false

    func run() throws {
        let start = ResourceUsage.now()
        func step(_ text: String) { print(String(format: "[%6.1f s] %@", ResourceUsage.now() - start, text)) }
        let data = (directory as NSString).appendingPathComponent("data")
        let output = (directory as NSString).appendingPathComponent("output")
        let reportDirectory = (directory as NSString).appendingPathComponent("report")
        // A fresh output directory: models from an earlier demo would otherwise be loaded, not trained.
        try? FileManager.default.removeItem(atPath: output)

        step("generate \(runs) runs")
        var configuration = SyntheticDQMConfiguration()
        configuration.runCount = runs
        configuration.seed = seed
        let dataset = try SyntheticDQMDataset.generate(configuration)
        let json = try dataset.write(to: data, quiet: quiet)

        step("fetch")
        let written = try DQMFetchCommand.fetch(contents: json.contents, datasets: json.datasets, inputs: [data], outputDir: output, quiet: quiet)
        guard let fetched = written.first else { throw ValidationError("fetch wrote no table") }

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
            training.seed = seed
            training.quiet = quiet
            if algorithm != .statisticalTester && rebinMinOccupancy > 0 { training.rebinMinimumOccupancy = rebinMinOccupancy }
            if algorithm == .autoencoder {
                training.autoencoderOptions = aeConfig.options
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                print("autoencoder: \(aeConfig.rawValue) options \(String(decoding: try encoder.encode(aeConfig.options), as: UTF8.self))")
            }
            if let statistic {
                training.statistic = statistic
                training.references = try referenceRuns(table: trained, count: 3)
            }
            _ = try DQMTraining.run(inputFile: input, configuration: training)
            input = trained
        }

        step("assess")
        var assessment = DQMAssessmentConfiguration()
        assessment.seed = seed
        let path = try DQMAssessCommand.assess(inputFile: trained, outputDir: reportDirectory, configuration: assessment)
        // The generator knows what it planted: the run-level AUC per anomaly type shows what each
        // algorithm misses.
        let detection = try dataset.detectionByAnomaly(table: try Parquet.read(path: trained))
        print("run-level AUC (RF-ROC N=1) per planted anomaly, evaluated runs vs held-out good runs:")
        print(DQMAssessment.detectionTable(detection, tags: algorithms.map(\.tag)))
        step("done")
        print("report: \(path)")
    }

    /// The first `count` training runs (train_label 0) as references of the statistical test,
    /// so it, like the ML models, is judged on held-out runs only.
    private func referenceRuns(table path: String, count: Int) throws -> [Int] {
        let table = try Parquet.read(path: path, columns: [DQMTable.runColumn, DQMTable.splitColumn])
        let runs = try DQMTable.runNumbers(table)
        guard let roles = table[DQMTable.splitColumn]?.int64Values else { throw ValidationError("\(path) has no train_label column") }
        return Array(zip(runs, roles).filter { $0.1 == 0 }.map(\.0).prefix(count))
    }
}
