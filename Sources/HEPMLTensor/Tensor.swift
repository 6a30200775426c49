/// A dense, contiguous, row-major array of scalars with a shape.
///
/// Layouts follow PyTorch: (N, C, L), (N, C, H, W) and (N, C, D, H, W) for feature maps,
/// [out, in] for linear weights and [out, in, k...] for convolution weights, so that checkpoints
/// named by parameter path read naturally in Python. Storage is a Swift array, so copies are
/// cheap until written (copy-on-write).
public struct Tensor<T: TensorScalar>: Sendable, Equatable {
    public private(set) var shape: [Int]
    public var scalars: [T]

    /// Creates a tensor; throws when the scalar count does not match the shape.
    public init(shape: [Int], scalars: [T]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), Self.count(of: shape) == scalars.count else {
            throw ShapeError(operation: "Tensor(shape:scalars:)", "\(scalars.count) scalars do not fill shape", shapes: [shape])
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// For kernels that computed a matching count themselves.
    init(validShape shape: [Int], scalars: [T]) {
        self.shape = shape
        self.scalars = scalars
    }

    public init(zeros shape: [Int]) {
        self.init(repeating: 0, shape: shape)
    }

    public init(repeating value: T, shape: [Int]) {
        self.shape = shape
        self.scalars = Array(repeating: value, count: Self.count(of: shape))
    }

    /// A rank-0 tensor holding one value.
    public init(scalar: T) {
        self.shape = []
        self.scalars = [scalar]
    }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    /// The single value of a one-element tensor (e.g. a loss).
    public var scalar: T? { scalars.count == 1 ? scalars[0] : nil }

    public static func count(of shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Same scalars, new shape of equal element count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard newShape.allSatisfy({ $0 >= 0 }), Self.count(of: newShape) == count else {
            throw ShapeError(operation: "reshape", "element counts differ", shapes: [shape, newShape])
        }
        return Tensor(validShape: newShape, scalars: scalars)
    }

    /// Converts precision (e.g. Float parameters into Double for a gradient check).
    public func converted<U: TensorScalar>(to: U.Type = U.self) -> Tensor<U> {
        Tensor<U>(validShape: shape, scalars: scalars.map { U($0) })
    }

    /// Rows `indices` of the leading axis in the given order, copied into a new contiguous
    /// tensor (minibatch assembly from a shuffled index list).
    @_specialize(where T == Float, Indices == ArraySlice<Int>)
    public func gatheringRows<Indices: Collection>(_ indices: Indices) throws -> Tensor where Indices.Element == Int {
        guard let first = shape.first else {
            throw ShapeError(operation: "gatheringRows", "needs a leading axis", shapes: [shape])
        }
        guard indices.allSatisfy({ $0 >= 0 && $0 < first }) else {
            throw ShapeError(operation: "gatheringRows", "row index outside 0..<\(first)", shapes: [shape])
        }
        let rowSize = count / Swift.max(first, 1)
        var gathered = [T](repeating: 0, count: indices.count * rowSize)
        scalars.withUnsafeBufferPointer { source in
            gathered.withUnsafeMutableBufferPointer { target in
                for (row, index) in indices.enumerated() where rowSize > 0 {
                    (target.baseAddress.unsafelyUnwrapped + row * rowSize).update(from: source.baseAddress.unsafelyUnwrapped + index * rowSize, count: rowSize)
                }
            }
        }
        var newShape = shape
        newShape[0] = indices.count
        return Tensor(validShape: newShape, scalars: gathered)
    }
}

/// A shape mismatch, reported with the layer (when known), the operation and every shape involved.
public struct ShapeError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Kind of the innermost layer, filled in by `Module` on the way out ("Conv1d").
    public var layer: String?
    /// Parameter-style path of that layer inside the model ("encoder.0"), built outward.
    public var layerPath: [String] = []
    public var operation: String
    public var reason: String
    public var shapes: [[Int]]

    public init(operation: String, _ reason: String, shapes: [[Int]], layer: String? = nil) {
        self.operation = operation
        self.reason = reason
        self.shapes = shapes
        self.layer = layer
    }

    public var description: String {
        let shapeText = shapes.map { "[\($0.map(String.init).joined(separator: ", "))]" }.joined(separator: " vs ")
        let path = layerPath.joined(separator: ".")
        let prefix = layer.map { path.isEmpty ? "layer \($0): " : "layer \(path) (\($0)): " } ?? ""
        return "\(prefix)\(operation): \(reason) (shapes \(shapeText))"
    }
}
