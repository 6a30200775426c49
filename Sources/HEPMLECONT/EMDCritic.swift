import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLTensor

/// The EMD-approximating CNN of the Ecoder EMD-loss studies (spec §4.4): it reads two modules
/// and predicts their exact EMD, so that an autoencoder can train with a differentiable stand-in
/// for the metric it is judged by.
///
/// Each module enters unit-normalized in the `4x4x3` arrangement. Channels first, that
/// arrangement is the CALQ order itself (channel c, pixel p holds TC 16·c + p), so a pair is the
/// two 48-vectors stacked as `[6, 4, 4]`. The base network is 3 × [Conv2D(32, 5×5, same) →
/// BatchNorm → ReLU] → Flatten → Dense(256) → BatchNorm → ReLU → Dense(1); the critic averages
/// base(a, b) and base(b, a), which makes it symmetric. Kernels carry Keras' L2(1e-4) penalty
/// (`kernelPenalty`), BatchNorm uses Keras' momentum 0.99 and ε 1e-3.
public final class EMDCritic: Module<Float> {
    public static let filters = 32, kernel = 5, convolutions = 3, denseUnits = 256
    public static let kernelL2: Float = 1e-4

    public let base: Sequential<Float>

    public init(seed: UInt64) {
        var generator = SeededGenerator(seed: seed, stream: 0xE3D)
        var layers: [Module<Float>] = []
        var channels = 6
        for _ in 0..<Self.convolutions {
            layers += [Conv2d<Float>(channels, Self.filters, kernel: [Self.kernel, Self.kernel], padding: .same, generator: &generator),
                       BatchNorm<Float>(Self.filters, momentum: 0.01, epsilon: 1e-3), HEPMLNN.Activation<Float>(.relu)]
            channels = Self.filters
        }
        layers += [Flatten<Float>(), Linear<Float>(Self.filters * 16, Self.denseUnits, generator: &generator),
                   BatchNorm<Float>(Self.denseUnits, momentum: 0.01, epsilon: 1e-3), HEPMLNN.Activation<Float>(.relu),
                   Linear<Float>(Self.denseUnits, 1, generator: &generator)]
        base = Sequential(layers)
        super.init()
    }

    public override var kind: String { "EMDCritic" }
    public override var children: [(String, Module<Float>)] { [("base", base)] }

    /// `[N, 6, 4, 4]` pairs → `[N, 1]` predicted EMD.
    public override func forward(_ x: Variable<Float>) throws -> Variable<Float> {
        guard x.shape.count == 4, x.shape.dropFirst() == [6, 4, 4] else {
            throw ShapeError(operation: "EMDCritic", "expected module pairs [N, 6, 4, 4]", shapes: [x.shape])
        }
        let swapped = try Variable.concatenate([try x.slice(axis: 1, 3..<6), try x.slice(axis: 1, 0..<3)], axis: 1)
        return (try call(base, named: "base", x) + (try call(base, named: "base", swapped))) * 0.5
    }

    /// Σ w² over the convolution and dense kernels, times the L2 factor (biases and BatchNorm are not penalized).
    public func kernelPenalty() throws -> Variable<Float> {
        var total: Variable<Float>?
        for layer in base.layers {
            let weight: Variable<Float>
            switch layer {
            case let conv as ConvolutionLayer<Float>: weight = conv.weight
            case let linear as Linear<Float>: weight = linear.weight
            default: continue
            }
            let term = weight.squared().sum()
            total = try total.map { try $0 + term } ?? term
        }
        return (total ?? Variable(Tensor(scalar: 0))) * Self.kernelL2
    }

    /// Stacks `rows` pairs of CALQ-ordered modules (`rows × 48` each) into the critic's input,
    /// every module unit-normalized (an empty module stays zero).
    public static func pairInput(first: [Double], second: [Double], rows: Int) throws -> Tensor<Float> {
        var scalars = [Float](repeating: 0, count: rows * 2 * triggerCellCount)
        for row in 0..<rows {
            for (side, modules) in [first, second].enumerated() {
                let cells = modules[row * triggerCellCount ..< (row + 1) * triggerCellCount]
                let sum = cells.reduce(0, +)
                guard sum > 0 else { continue }
                let base = (2 * row + side) * triggerCellCount
                for (offset, value) in cells.enumerated() { scalars[base + offset] = Float(value / sum) }
            }
        }
        return try Tensor(shape: [rows, 6, 4, 4], scalars: scalars)
    }

    // MARK: Files

    /// What `hepml econt train-emd-loss` records next to the weights.
    public struct Record: Codable, Equatable, Sendable {
        public var name: String
        public var dataset: String
        public var trainingPairs: Int
        public var validationPairs: Int
        public var epochs: Int
        public var bestEpoch: Int?
        public var validationMSE: Double?
        /// (predicted − true) / true over validation pairs with a true EMD > 0.
        public var relativeDifferenceMean: Double
        public var relativeDifferenceStd: Double
        public var parameters: Int
        public var buffers: Int
        public var architecture: String
    }

    public static func weightsPath(name: String, directory: String) -> String {
        (directory as NSString).appendingPathComponent("\(name).safetensors")
    }

    public func save(name: String, record: Record, directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try SafeTensors.write(stateDictionary(), metadata: ["producer": "hepml", "model": "econt-emd-cnn", "name": name],
                              to: Self.weightsPath(name: name, directory: directory))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(record), to: (directory as NSString).appendingPathComponent("\(name).json"))
    }

    /// The trained critic `name` in `directory`, in inference mode (BatchNorm running statistics).
    public static func load(name: String, directory: String) throws -> EMDCritic {
        let path = weightsPath(name: name, directory: directory)
        guard FileManager.default.fileExists(atPath: path) else {
            throw StudyError("no EMD-CNN \(name) at \(path) (train it with `hepml econt train-emd-loss --name \(name)`)")
        }
        let critic = EMDCritic(seed: 0)
        do {
            try critic.loadStateDictionary(try SafeTensors.read(path, as: Float.self).tensors)
        } catch let error as ShapeError {
            throw FileFormatError(file: path, object: name, reason: "\(error)")
        }
        critic.setTraining(false)
        return critic
    }

    /// Predicted EMD of `rows` pairs, in batches.
    public func predict(first: [Double], second: [Double], rows: Int, batchSize: Int = 2048) throws -> [Double] {
        setTraining(false)
        var result: [Double] = []
        result.reserveCapacity(rows)
        for start in stride(from: 0, to: rows, by: batchSize) {
            let count = min(batchSize, rows - start)
            let cells = start * triggerCellCount ..< (start + count) * triggerCellCount
            let input = try Self.pairInput(first: Array(first[cells]), second: Array(second[cells]), rows: count)
            result += try self(Variable(input)).value.scalars.map(Double.init)
        }
        return result
    }
}

/// Module pairs with their exact EMD: the critic's training data.
public struct EMDPairs: Sendable {
    /// `count × 48` CALQ-ordered charges of each side.
    public private(set) var first: [Double] = []
    public private(set) var second: [Double] = []
    /// Exact EMD of each pair (`TransportSolver`).
    public private(set) var distance: [Double] = []
    public var count: Int { distance.count }

    public init() {}

    /// Pairs `(first[i], second[i])` whose sides both carry charge, with their exact EMD.
    public init(first: ModuleCharges, second: ModuleCharges) {
        let rows = min(first.rows, second.rows)
        var keep: [Int] = []
        for row in 0..<rows {
            let cells = row * triggerCellCount ..< (row + 1) * triggerCellCount
            if first.values[cells].reduce(0, +) > 0 && second.values[cells].reduce(0, +) > 0 { keep.append(row) }
        }
        self.first = first.rows(keep).values
        self.second = second.rows(keep).values
        distance = ModuleMetric.emd.values(input: self.first, output: self.second)
    }

    /// Ordered pairs (i, j) of `modules`, i = j included, as upstream's `itertools.product`:
    /// all of them, or `limit` distinct ones drawn with `seed` when there are more.
    public static func orderedPairs(of modules: ModuleCharges, limit: Int?, seed: UInt64) -> EMDPairs {
        let n = modules.rows
        let total = n * n
        var pairs: [Int]
        if let limit, limit < total {
            // Floyd's sampling: `limit` distinct pair indices without materializing all n².
            var generator = SeededGenerator(seed: seed, stream: 0xFA1)
            var chosen = Set<Int>()
            for upper in (total - limit)..<total {
                let candidate = Int(generator.nextUniform() * Double(upper + 1)) % (upper + 1)
                chosen.insert(chosen.contains(candidate) ? upper : candidate)
            }
            pairs = chosen.sorted()
        } else {
            pairs = Array(0..<total)
        }
        let firstRows = modules.rows(pairs.map { $0 / max(n, 1) })
        let secondRows = modules.rows(pairs.map { $0 % max(n, 1) })
        return EMDPairs(first: firstRows, second: secondRows)
    }

    /// The pairs at `indices`.
    public func subset(_ indices: some Sequence<Int>) -> EMDPairs {
        var result = EMDPairs()
        for index in indices {
            let cells = index * triggerCellCount ..< (index + 1) * triggerCellCount
            result.first += first[cells]
            result.second += second[cells]
            result.distance.append(distance[index])
        }
        return result
    }

    public static func + (a: EMDPairs, b: EMDPairs) -> EMDPairs {
        var result = a
        result.first += b.first
        result.second += b.second
        result.distance += b.distance
        return result
    }

    /// The engine data set: critic inputs and `[N, 1]` EMD targets.
    public func dataset() throws -> Dataset<Float> {
        try Dataset(inputs: EMDCritic.pairInput(first: first, second: second, rows: count),
                    targets: Tensor(shape: [count, 1], scalars: distance.map(Float.init)))
    }
}
