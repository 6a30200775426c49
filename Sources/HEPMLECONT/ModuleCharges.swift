import HEPMLCore

/// The 48 trigger-cell charges of many modules in CALQ order, one contiguous row-major buffer
/// (`rows × 48`), in ADC units (35 units = 1 transverse MIP).
public struct ModuleCharges: Sendable, Equatable {
    public private(set) var values: [Double]
    public var rows: Int { values.count / triggerCellCount }

    /// `values.count` must be a multiple of 48; returns nil otherwise.
    public init?(values: [Double]) {
        guard values.count % triggerCellCount == 0 else { return nil }
        self.values = values
    }

    /// The modules at `indices`, in that order.
    public func rows(_ indices: [Int]) -> ModuleCharges {
        var picked = [Double]()
        picked.reserveCapacity(indices.count * triggerCellCount)
        for row in indices {
            picked.append(contentsOf: values[row * triggerCellCount ..< (row + 1) * triggerCellCount])
        }
        return ModuleCharges(unchecked: picked)
    }

    /// Drops modules with no charge at all: they carry nothing to compress and have no normalization.
    public func droppingEmptyModules() -> ModuleCharges {
        rows((0..<rows).filter { row in
            values[row * triggerCellCount ..< (row + 1) * triggerCellCount].contains { $0 != 0 }
        })
    }

    /// Emulates twice the pile-up by summing consecutive modules pairwise (`--double`):
    /// module k = module 2k + module 2k+1; an odd last module is dropped.
    public func pairwiseSummed() -> ModuleCharges {
        let pairs = rows / 2
        var summed = [Double](repeating: 0, count: pairs * triggerCellCount)
        for pair in 0..<pairs {
            let first = 2 * pair * triggerCellCount
            for cell in 0..<triggerCellCount {
                summed[pair * triggerCellCount + cell] = values[first + cell] + values[first + triggerCellCount + cell]
            }
        }
        return ModuleCharges(unchecked: summed)
    }

    /// Number of TCs above `threshold` per module (occupancy; `0` counts hit cells, `35` those above 1 MIP_T).
    public func occupancy(above threshold: Double) -> [Int] {
        (0..<rows).map { row in
            values[row * triggerCellCount ..< (row + 1) * triggerCellCount].reduce(0) { $0 + ($1 > threshold ? 1 : 0) }
        }
    }

    private init(unchecked values: [Double]) { self.values = values }
}

/// Which modules are used for validation and which for training.
public struct ValidationSplit: Sendable, Equatable {
    public var validation: [Int]
    public var training: [Int]

    /// Ecoder's split: the first `round(fraction·rows)` modules (rounded half to even as Python's
    /// `round`) are validation, the rest training; with a seed the modules are first shuffled.
    public init(rows: Int, validationFraction: Double = 0.2, randomSeed: UInt64? = nil) {
        let validationCount = min(rows, max(0, Int((validationFraction * Double(rows)).rounded(.toNearestOrEven))))
        var order = Array(0..<rows)
        if let randomSeed {
            var generator = SeededGenerator(seed: randomSeed)
            order = generator.permutation(rows)
        }
        validation = Array(order[..<validationCount])
        training = Array(order[validationCount...])
    }

    /// `--eval-only`: every module is validation.
    public static func evaluationOnly(rows: Int) -> ValidationSplit {
        ValidationSplit(validation: Array(0..<rows), training: [])
    }

    public init(validation: [Int], training: [Int]) {
        self.validation = validation
        self.training = training
    }

    /// `--max-val k`: keep only the first `k` validation modules (negative keeps all).
    public func limitingValidation(to count: Int) -> ValidationSplit {
        guard count >= 0 else { return self }
        return ValidationSplit(validation: Array(validation.prefix(count)), training: training)
    }

    /// `--quick-train`: keep only the first `count` training modules (Ecoder uses 5000).
    public func limitingTraining(to count: Int) -> ValidationSplit {
        ValidationSplit(validation: validation, training: Array(training.prefix(max(0, count))))
    }
}
