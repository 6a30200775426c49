/// C. Herwig's "telescope" reconstruction loss: a charge-weighted squared error evaluated at three
/// granularities — single TCs, 36 overlapping weighted 2×2 supercells, and the three 16-TC blocks —
/// so that a reconstruction which moves charge to a neighbouring cell costs less than one that
/// moves it across the module.
///
/// With `f(a, b) = (a − b)² · max(a, b)` and `t`, `p` the true and reconstructed 48 TCs:
/// `loss = 4·mean_i f(t_i, p_i) + 2·mean_s w_s f(T_s, P_s) + mean_b f(T_b, P_b)` per module,
/// averaged over the batch (Keras' sum-over-batch-size reduction: Σ weight·loss / batch size).
///
/// Inputs are image buffers in the layout of an `Arrangement` (only the 48 pixels of its
/// `inverse` enter; padding pixels get zero gradient), so the loss plugs directly onto the
/// decoder output.
public struct TelescopeLoss: Sendable {
    /// Flat pixel read for each of the 48 TCs.
    public let pixelOfCell: [Int]
    public let pixelCount: Int

    public init(arrangement: Arrangement) {
        pixelOfCell = arrangement.inverse
        pixelCount = arrangement.pixelCount
    }

    /// The loss on CALQ-ordered 48-vectors (Ecoder `telescopeMSE2`).
    public static let calQOrder = TelescopeLoss(pixelOfCell: Array(0..<triggerCellCount), pixelCount: triggerCellCount)

    private init(pixelOfCell: [Int], pixelCount: Int) {
        self.pixelOfCell = pixelOfCell
        self.pixelCount = pixelCount
    }

    /// The 36 2×2 supercells (four CALQ indices each) and their weights: tilings of each block,
    /// the tilings shifted right, down and diagonally, and the supercells straddling two blocks.
    public static let supercells: [(cells: [Int], weight: Double)] = [
        ([0, 1, 4, 5], 0.375), ([2, 3, 6, 7], 0.25 + 1.0 / 12), ([8, 9, 12, 13], 0.5625), ([10, 11, 14, 15], 0.375),
        ([16, 17, 20, 21], 0.375), ([18, 19, 22, 23], 0.25 + 1.0 / 12), ([24, 25, 28, 29], 0.5625), ([26, 27, 30, 31], 0.375),
        ([32, 33, 36, 37], 0.375), ([34, 35, 38, 39], 0.25 + 1.0 / 12), ([40, 41, 44, 45], 0.5625), ([42, 43, 46, 47], 0.375),
        ([4, 5, 8, 9], 0.375), ([6, 7, 10, 11], 0.25), ([20, 21, 24, 25], 0.375), ([22, 23, 26, 27], 0.25),
        ([36, 37, 40, 41], 0.375), ([38, 39, 42, 43], 0.25),
        ([1, 2, 5, 6], 0.25), ([9, 10, 13, 14], 0.375), ([17, 18, 21, 22], 0.25), ([25, 26, 29, 30], 0.375),
        ([33, 34, 37, 38], 0.25), ([41, 42, 45, 46], 0.375),
        ([5, 6, 9, 10], 0.25), ([21, 22, 25, 26], 0.25), ([37, 38, 41, 42], 0.25),
        ([0, 1, 27, 31], 0.375), ([1, 2, 23, 27], 0.25), ([2, 3, 19, 23], 0.25 + 1.0 / 6), ([3, 7, 34, 35], 0.25 + 1.0 / 6),
        ([7, 11, 33, 34], 0.25), ([11, 15, 32, 33], 0.375), ([16, 17, 47, 43], 0.375), ([17, 18, 43, 39], 0.25),
        ([18, 19, 39, 35], 0.25 + 1.0 / 6),
    ]

    private static let cellWeight = 4.0, supercellWeight = 2.0, blockWeight = 1.0
    private static let blockSize = 16, blockCount = 3

    /// `f(a, b)` and its derivative with respect to `b` (the reconstruction).
    @inline(__always)
    private static func term(_ truth: Double, _ prediction: Double) -> (value: Double, derivative: Double) {
        let difference = prediction - truth
        if prediction > truth {
            return (difference * difference * prediction, 2 * difference * prediction + difference * difference)
        }
        return (difference * difference * truth, 2 * difference * truth)
    }

    /// The batch loss for `batch` modules, and, when `gradient` is given (same size as
    /// `prediction`), d loss / d prediction written into it (overwriting).
    /// `sampleWeights`, when given, holds one weight per module.
    public func evaluate(truth: UnsafeBufferPointer<Float>, prediction: UnsafeBufferPointer<Float>, batch: Int,
                         sampleWeights: UnsafeBufferPointer<Float>? = nil,
                         gradient: UnsafeMutableBufferPointer<Float>? = nil) -> Double {
        precondition(truth.count >= batch * pixelCount && prediction.count >= batch * pixelCount, "telescope loss: buffer smaller than batch")
        guard batch > 0 else { return 0 }
        if let gradient { gradient.update(repeating: 0) }
        let supercells = Self.supercells
        var total = 0.0
        var t = [Double](repeating: 0, count: triggerCellCount), p = t, dp = t
        for sample in 0..<batch {
            let base = sample * pixelCount
            for cell in 0..<triggerCellCount {
                t[cell] = Double(truth[base + pixelOfCell[cell]])
                p[cell] = Double(prediction[base + pixelOfCell[cell]])
                dp[cell] = 0
            }
            let weight = sampleWeights.map { Double($0[sample]) } ?? 1
            // Each level's derivative is pushed to its member cells: d(Σ p)/d p_i = 1.
            var loss = 0.0
            let cellScale = Self.cellWeight / Double(triggerCellCount)
            for cell in 0..<triggerCellCount {
                let (value, derivative) = Self.term(t[cell], p[cell])
                loss += cellScale * value
                dp[cell] += cellScale * derivative
            }
            let supercellScale = Self.supercellWeight / Double(supercells.count)
            for supercell in supercells {
                var trueSum = 0.0, predictedSum = 0.0
                for cell in supercell.cells {
                    trueSum += t[cell]
                    predictedSum += p[cell]
                }
                let (value, derivative) = Self.term(trueSum, predictedSum)
                loss += supercellScale * supercell.weight * value
                for cell in supercell.cells { dp[cell] += supercellScale * supercell.weight * derivative }
            }
            let blockScale = Self.blockWeight / Double(Self.blockCount)
            for block in 0..<Self.blockCount {
                let cells = block * Self.blockSize ..< (block + 1) * Self.blockSize
                var trueSum = 0.0, predictedSum = 0.0
                for cell in cells {
                    trueSum += t[cell]
                    predictedSum += p[cell]
                }
                let (value, derivative) = Self.term(trueSum, predictedSum)
                loss += blockScale * value
                for cell in cells { dp[cell] += blockScale * derivative }
            }
            total += weight * loss
            if let gradient {
                let scale = weight / Double(batch)
                for cell in 0..<triggerCellCount {
                    gradient[base + pixelOfCell[cell]] += Float(scale * dp[cell])
                }
            }
        }
        return total / Double(batch)
    }

    /// Convenience over arrays; returns the loss and the gradient with respect to `prediction`.
    public func valueAndGradient(truth: [Float], prediction: [Float], batch: Int, sampleWeights: [Float]? = nil) -> (loss: Double, gradient: [Float]) {
        var gradient = [Float](repeating: 0, count: prediction.count)
        let loss = truth.withUnsafeBufferPointer { t in
            prediction.withUnsafeBufferPointer { p in
                gradient.withUnsafeMutableBufferPointer { g in
                    if let sampleWeights {
                        return sampleWeights.withUnsafeBufferPointer { w in evaluate(truth: t, prediction: p, batch: batch, sampleWeights: w, gradient: g) }
                    }
                    return evaluate(truth: t, prediction: p, batch: batch, gradient: g)
                }
            }
        }
        return (loss, gradient)
    }
}
