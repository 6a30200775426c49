import Foundation
import HEPMLCore
import HEPMLExperiment

extension StudyOptions {
    /// Every catalog network that can train with these options, in catalog order: a network
    /// whose loss (`loss` when set, else the catalog's) is an EMD-CNN only when that critic has
    /// been trained (`hepml econt train-emd-loss`). An empty `--models` selects these.
    public var trainableCatalogNetworks: [String] {
        let critics = criticDirectory ?? EMDCriticTraining.directory(output: outputDirectory)
        return NetworkDescription.catalog.filter { network in
            guard case .emdCNN(let critic) = loss ?? network.loss else { return true }
            return FileManager.default.fileExists(atPath: EMDCritic.weightsPath(name: critic, directory: critics))
        }.map(\.name)
    }
}

extension Study {
    /// `hepml econt export`: writes encoder.onnx and decoder.onnx of the trained network `name`
    /// from the weights in its run directory under `options.outputDirectory`
    /// (`options` gives the eLinks, quantization and loss it was trained with; `seed` only
    /// initializes the weights that are then loaded). Returns the run directory.
    public static func exportTrainedNetwork(named name: String, options: StudyOptions, seed: UInt64) throws -> String {
        guard let budget = ELinkBudget(links: options.links) else { throw StudyError("--n-elinks must be 2…5, got \(options.links)") }
        let network = try network(named: name, options: options)
        let run = RunDirectory((options.outputDirectory as NSString).appendingPathComponent(OutputName.component(runName(network, options: options))))
        let model = try ECONTAutoencoder(network, budget: budget, seed: seed)
        try model.loadWeights(from: run.weightsFile)
        try ModelFiles.exportONNX(model, to: run.path)
        return run.path
    }
}
