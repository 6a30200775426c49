import ArgumentParser
import Foundation
import HEPMLCore
import HEPMLDQM
import HEPMLExperiment

/// `hepml dqm …`: the offline DQM anomaly-detection workflow (AutoDQM_ML's fetch/train/assess).
struct DQMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dqm",
        abstract: "Offline DQM anomaly detection: generate, fetch, train, assess, export.",
        subcommands: [DQMGenerate.self, DQMFetchCommand.self, DQMMergeCommand.self, DQMTrainCommand.self, DQMAssessCommand.self, DQMExportCommand.self]
    )
}

/// Warnings go to standard error so that piped standard output stays the result.
func warn(_ message: String) {
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}

func readFile(_ path: String) throws -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read '\(path)'")
    }
    return data
}

struct DQMGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a synthetic, labelled DQM data set as ROOT files plus contents.json and datasets.json.")

    @Option(help: "Directory for the ROOT files and JSON files.") var outputDir = "dqm-synthetic"
    @Option(help: "Number of runs (one file each).") var runs = 200
    @Option(help: "Primary dataset name in the file names.") var primaryDataset = "ZeroBias"
    @Option(help: "Fraction of runs labelled bad.") var badFraction = 0.15
    @Option(help: "Seed of everything random in the data set.") var seed: UInt64 = 2022
    @Flag(help: "No progress output.") var quiet = false

    func validate() throws {
        guard runs >= 2 else { throw ValidationError("--runs must be at least 2") }
        guard (0...1).contains(badFraction) else { throw ValidationError("--bad-fraction must be in [0, 1]") }
    }

    func run() throws {
        var configuration = SyntheticDQMConfiguration()
        configuration.runCount = runs
        configuration.primaryDataset = primaryDataset
        configuration.badFraction = badFraction
        configuration.seed = seed
        let dataset = try SyntheticDQMDataset.generate(configuration)
        let paths = try dataset.write(to: outputDir, quiet: quiet)
        let bad = dataset.runs.filter { $0.label == .bad }.count
        let unknown = dataset.runs.filter { $0.label == .unknown }.count
        print("wrote \(dataset.runs.count) runs × \(dataset.contents.histograms.count) histograms to \(outputDir) (\(bad) bad, \(unknown) unlabelled)")
        print("contents: \(paths.contents)\ndatasets: \(paths.datasets)")
    }
}

struct DQMFetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Read the listed histograms from local DQM ROOT files into <output-dir>/<PD>.parquet.")

    @Option(help: "Contents JSON: {subsystem: [histogram paths]}.") var contents: String
    @Option(help: "Datasets JSON: primary datasets, years, productions, eras, runs, good_runs, bad_runs.") var datasets: String
    @Option(help: "DIR (searched recursively), GLOB or FILE-LIST; repeatable.") var input: [String]
    @Option(help: "Directory for the Parquet files.") var outputDir = "output"
    @Option(help: "Fetch only part K of N (K from 0 to N-1; runs split into N blocks, a run's files never split): writes <PD>.part-K-of-N.parquet and its .manifest.json for `dqm merge`.",
            transform: Shard.init(parsing:))
    var shard: Shard?
    @Flag(help: "Fail, writing nothing, when any input file cannot be read (default: skip it with a warning).") var failOnSkip = false
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        _ = try DQMFetch.fetchToParquet(contentsFile: contents, datasetsFile: datasets, inputs: input, outputDirectory: outputDir,
                                        shard: shard, failOnSkip: failOnSkip, quiet: quiet, log: { print($0) }, warn: warn)
    }
}

struct DQMMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the parts of a sharded `dqm fetch` of one primary dataset into the table an unsharded fetch writes.")

    @Argument(help: "The part Parquet files (<PD>.part-K-of-N.parquet, each with its .manifest.json beside it).") var parts: [String]
    @Option(name: [.short, .customLong("output")], help: "The merged Parquet table.") var output: String

    func run() throws {
        _ = try DQMFetch.mergeToParquet(parts: parts, output: output, log: { print($0) }, warn: warn)
    }
}

extension DQMStatistic: ExpressibleByArgument {}
extension AutoencoderArchitecture.Mode: ExpressibleByArgument {}
extension AutoencoderPreset: ExpressibleByArgument {}

struct DQMTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train PCA / autoencoders or run a statistical test; add <hist>_score_<tag> (and _reco_) columns.")

    @Option(help: "pca | autoencoder (ae) | statistical_tester | CONFIG.json (an AutoDQM_ML algorithm JSON).") var algorithm: String
    @Option(help: "Fetched (or previously trained) Parquet file.") var inputFile: String
    @Option(help: "Directory for the output Parquet and the models (default: output).") var outputDir: String?
    @Option(help: "Tag in column and model names (default: default).") var tag: String?
    @Option(help: "Comma-separated histogram column names (default: all).") var histograms: String?
    @Option(help: "PCA components (default 2).") var nComponents: Int?
    @Option(help: "Reference run(s) of the statistical tester, comma-separated.") var reference: String?
    @Option(help: "Statistic of the statistical tester: \(DQMStatistic.allCases.map(\.rawValue).joined(separator: ", ")).") var statistic: DQMStatistic?
    @Option(help: "individual (one AE per histogram) or simultaneous.") var autoencoderMode: AutoencoderArchitecture.Mode?
    @Option(help: "Minimum entries of every histogram for a run to be used (default 10000).") var lowStatThreshold: Double?
    @Option(help: "Merge bins to this minimum mean normalized occupancy (upstream 0.0033).") var rebinMinOccupancy: Double?
    @Option(help: "Autoencoder options: hepml (the default) or upstream (AutoDQM_ML's DEFAULT_OPT, for comparisons); replaces a JSON config's.")
    var aeConfig: AutoencoderPreset?
    @Option(help: "Maximum autoencoder epochs (default 300, upstream 1000; early stopping decides).") var epochs: Int?
    @Option(help: "Seed of the train/held-out split and the weights (default 0).") var seed: UInt64?
    @Flag(help: "Refit even when a model file with this name exists.") var retrain = false
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        let configuration = try makeConfiguration()
        let result = try DQMTraining.run(inputFile: inputFile, configuration: configuration)
        print("\(configuration.algorithm.rawValue) [\(configuration.tag)]: \(result.modelFiles.count) models (\(result.loadedModels.count) loaded) → \(result.outputPath)")
    }

    func makeConfiguration() throws -> DQMTrainingConfiguration {
        var configuration: DQMTrainingConfiguration
        if algorithm.lowercased().hasSuffix(".json") {
            configuration = try DQMTrainingConfiguration(json: try readFile(algorithm), file: algorithm)
        } else {
            guard let name = DQMAlgorithm(name: algorithm) else {
                throw ValidationError("unknown algorithm '\(algorithm)' (pca, autoencoder, ae, statistical_tester or a .json file)")
            }
            configuration = DQMTrainingConfiguration(algorithm: name)
        }
        if let outputDir { configuration.outputDirectory = outputDir }
        if let tag { configuration.tag = tag }
        if let histograms {
            configuration.histograms = histograms.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let nComponents {
            guard nComponents >= 1 else { throw ValidationError("--n-components must be positive") }
            configuration.componentCount = nComponents
        }
        if let reference {
            configuration.references = try reference.split(separator: ",").map { text in
                guard let run = Int(text.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--reference: '\(text)' is not a run number") }
                return run
            }
        }
        if let statistic { configuration.statistic = statistic }
        if let autoencoderMode { configuration.autoencoderMode = autoencoderMode }
        if let lowStatThreshold { configuration.lowStatisticsThreshold = lowStatThreshold }
        if let rebinMinOccupancy {
            guard rebinMinOccupancy > 0, rebinMinOccupancy < 1 else { throw ValidationError("--rebin-min-occupancy must be in (0, 1)") }
            configuration.rebinMinimumOccupancy = rebinMinOccupancy
        }
        if let aeConfig { configuration.autoencoderOptions = aeConfig.options }
        if let epochs {
            guard epochs >= 1 else { throw ValidationError("--epochs must be positive") }
            configuration.autoencoderOptions.epochs = epochs
        }
        if let seed { configuration.seed = seed }
        configuration.retrain = configuration.retrain || retrain
        configuration.quiet = quiet
        return configuration
    }
}

struct DQMAssessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assess",
        abstract: "ROC/AUC per histogram, HF/RF-ROC per algorithm, reconstructions and flag tables as one HTML report.")

    @Option(help: "Trained Parquet file (with <hist>_score_<tag> columns).") var inputFile: String
    @Option(help: "Report directory.") var outputDir = "dqm-report"
    @Option(help: "Comma-separated histogram columns (default: all with scores).") var histograms: String?
    @Option(help: "Comma-separated algorithm tags (default: all).") var algorithms: String?
    @Option(help: "Comma-separated runs for the original-vs-reconstruction plots (default: the worst-scored).") var runs: String?
    @Option(help: "Worst-scored runs drawn per histogram and algorithm when --runs is not given.") var nRuns = 1
    @Option(help: "Seed of the bootstrap.") var seed: UInt64 = 0
    @Option(help: "Truth JSON ([{\"run\": N, \"anomaly\": KIND or null, \"histogram\": COLUMN}], e.g. the truth.json of dqm generate): adds the AUC per anomaly kind.")
    var truth: String?

    func run() throws {
        var configuration = DQMAssessmentConfiguration()
        configuration.histograms = histograms.map(list) ?? []
        configuration.algorithms = algorithms.map(list) ?? []
        configuration.runs = try (runs.map(list) ?? []).map { text in
            guard let run = Int(text) else { throw ValidationError("--runs: '\(text)' is not a run number") }
            return run
        }
        configuration.worstRunCount = max(0, nRuns)
        configuration.seed = seed
        let truthList = try truth.map { try DQMRunTruth.list(json: try readFile($0), file: $0) }
        let assessed = try DQMAssessment.assess(inputFile: inputFile, outputDirectory: outputDir, configuration: configuration, truth: truthList)
        print(DQMAssessment.summaryTable(assessed.summaries))
        if let table = assessed.detectionTable { print("run-level AUC (RF-ROC N=1) per anomaly kind, evaluated runs vs held-out good runs:\n" + table) }
        print("report: \(assessed.reportPath)")
    }

    private func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

struct DQMExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Autoencoders trained by `dqm train` as ONNX models: one .onnx per run directory, one input and output per histogram.")

    @Option(name: .customLong("run"), help: "Autoencoder run directory (autoencoder_<…>); repeatable.") var runPaths: [String] = []
    @Option(help: "Directory whose autoencoder run directories are all exported (default: output, when no --run is given).") var modelDir: String?
    @Option(help: "Directory for the .onnx files (default: inside each run directory).") var outputDir: String?

    func run() throws {
        var runs = runPaths.map(RunDirectory.init)
        if let modelDir { runs += try DQMExport.autoencoderRuns(in: modelDir) }
        if runPaths.isEmpty && modelDir == nil { runs = try DQMExport.autoencoderRuns(in: "output") }
        guard !runs.isEmpty else { throw ValidationError("no trained autoencoder to export") }
        if let outputDir { try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true) }
        for run in runs {
            print("\(run.path) → \(try DQMExport.exportAutoencoder(run, to: outputDir))")
        }
    }
}
