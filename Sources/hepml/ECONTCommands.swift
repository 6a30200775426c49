import ArgumentParser
import Foundation
import HEPMLCore
import HEPMLECONT
import HEPMLExperiment

struct ECONTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "econt",
        abstract: "HGCAL ECON-T trigger-data autoencoder (Ecoder parity): train, evaluate against the baselines, export to ONNX.",
        discussion: """
        Input: CALQ CSV files (columns CALQ_0…CALQ_47, 35 ADC = 1 MIP_T), e.g. ../shared/data/econt/ttbar_0PU.csv. \
        Each network's results go to <output>/<run name>/: weights.safetensors, history.json/.csv, model.json, \
        encoder.onnx, decoder.onnx and the verify_*.csv files; <output>/summary.csv and <output>/report/index.html \
        compare the autoencoders with the threshold, super-trigger-cell and best-choice baselines.
        Networks: \(NetworkDescription.catalog.map(\.name).joined(separator: ", ")).
        The emd networks (and --loss emdCNN:<name>) need a critic from `hepml econt train-emd-loss`.
        """,
        subcommands: [ECONTTrainCommand.self, ECONTEvaluateCommand.self, ECONTExportCommand.self, ECONTTrainEMDLossCommand.self])
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
    @Option(help: "Comma-separated network names; \"\" runs every catalog network (EMD-CNN ones when their critic exists).")
    var models = NetworkDescription.defaultName
    @Option(help: "Replace every network's loss: telescope, weightedMSE, mse or emdCNN:<critic name>.")
    var loss: String?
    @Option(help: "Directory of trained EMD-CNN critics (default: <output>/emd-cnn).")
    var emdCnnDir: String?
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
        if let loss, LossChoice(name: loss) == nil {
            throw ValidationError("--loss must be telescope, weightedMSE, mse or emdCNN:<critic name>, got \(loss)")
        }
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
        options.links = nElinks
        options.quantize = quantize
        options.loss = loss.flatMap(LossChoice.init(name:))
        options.criticDirectory = emdCnnDir
        options.models = models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if options.models.isEmpty { options.models = options.trainableCatalogNetworks }
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
        abstract: "Train the networks (Adam 1e-3, batch 500, early stopping on the validation loss), save, export and evaluate them.",
        discussion: """
        A network whose run directory holds weights.safetensors is loaded, not trained, unless --retrain. \
        Training writes a checkpoint after every epoch (<run>/checkpoints/); an interrupted run started again \
        with the same options resumes after its last completed epoch and ends with the weights of an \
        uninterrupted run.
        """)

    @OptionGroup var study: ECONTStudyArguments
    @Option(help: "Maximum epochs.")
    var epochs = 200
    @Option(help: "Early-stopping patience in epochs.")
    var patience = StudyOptions(inputs: [], outputDirectory: "").patience
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
        abstract: "Evaluate trained networks and all baselines on the validation modules: metrics, figures, summary, HTML report, RTL CSVs.",
        discussion: """
        Never trains: each network's <output>/<run>/weights.safetensors must exist. Give the data options of the \
        training run (same files, --seed with --random-split, --quantize, --n-elinks, --loss) so that the same \
        validation modules and run directories are used; --eval-only evaluates on every module.
        """)

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
    @Option(help: "The --loss the networks were trained with (it is part of the run directory's name).")
    var loss: String?
    @Option(help: "Seed (only shapes matter: the weights are loaded).")
    var seed: UInt64 = 1

    func validate() throws {
        guard ELinkBudget(links: nElinks) != nil else { throw ValidationError("--n-elinks must be 2…5") }
    }

    func run() throws {
        var options = StudyOptions(inputs: [], outputDirectory: output)
        options.quantize = quantize
        options.links = nElinks
        if let loss {
            guard let choice = LossChoice(name: loss) else { throw ValidationError("unknown --loss \(loss)") }
            options.loss = choice
        }
        for name in models.split(separator: ",").map(String.init) {
            let directory = try Study.exportTrainedNetwork(named: name, options: options, seed: seed)
            print("\(directory): encoder.onnx, decoder.onnx")
        }
    }
}

struct ECONTTrainEMDLossCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-emd-loss",
        abstract: "Train the EMD-approximating CNN on exact-EMD targets; networks then train with it as a frozen loss.",
        discussion: """
        Pairs of modules and their exact EMD: --source pair uses all ordered pairs of the first 60 % of the \
        modules for training and of the last 40 % for validation (quadratic: keep --nrows-per-file small or set \
        --max-pairs); --source ae uses (input, output) of an autoencoder run's verify_input_calQ.csv and \
        verify_decoded_calQ.csv (train it with --n-csv -1) split 70/30; --source app uses both.
        The critic is saved as <output>/emd-cnn/<name>.safetensors with <name>.json (pairs, best epoch, \
        validation MSE, relative difference). `hepml econt train --models 8x8_c8_S2_emdCNN` uses the critic \
        ae_mse; `--loss emdCNN:<name>` uses any.
        """)

    @Option(name: [.short, .customLong("input")], parsing: .upToNextOption, help: "CALQ CSV files or directories of them (--source pair, app).")
    var inputs: [String] = []
    @Option(name: [.short, .customLong("output")], help: "Output directory; the critic goes to <output>/emd-cnn/.")
    var output = "econt-out"
    @Option(help: "Name of the critic (the --loss emdCNN:<name> and catalog networks refer to it).")
    var name = "ae_mse"
    @Option(help: "Training pairs: pair, ae or app.")
    var source = EMDPairSource.pair.rawValue
    @Option(help: "Run directory of a trained network holding its verify_*calQ.csv files (--source ae, app).")
    var aeRun: String?
    @Flag(help: "Files have no header: the first 48 columns are CALQ_0…47 and every row is data.")
    var noHeader = false
    @Option(help: "Rows read per file.")
    var nrowsPerFile = 1000
    @Option(help: "At most this many module pairs per split, drawn with the seed (default: all ordered pairs).")
    var maxPairs: Int?
    @Option(help: "Epochs (the best validation epoch is kept).")
    var epochs = 64
    @Option(help: "Minibatch size.")
    var batchSize = 32
    @Option(help: "Seed for weights, shuffling and pair sampling.")
    var seed: UInt64 = 1
    @Flag(help: "Train again even if the critic exists (and discard an interrupted training).")
    var retrain = false
    @Flag(help: "No progress output.")
    var quiet = false

    func validate() throws {
        guard EMDPairSource(rawValue: source) != nil else { throw ValidationError("--source must be pair, ae or app") }
        guard epochs > 0, batchSize > 0, nrowsPerFile > 0, (maxPairs ?? 1) > 0 else {
            throw ValidationError("--epochs, --batch-size, --nrows-per-file and --max-pairs must be positive")
        }
        if source != "ae" && inputs.isEmpty { throw ValidationError("give input files or directories with -i") }
    }

    func run() throws {
        var options = EMDCriticOptions(name: name, outputDirectory: output)
        options.inputs = inputs
        options.header = !noHeader
        options.rowsPerFile = nrowsPerFile
        options.source = EMDPairSource(rawValue: source) ?? .pair
        options.autoencoderRun = aeRun
        options.maxPairs = maxPairs
        options.epochs = epochs
        options.batchSize = batchSize
        options.seed = seed
        options.retrain = retrain
        options.quiet = quiet
        _ = try EMDCriticTraining.run(options) { print($0) }
    }
}

/// Study errors (unknown network, missing weights) are printed by ArgumentParser as "Error: …".
private func runStudy(_ options: StudyOptions) throws -> [ModelResult] {
    try Study.run(options) { print($0) }
}
