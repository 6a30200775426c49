import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLONNX

/// The autoencoder in ONNX with one input and one output per histogram, in the histogram's
/// shape: the packed tensor the engine trains on is an implementation detail, so the encoders
/// read their own inputs and the decoders' outputs are named separately.
extension AutoencoderNetwork: ONNXExportable {
    public func exportONNX(to exporter: inout ONNXExporter, path: String, inputs: [ONNXExporter.Value]) throws -> [ONNXExporter.Value] {
        let branches = architecture.branches
        guard inputs.count == branches.count else {
            throw ONNXExportError(path: path, kind: kind, "has \(branches.count) histograms, \(inputs.count) inputs given")
        }
        var encoded: [ONNXExporter.Value] = []
        for (index, encoder) in encoders.enumerated() {
            encoded.append(try exporter.emit(encoder, path: ONNXExporter.join(path, "encoder_\(branches[index].name)"), inputs[index]))
        }
        let latent = try exporter.emit(bottleneck, path: ONNXExporter.join(path, "bottleneck"), try exporter.concatenate(encoded, axis: 0))
        return try zip(branches, decoders).map { branch, decoder in
            let decoded = try exporter.emit(decoder, path: ONNXExporter.join(path, "decoder_\(branch.name)"), latent)
            return branch.shape.count == 1 ? decoded : try exporter.emit(Reshape<Float>(branch.shape), path: ONNXExporter.join(path, "output_\(branch.name)"), decoded)
        }
    }
}

/// `hepml dqm export`: the autoencoders `hepml dqm train` saved, as ONNX models.
public enum DQMExport {
    /// The autoencoder files `DQMTraining` writes in `directory` (`autoencoder_*.safetensors`), sorted.
    public static func autoencoderFiles(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasPrefix("autoencoder_") && $0.hasSuffix(".safetensors") }
            .sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    /// Writes `modelFile`'s network as `<stem>.onnx` into `outputDirectory` and returns its path.
    /// Inputs are named after the histogram columns (rebinned shapes where training rebinned),
    /// outputs `<histogram>_reco`; the inputs are what training saw (normalized unless it was
    /// told otherwise).
    @discardableResult
    public static func exportAutoencoder(_ modelFile: String, to outputDirectory: String) throws -> String {
        let (network, histograms) = try loadAutoencoder(modelFile)
        let stem = ((modelFile as NSString).lastPathComponent as NSString).deletingPathExtension
        let model = try ONNXExporter.export(network, inputs: zip(histograms, network.architecture.branches).map { (name: $0, shape: $1.shape) },
                                            outputs: histograms.map { "\($0)_reco" }, name: stem,
                                            documentation: "AutoDQM_ML autoencoder \(stem) over \(histograms.joined(separator: ", ")); exported by HEPML")
        let path = (outputDirectory as NSString).appendingPathComponent(stem + ".onnx")
        try model.write(to: path)
        return path
    }

    /// The network saved in `path` with the histogram column names of its branches.
    public static func loadAutoencoder(_ path: String) throws -> (network: AutoencoderNetwork, histograms: [String]) {
        let checkpoint = try SafeTensors.read(path, as: Float.self)
        func field(_ key: String) throws -> String {
            guard let value = checkpoint.metadata[key] else {
                throw FileFormatError(file: path, object: "metadata", reason: "no '\(key)'; not an autoencoder written by `hepml dqm train`")
            }
            return value
        }
        guard try field("format") == "hepml-dqm-autoencoder" else {
            throw FileFormatError(file: path, object: "metadata", reason: "format is not hepml-dqm-autoencoder")
        }
        let branches = try parseBranches(try field("branches"), file: path)
        let histograms = try field("histograms").components(separatedBy: "\n")
        guard histograms.count == branches.count else {
            throw FileFormatError(file: path, object: "metadata", reason: "\(histograms.count) histograms for \(branches.count) branches")
        }
        let options: AutoencoderArchitecture.Options
        do {
            options = try JSONDecoder().decode(AutoencoderArchitecture.Options.self, from: Data(try field("options").utf8))
        } catch let error as FileFormatError {
            throw error
        } catch {
            throw FileFormatError(file: path, object: "metadata options", reason: "\(error)")
        }
        let network = AutoencoderNetwork(try AutoencoderArchitecture(branches: branches, options: options), seed: 0)
        try network.load(checkpoint.tensors, from: path)
        return (network, histograms)
    }

    /// Reads the `branches` metadata, "name[bins];name[nx, ny];…" as `DQMTraining` writes it.
    static func parseBranches(_ text: String, file: String) throws -> [AutoencoderArchitecture.Branch] {
        try text.components(separatedBy: ";").map { entry in
            guard entry.hasSuffix("]"), let open = entry.lastIndex(of: "[") else {
                throw FileFormatError(file: file, object: "metadata branches", reason: "'\(entry)' is not name[shape]")
            }
            let sizes = entry[entry.index(after: open)..<entry.index(before: entry.endIndex)]
                .split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !sizes.isEmpty, sizes.count <= 2, sizes.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw FileFormatError(file: file, object: "metadata branches", reason: "'\(entry)' has no valid shape")
            }
            return AutoencoderArchitecture.Branch(name: String(entry[..<open]), shape: sizes.compactMap { $0 })
        }
    }
}
