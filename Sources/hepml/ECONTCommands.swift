import ArgumentParser
import Foundation
import HEPMLCore
import HEPMLECONT

struct ECONTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "econt",
        abstract: "HGCAL ECON-T trigger-data autoencoder (Ecoder parity): train, evaluate against the baselines, export to ONNX.",
        subcommands: [ECONTTrainCommand.self, ECONTEvaluateCommand.self, ECONTExportCommand.self])
}

/// Options shared by `train` and `evaluate`.
struct ECONTStudyArguments: ParsableArguments {
    @Option(name: [.short, .customLong("input")], parsing: .upToNextOption, help: "CALQ CSV files or directories of them.")
    var inputs: [String] = []
    @Option(name: [.short, .customLong("output")], help: "Output directory (one subdirectory per network, summary.csv, report/).")
    var output = "econt-out"
    @Flag(help: "Files have no header: the first 48 columns are CALQ_0…47 and every row is data.")
    var noHeader = false
    @Option(help: "Rows read per file.")
    var nrowsPerFile = 500_000
    @Flag(help: "Sum consecutive modules pairwise (PU400 emulation from PU200).")
    var double = false
    @Option(help: "Keep only the first k validation modules (−1: all).")
    var maxVal = -1
    @Flag(help: "Train on the first 5000 training modules only.")
    var quickTrain = false
    @Flag(help: "No training: every module is validation; needs saved weights.")
    var evalOnly = false
    @Option(help: "Seed for weights, shuffling and --random-split.")
    var seed: UInt64 = 1
    @Flag(help: "Seeded random validation split instead of the first 20 % of modules.")
    var randomSplit = false
    @Flag(help: "Normalize inputs by the largest TC instead of the power of two of the sum.")
    var rescaleInputToMax = false
    @Flag(help: "Restore decoded modules by the largest TC instead of the sum's power of two.")
    var rescaleOutputToMax = false
    @Option(help: "Comma-separated network names (default 8x8_c8_S2_tele).")
    var models = NetworkDescription.defaultName
    @Option(help: "eLinks 2…5: latent bits 3/5/7/9 and best-choice cells 4/6/9/14.")
    var nElinks = 5
    @Flag(help: "Quantize the encoder with the QKeras bit settings (inputs, weights, conv outputs, latents).")
    var quantize = false
    @Flag(help: "Add dMean, dRMS, zero_frac and SSD to EMD.")
    var full = false
    @Option(help: "Rows of the RTL-verification CSVs (−1: all).")
    var nCsv = 1
    @Flag(help: "No figures and no HTML report.")
    var skipPlot = false
    @Flag(help: "No progress output.")
    var quiet = false

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give input files or directories with -i") }
        guard (2...5).contains(nElinks) else { throw ValidationError("--n-elinks must be 2…5") }
        guard nrowsPerFile > 0 else { throw ValidationError("--nrows-per-file must be positive") }
    }

    func options() -> StudyOptions {
        var options = StudyOptions(inputs: inputs, outputDirectory: output)
        options.header = !noHeader
        options.rowsPerFile = nrowsPerFile
        options.double = double
        options.maxValidation = maxVal
        options.quickTrain = quickTrain
        options.evaluationOnly = evalOnly
        options.seed = seed
        options.randomSplit = randomSplit
        options.inputScaling = rescaleInputToMax ? .maximum : .sumPowerOfTwo
        options.outputScaling = rescaleOutputToMax ? .maximum : .sumPowerOfTwo
        options.models = models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if options.models.isEmpty { options.models = NetworkDescription.catalog.map(\.name) }
        options.links = nElinks
        options.quantize = quantize
        options.full = full
        options.csvRows = nCsv
        options.skipPlots = skipPlot
        options.quiet = quiet
        return options
    }
}

struct ECONTTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the networks (Adam 1e-3, batch 500, early stopping on the validation loss), save, export and evaluate them.")

    @OptionGroup var study: ECONTStudyArguments
    @Option(help: "Maximum epochs.")
    var epochs = 200
    @Option(help: "Early-stopping patience in epochs.")
    var patience = 3
    @Flag(help: "Train even if the output directory holds trained weights.")
    var retrain = false

    func validate() throws {
        guard epochs > 0, patience > 0 else { throw ValidationError("--epochs and --patience must be positive") }
    }

    func run() throws {
        var options = study.options()
        options.epochs = epochs
        options.patience = patience
        options.retrain = retrain
        _ = try runStudy(options)
    }
}

struct ECONTEvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate trained networks and all baselines on the validation modules: metrics, figures, summary, HTML report, RTL CSVs.")

    @OptionGroup var study: ECONTStudyArguments

    func run() throws {
        var options = study.options()
        options.mayTrain = false
        _ = try runStudy(options)
    }
}

struct ECONTExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write encoder.onnx, decoder.onnx and model.json of trained networks from their saved weights.")

    @Option(name: [.short, .customLong("output")], help: "Output directory of the training run.")
    var output = "econt-out"
    @Option(help: "Comma-separated network names.")
    var models = NetworkDescription.defaultName
    @Option(help: "eLinks the networks were trained for.")
    var nElinks = 5
    @Flag(help: "The networks were trained with --quantize.")
    var quantize = false
    @Option(help: "Seed (only shapes matter: the weights are loaded).")
    var seed: UInt64 = 1

    func run() throws {
        guard let budget = ELinkBudget(links: nElinks) else { throw ValidationError("--n-elinks must be 2…5") }
        var options = StudyOptions(inputs: [], outputDirectory: output)
        options.quantize = quantize
        options.links = nElinks
        for name in models.split(separator: ",").map(String.init) {
            let network = try Study.network(named: name, options: options)
            let directory = (output as NSString).appendingPathComponent(Study.runName(network, options: options))
            let model = try ECONTAutoencoder(network, budget: budget, seed: seed)
            try model.loadWeights(from: (directory as NSString).appendingPathComponent("weights.npz"))
            try ModelFiles.writeDescription(model, to: (directory as NSString).appendingPathComponent("model.json"))
            try ModelFiles.exportONNX(model, to: directory)
            print("\(directory): encoder.onnx, decoder.onnx, model.json")
        }
    }
}

/// Study errors (unknown network, missing weights) are printed by ArgumentParser as "Error: …".
private func runStudy(_ options: StudyOptions) throws -> [ModelResult] {
    try Study.run(options) { print($0) }
}
