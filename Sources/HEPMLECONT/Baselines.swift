/// The eLink budget of one ECON-T module: how many bits each of the 16 latents gets, and how
/// many TCs the best-choice algorithm may send over the same links.
public struct ELinkBudget: Sendable, Equatable {
    public let links: Int
    /// Bits per encoded latent: 2→3, 3→5, 4→7, 5→9 (one integer bit, the rest fractional).
    public let latentBits: Int
    /// TCs kept by best choice: 2→4, 3→6, 4→9, 5→14.
    public let bestChoiceCells: Int

    /// nil for link counts outside 2…5, which the study does not define.
    public init?(links: Int) {
        guard (2...5).contains(links) else { return nil }
        self.links = links
        latentBits = 2 * links - 1
        bestChoiceCells = [4, 6, 9, 14][links - 2]
    }
}

/// The classic ECON-T algorithms the autoencoder is compared with, on 48-charge modules in CALQ
/// order and absolute units (MIP_T), the same vectors the metrics compare against.
///
/// Upstream applied them to the arranged 8×8 image in ADC units while the metrics read CALQ order
/// in MIP_T; here input and baselines share one representation.
public enum BaselineAlgorithm: Sendable, Equatable {
    /// Keep TCs strictly above the threshold (MIP_T), zero the rest.
    case threshold(Double)
    /// Sum each group onto its highest TC (the first one on ties), zero the others.
    case superTriggerCell(groups: [[Int]])
    /// Keep the `n` largest TCs (lower CALQ index first on ties), zero the rest.
    case bestChoice(cells: Int)

    /// The three 16-TC blocks.
    public static let blockGroups: [[Int]] = (0..<3).map { block in Array(block * 16 ..< (block + 1) * 16) }
    /// The twelve 2×2 groups; the last is `[42, 43, 46, 47]` (upstream's table repeats 43 by mistake).
    public static let twoByTwoGroups: [[Int]] = [
        [0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15],
        [16, 17, 20, 21], [18, 19, 22, 23], [24, 25, 28, 29], [26, 27, 30, 31],
        [32, 33, 36, 37], [34, 35, 38, 39], [40, 41, 44, 45], [42, 43, 46, 47],
    ]

    /// Every baseline of the study for a link budget, with its report name.
    public static func standardSet(for budget: ELinkBudget) -> [(name: String, algorithm: BaselineAlgorithm)] {
        [("thr_lo", .threshold(1.35)), ("thr_hi", .threshold(2.0)),
         ("stc", .superTriggerCell(groups: blockGroups)), ("stc4", .superTriggerCell(groups: twoByTwoGroups)),
         ("bc", .bestChoice(cells: budget.bestChoiceCells))]
    }

    /// Applies the algorithm to one module.
    public func apply(_ charges: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .threshold(let cut):
            for cell in 0..<triggerCellCount { output[cell] = charges[cell] > cut ? charges[cell] : 0 }
        case .superTriggerCell(let groups):
            for cell in 0..<triggerCellCount { output[cell] = 0 }
            for group in groups {
                guard var highest = group.first else { continue }
                var sum = 0.0
                for cell in group {
                    sum += charges[cell]
                    if charges[cell] > charges[highest] { highest = cell }
                }
                output[highest] = sum
            }
        case .bestChoice(let cells):
            let ranked = (0..<triggerCellCount).sorted { charges[$0] > charges[$1] || (charges[$0] == charges[$1] && $0 < $1) }
            for cell in 0..<triggerCellCount { output[cell] = 0 }
            for cell in ranked.prefix(max(0, cells)) { output[cell] = charges[cell] }
        }
    }

    /// Applies the algorithm to every module of a `rows × 48` buffer.
    public func apply(to charges: [Double]) -> [Double] {
        var output = [Double](repeating: 0, count: charges.count - charges.count % triggerCellCount)
        let rows = output.count / triggerCellCount
        charges.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { result in
                for row in 0..<rows {
                    let cells = row * triggerCellCount ..< (row + 1) * triggerCellCount
                    apply(UnsafeBufferPointer(rebasing: input[cells]), into: UnsafeMutableBufferPointer(rebasing: result[cells]))
                }
            }
        }
        return output
    }
}
