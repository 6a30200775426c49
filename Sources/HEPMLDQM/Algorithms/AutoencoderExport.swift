import Foundation
import HEPMLCore
import HEPMLExperiment

/// `hepml dqm export`: the autoencoders `hepml dqm train` left in run directories, as ONNX models
/// with one input and one output per histogram, named by the histogram's column.
public enum DQMExport {
    /// The finished autoencoder run directories (`autoencoder_*`) in `directory`, sorted.
    public static func autoencoderRuns(in directory: String) throws -> [RunDirectory] {
        try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasPrefix("autoencoder_") }
            .sorted()
            .map { RunDirectory((directory as NSString).appendingPathComponent($0)) }
            .filter(\.isComplete)
    }

    /// Writes `run`'s network as `<run name>.onnx` into `outputDirectory` (default: the run
    /// directory) and returns its path. Input `<column>` and output `<column>_reco` per histogram,
    /// shape (N, bins) with 2-D histograms flattened row-major (after rebinning where training
    /// rebinned); the inputs are what training saw, contents normalized to unit sum unless told otherwise.
    @discardableResult
    public static func exportAutoencoder(_ run: RunDirectory, to outputDirectory: String? = nil) throws -> String {
        let settings: AutoencoderArchitecture.RunSettings
        guard let data = FileManager.default.contents(atPath: run.settingsFile) else {
            throw FileFormatError(file: run.settingsFile, reason: "missing; not a run directory of `hepml dqm train --algorithm autoencoder`")
        }
        do {
            settings = try JSONDecoder().decode(AutoencoderArchitecture.RunSettings.self, from: data)
        } catch {
            throw FileFormatError(file: run.settingsFile, reason: "not the settings of a DQM autoencoder: \(error)")
        }
        let name = (run.path as NSString).lastPathComponent
        let path = ((outputDirectory ?? run.path) as NSString).appendingPathComponent(OutputName.component(name, extension: "onnx"))
        try run.exportONNX(to: path, inputNames: settings.histograms, outputNames: settings.histograms.map { "\($0)_reco" },
                           documentation: "AutoDQM_ML autoencoder \(name) over \(settings.histograms.joined(separator: ", ")); exported by HEPML")
        return path
    }
}
