import HEPMLNN
import HEPMLTensor

/// How histograms are scaled before the autoencoder sees them; reconstructions are scaled back,
/// so scores and stored reconstructions stay in the normalized histogram's units.
public enum AutoencoderInputScale: String, Sendable, Codable, CaseIterable {
    /// AutoDQM_ML: the normalized histogram as it is. The cells of a 1000-cell map are ~1e-3,
    /// the size of Adam's first steps, and its ReLU output dies before it learns anything.
    case unitSum = "unit_sum"
    /// Divided by the largest bin of the training runs' mean histogram: the fullest bin is 1
    /// whatever the binning, and no input is much larger than 1.
    case unitPeak = "unit_peak"

    /// The factor the network's inputs are multiplied by, from the training runs' inputs.
    public func factor(trainingInputs: [[Double]]) -> Double {
        switch self {
        case .unitSum:
            return 1
        case .unitPeak:
            let bins = trainingInputs.first?.count ?? 0
            var sums = [Double](repeating: 0, count: bins)
            for input in trainingInputs { for bin in 0..<min(bins, input.count) { sums[bin] += input[bin] } }
            let peak = (sums.max() ?? 0) / Double(max(trainingInputs.count, 1))
            return peak > 0 && peak.isFinite ? 1 / peak : 1
        }
    }
}

/// The activation of the decoder's last layer.
public enum AutoencoderOutputActivation: String, Sendable, Codable, CaseIterable {
    /// AutoDQM_ML's: reconstructions are ≥ 0, but once every input of the last layer is
    /// negative (after an early overshooting step, typical of histograms with one dominant bin)
    /// the gradient is zero and the output stays 0 for good.
    case relu
    /// No activation: the last layer can always move.
    case linear
}

/// Named autoencoder configurations: the `preset` key of the algorithm JSON's `config` and
/// `--ae-config` on the command line.
public enum AutoencoderPreset: String, Sendable, Codable, CaseIterable {
    /// AutoDQM_ML's `DEFAULT_OPT` unchanged, for comparisons with upstream.
    case upstream
    /// HEPML's default: upstream's network, trained until the held-out loss stops improving
    /// and scored against the good runs' per-bin spread (docs/dqm.md, "Autoencoder defaults").
    case hepml

    public var options: AutoencoderArchitecture.Options {
        var options = AutoencoderArchitecture.Options(upstream: ())
        switch self {
        case .upstream:
            break
        case .hepml:
            options.earlyStoppingRounds = 20
            options.inputScale = .unitPeak
            options.score = .chi2
            options.outputActivation = .linear
        }
        return options
    }
}

extension AutoencoderArchitecture {
    /// Makes a network trained on inputs multiplied by `scales` (one per branch) take and give
    /// the normalized histograms themselves: the first encoder convolution's weights are
    /// multiplied by the scale, the last decoder layer's weights and bias divided by it. Exact,
    /// since both layers are linear before their activation and ReLU(z)/s = ReLU(z/s) for s > 0.
    /// The stored model, its ONNX export and the reconstructions then all speak normalized
    /// histograms, whatever `input_scale` trained them. Returns whether a weight changed.
    @discardableResult
    public func foldInputScales(_ scales: [Double], into model: Module<Float>) -> Bool {
        let parameters = model.namedParameters()
        func layer(_ name: String) -> Substring { name[..<(name.lastIndex(of: ".") ?? name.endIndex)] }
        var changed = false
        for (branch, scale) in zip(branches, scales) where scale != 1 && scale > 0 && scale.isFinite {
            if let first = parameters.first(where: { $0.0.hasPrefix("encoder_\(branch.name).") && $0.0.hasSuffix(".weight") }) {
                first.1.value = first.1.value * Float(scale)
            }
            let decoder = parameters.filter { $0.0.hasPrefix("decoder_\(branch.name).") }
            guard let last = decoder.last.map({ layer($0.0) }) else { continue }
            for (name, parameter) in decoder where layer(name) == last { parameter.value = parameter.value * Float(1 / scale) }
            changed = true
        }
        return changed
    }
}
