import ArgumentParser
import HEPMLDQM

/// `hepml demo` (`make demo`): the whole offline DQM workflow on a synthetic data set.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate a synthetic DQM data set, fetch it, train PCA, autoencoders and a statistical test, and assess them.")

    @Option(help: "Working directory (data, Parquet, models, report).") var directory = DQMDemoOptions().directory
    @Option(help: "Number of runs.") var runs = DQMDemoOptions().runs
    @Option(help: "Seed of the data set, the split and the weights.") var seed = DQMDemoOptions().seed
    @Option(help: "Minimum mean occupancy of the (upstream HEAD) rebinning before PCA and the autoencoder; 0 turns it off.")
    var rebinMinOccupancy = DQMDemoOptions().rebinMinimumOccupancy
    @Option(help: "Autoencoder options: hepml (the default) or upstream (AutoDQM_ML's DEFAULT_OPT); see docs/dqm.md.")
    var aeConfig = AutoencoderPreset.hepml
    @Flag(help: "No progress bars.") var quiet = false

    func run() throws {
        var options = DQMDemoOptions()
        options.directory = directory
        options.runs = runs
        options.seed = seed
        options.rebinMinimumOccupancy = rebinMinOccupancy
        options.autoencoderPreset = aeConfig
        options.quiet = quiet
        let result = try DQMDemo.run(options, log: { print($0) }, warn: warn)
        print("report: \(result.reportPath)")
    }
}
