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
