import ArgumentParser
import Foundation
import HEPMLExperiment
import HEPMLHCAL
import HEPMLNN
import HEPMLONNX

struct HCALCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hcal",
        abstract: "HCAL online DQM: digi-occupancy maps per lumisection → autoencoders → per-channel anomaly flags.",
        discussion: """
        generate writes synthetic Hcal4DQMAnalyzer-layout ROOT files; prepare turns analyzer files into a data set \
        directory; train fits a catalogue model; score flags channels of the test LS; evaluate injects anomalies and \
        reports detection per strength; merge combines the parts of a sharded score (--shard K/N); export writes the \
        model as ONNX; serve runs the live monitor (docs/hcal-serve.md) and replay sends a file's lumisections to it. See docs/hcal.md.
        Models: \(HCALModelOptions.catalogue.joined(separator: ", ")) (production-like: \(HCALModelOptions.productionName)).
        """,
        subcommands: [HCALGenerateCommand.self, HCALPrepareCommand.self, HCALTrainCommand.self, HCALScoreCommand.self,
                      HCALMergeCommand.self, HCALEvaluateCommand.self, HCALExportCommand.self, HCALServeCommand.self, HCALReplayCommand.self])
}

struct HCALGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate",
        abstract: "Write synthetic Hcal4DQMAnalyzer-layout ROOT files (Run<number>.root) and faults.json.")
    @Option(name: .shortAndLong, help: "Output directory.") var output = "hcal-data"
    @Option(help: "Runs (fills).") var runs = 3
    @Option(help: "Lumisections per run (≤ 1999).") var lumisections = 800
    @Option(help: "Events per LS at the start of a fill.") var eventsPerLs = 400.0
    @Flag(help: "Inject labelled faults (dead RBX, hot channels, a degrading channel) in the last 40 % of each run.") var faults = false
    @Option(help: "Seed.") var seed: UInt64 = 123

    func run() throws {
        var options = HCALSyntheticData.Options()
        options.runs = runs
        options.lumisections = lumisections
        options.eventsPerLumisection = eventsPerLs
        options.faults = faults
        options.seed = seed
        try HCALSyntheticData(options: options).write(to: output) { print($0) }
    }
}

struct HCALPrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prepare",
        abstract: "Read analyzer ROOT files into a data set directory (LS table, renormalized maps, mask, scaler).")
    @Argument(help: "Analyzer ROOT files or directories of them.") var inputs: [String]
    @Option(name: .shortAndLong, help: "Data set directory.") var output = "hcal-dataset"
    @Option(help: "Subdetector: he or hb.") var subdetector = "he"
    @Option(help: "Emap CSV (columns Det, type/depth, RBX, Eta, Phi) for the mask instead of the built-in geometry.") var emap: String?
    @Flag(help: "The files come from DQMIO and are already in emap order: no Emap adjust.") var dqmio = false
    @Option(help: "Per-channel scaling: max, minmax or none.") var scaling = "max"
    @Option(help: "Training LS per run, first:last (negative last counts from the end).") var trainLs = "1:500"
    @Option(help: "Test LS per run.") var testLs = "501:-1"

    func run() throws {
        guard let subdetector = HCALSubdetector(rawValue: subdetector) else { throw ValidationError("--subdetector must be he or hb") }
        guard let scaling = HCALDataset.Scaling(rawValue: scaling) else { throw ValidationError("--scaling must be minmax, max or none") }
        var files: [String] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory), isDirectory.boolValue {
                files += try FileManager.default.contentsOfDirectory(atPath: input).filter { $0.hasSuffix(".root") }.sorted()
                    .map { (input as NSString).appendingPathComponent($0) }
            } else {
                files.append(input)
            }
        }
        let dataset = try HCALDataset.prepare(files: files, output: output, subdetector: subdetector, emapCSV: emap, emapAdjust: !dqmio,
                                              scaling: scaling, trainingRange: try .init(parsing: trainLs), testRange: try .init(parsing: testLs)) { print($0) }
        print("\(dataset.mask.activeCount) active \(subdetector.rawValue.uppercased()) channels; data set in \(output)")
    }
}

struct HCALTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train",
        abstract: "Train a catalogue model on the training LS (resumable; loads a finished run unless --retrain).")
    @Option(name: .shortAndLong, help: "Data set directory from `hepml hcal prepare`.") var dataset = "hcal-dataset"
    @Option(help: "Model: [rin-|rin-dc-][res]cnn{fnn|rnn|gnnrnn}{ae|vae} or [rin-]graphstad, e.g. \(HCALModelOptions.catalogue.joined(separator: ", ")).")
    var model = HCALModelOptions.productionName
    @Option(help: "Subdetector (must match the data set): he or hb.") var subdetector = "he"
    @Option(name: .shortAndLong, help: "Run directory (default: hcal-runs/<model>-<subdetector>).") var output: String?
    @Option(help: "Latent size L.") var latent = 4
    @Option(help: "Window length in LS (temporal models).") var window = 5
    @Option(help: "Recurrent cell: lstm, gru or rnn.") var cell = "lstm"
    @Option(help: "Epochs.") var epochs = 10
    @Option(help: "Windows per batch.") var batchSize = 4
    @Option(help: "Adam learning rate.") var learningRate = 0.01
    @Option(help: "Early-stopping patience.") var patience = 10
    @Option(help: "Seed.") var seed: UInt64 = 123
    @Flag(help: "Train again even if the run directory holds a model.") var retrain = false
    @Flag(help: "No progress bar.") var quiet = false

    func run() throws {
        guard let subdetector = HCALSubdetector(rawValue: subdetector) else { throw ValidationError("--subdetector must be he or hb") }
        guard let cell = RecurrentCellName(rawValue: cell) else { throw ValidationError("--cell must be lstm, gru or rnn") }
        let data = try HCALDataset(directory: dataset)
        var options = try HCALModelOptions.named(model, subdetector: subdetector)
        options.latent = latent
        if options.architecture != .cnnfnnae { options.window = window }
        options.recurrentCell = cell.cell
        var settings = HCALTrainingSettings(model: model, options: options, dataset: data)
        settings.epochs = epochs
        settings.batchSize = batchSize
        settings.learningRate = learningRate
        settings.patience = patience
        settings.seed = seed
        let directory = RunDirectory(output ?? "hcal-runs/\(model)-\(subdetector.rawValue)")
        let summary = try options.spec().summary()
        print("\(model) (\(subdetector.rawValue.uppercased())): \(summary.parameters) parameters, input \(options.inputShape)")
        try HCALTraining.train(dataset: data, directory: directory, settings: settings, retrain: retrain, showProgress: !quiet)
        print("model and scoring files in \(directory.path)")
    }
}

extension HCALScorer.ScoreKind: ExpressibleByArgument {}

/// The recurrent cells by their command-line names.
enum RecurrentCellName: String {
    case lstm, gru, rnn
    var cell: RecurrentCell {
        switch self {
        case .lstm: return .lstm
        case .gru: return .gru
        case .rnn: return .rnn
        }
    }
}

struct HCALScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "score",
        abstract: "Score the test LS: per-channel |error|/σ and flags (scores.parquet, lumisection_scores.parquet, score_maps/).")
    @Option(name: .shortAndLong, help: "Data set directory.") var dataset = "hcal-dataset"
    @Option(name: .shortAndLong, help: "Run directory of the trained model.") var model: String
    @Option(name: .shortAndLong, help: "Output directory.") var output = "hcal-scores"
    @Option(help: "Flag threshold on |e|/σ.") var threshold = Double(HCALScorer.defaultThreshold)
    @Option(help: "Score: last-ls (|e| of the LS) or window (mean |e| over the window ending at the LS).")
    var score = HCALScorer.ScoreKind.lastLumisection
    @Option(help: "LS range to score (default: the data set's test range).") var ls: String?
    @Option(help: "Score only part K of N of the runs (K from 0 to N-1; a run never split): writes scores.part-K-of-N.parquet, lumisection_scores.part-K-of-N.parquet, the part's score maps and scores.part-K-of-N.manifest.json for `hcal merge`.",
            transform: Shard.init(parsing:))
    var shard: Shard?

    func run() throws {
        let scorer = try HCALScorer(runDirectory: model, threshold: Float(threshold), score: score)
        let summary = try scorer.scoreDataset(try HCALDataset(directory: dataset), range: try ls.map { try .init(parsing: $0) }, output: output,
                                              shard: shard) { print($0) }
        print("\(summary.lumisections) LS scored, \(summary.flaggedLumisections) with flagged channels (\(summary.flaggedChannels) flags); results in \(output)")
    }
}

struct HCALMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge",
        abstract: "Combine the parts of a sharded `hcal score` into the scores.parquet, lumisection_scores.parquet and score_maps/ an unsharded score writes.")
    @Argument(help: "The parts (scores.part-K-of-N.parquet, each with its lumisection table and .manifest.json beside it).") var parts: [String]
    @Option(name: .shortAndLong, help: "Output directory.") var output: String

    func run() throws {
        let summary = try HCALScoreFiles.mergeScores(parts: parts, output: output) { print($0) }
        print("\(summary.lumisections) LS, \(summary.flaggedLumisections) with flagged channels (\(summary.flaggedChannels) flags); results in \(output)")
    }
}

struct HCALEvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate",
        abstract: "Inject synthetic anomalies per strength into test LS and report detection (summary.json, index.html).")
    @Option(name: .shortAndLong, help: "Data set directory.") var dataset = "hcal-dataset"
    @Option(name: .shortAndLong, help: "Run directory of the trained model.") var model: String
    @Option(name: .shortAndLong, help: "Report directory (default: <model>/report).") var output: String?
    @Option(help: "Flag threshold on |e|/σ.") var threshold = Double(HCALScorer.defaultThreshold)
    @Option(help: "Comma-separated strengths Rd.") var strengths = "2.0,0.8,0.6,0.4,0.2,0.0"
    @Option(help: "Anomalous LS per strength.") var samples = 200
    @Flag(help: "Inject into every LS of the window, not only the last.") var wholeWindow = false
    @Option(name: .customLong("anomalous-ls"), help: "Inject into the last K LS of the window (a fault in its K-th LS; 1 is the default, the window length is --whole-window).")
    var anomalousLumisections: Int?
    @Option(help: "Score: last-ls (|e| of the last LS) or window (mean |e| over the window).")
    var score = HCALScorer.ScoreKind.lastLumisection
    @Option(help: "Seed.") var seed: UInt64 = 101

    func run() throws {
        if wholeWindow && anomalousLumisections != nil { throw ValidationError("--whole-window and --anomalous-ls exclude each other") }
        let scorer = try HCALScorer(runDirectory: model, threshold: Float(threshold), score: score)
        var options = HCALEvaluation.Options()
        options.strengths = try strengths.split(separator: ",").map {
            guard let value = Double($0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--strengths: '\($0)' is not a number") }
            return value
        }
        options.samples = samples
        options.anomalousLumisections = wholeWindow ? nil : (anomalousLumisections ?? 1)
        options.seed = seed
        let directory = RunDirectory(model)
        let report = output ?? directory.reportDirectory
        let summary = try HCALEvaluation.run(scorer: scorer, dataset: try HCALDataset(directory: dataset), options: options, runDirectory: directory,
                                             reportDirectory: report) { print($0) }
        print(String(format: "healthy LS with a flag: %.3f; batch-1 latency median %.2f ms", summary.healthyLumisectionFalseAlarmRate, summary.latency.medianMilliseconds))
        print("report in \(report)/index.html")
    }
}

struct HCALExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export",
        abstract: "Write the trained network as ONNX (input [N, 1, ieta, 72, T·Dp]; scaling, RIN and the side split stay outside).")
    @Option(name: .shortAndLong, help: "Run directory of the trained model.") var model: String
    @Option(name: .shortAndLong, help: "ONNX file (default: <model>/model.onnx, or model_stateful.onnx).") var output: String?
    @Flag(help: "Streaming variant: every recurrent layer's initial state is an input (<layer>.h_in, .c_in) and its final state an output (.h_out, .c_out).")
    var stateful = false

    func run() throws {
        let directory = RunDirectory(model)
        let path = output ?? directory.file(stateful ? "model_stateful.onnx" : "model.onnx")
        try directory.exportONNX(to: path, documentation: "HEPML HCAL autoencoder; layout in docs/hcal.md",
                                 options: ONNXExporter.Options(statefulRecurrent: stateful))
        print("wrote \(path)")
    }
}
