/// How a histogram's reconstruction becomes its anomaly score.
public enum ReconstructionScore: String, Sendable, Codable, CaseIterable {
    /// AutoDQM_ML's score: the sum of squared errors of the normalized histogram. High-content
    /// bins dominate it, so a change in the sparse bins (tails, a flat noise floor) hardly counts.
    case sse
    /// A χ²/ndf against the good runs' spread: the mean over bins of the squared error divided by
    /// that bin's mean squared error over the training runs, the way the beta-binomial test
    /// weighs each bin by its expected fluctuation. A bin then counts by how unusual its
    /// deviation is for good runs, not by how full it is.
    case chi2

    /// The score of every run (rows of `inputs` and `reconstructions`, in the same scale);
    /// `trainingRows` are the good runs the model was fitted on, whose residuals set the
    /// per-bin variances of `chi2`.
    public func scores(inputs: [[Double]], reconstructions: [[Double]], trainingRows: [Int]) -> [Double] {
        switch self {
        case .sse:
            return zip(inputs, reconstructions).map { sumOfSquaredErrors($0, $1) }
        case .chi2:
            let variances = Self.residualVariances(inputs: inputs, reconstructions: reconstructions, rows: trainingRows)
            return zip(inputs, reconstructions).map { input, reconstruction in
                var total = 0.0
                for bin in variances.indices {
                    let difference = input[bin] - reconstruction[bin]
                    total += difference * difference / variances[bin]
                }
                return total / Double(max(variances.count, 1))
            }
        }
    }

    /// Per bin, the mean squared residual of the training runs, floored at 1 % of its mean over
    /// bins: a bin that no good run fills (outside the acceptance, a dead channel) gets a small
    /// but finite variance, so entries appearing there count strongly without dividing by zero.
    static func residualVariances(inputs: [[Double]], reconstructions: [[Double]], rows: [Int]) -> [Double] {
        let bins = inputs.first?.count ?? 0
        var variances = [Double](repeating: 0, count: bins)
        for row in rows {
            for bin in 0..<bins {
                let difference = inputs[row][bin] - reconstructions[row][bin]
                variances[bin] += difference * difference
            }
        }
        let count = Double(max(rows.count, 1))
        variances = variances.map { $0 / count }
        let mean = variances.reduce(0, +) / Double(max(bins, 1))
        let floor = mean > 0 ? 0.01 * mean : 1
        return variances.map { max($0, floor) }
    }
}

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
            // Networks still improving after 300 epochs improve too slowly to change a score
            // (same AUCs on the demo and the independent set, half the training time).
            options.epochs = 300
            options.earlyStoppingRounds = 20
            options.inputScale = .unitPeak
            options.score = .chi2
            options.outputActivation = .linear
        }
        return options
    }
}
