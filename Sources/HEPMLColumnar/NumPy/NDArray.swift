import Foundation

/// NumPy element types that .npy files carry here (no structured, complex, string or object dtypes).
public enum NumPyDType: String, Sendable, CaseIterable {
    case bool = "b1"
    case int8 = "i1", int16 = "i2", int32 = "i4", int64 = "i8"
    case uint8 = "u1", uint16 = "u2", uint32 = "u4", uint64 = "u8"
    case float32 = "f4", float64 = "f8"

    public var itemSize: Int {
        switch self {
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }
}

/// An n-dimensional NumPy array as its raw element bytes plus the layout that describes them, so
/// that any .npy file (either byte order, C or Fortran order) reads and writes back unchanged.
/// `values(as:)` gives native-endian C-order elements for computation.
public struct NDArray: Sendable, Equatable {
    public var dtype: NumPyDType
    public var shape: [Int]
    public var bigEndian: Bool
    public var fortranOrder: Bool
    /// Element bytes as stored: `count * dtype.itemSize` bytes in the stated order.
    public var bytes: [UInt8]

    public var count: Int { shape.reduce(1, *) }

    public init(dtype: NumPyDType, shape: [Int], bytes: [UInt8], bigEndian: Bool = false, fortranOrder: Bool = false) throws {
        let (size, overflow) = try Self.elementCount(shape: shape).multipliedReportingOverflow(by: dtype.itemSize)
        guard !overflow, size == bytes.count else { throw TableError("array of shape \(shape) and dtype \(dtype) needs \(size) bytes, got \(bytes.count)") }
        self.dtype = dtype
        self.shape = shape
        self.bigEndian = bigEndian && dtype.itemSize > 1
        self.fortranOrder = fortranOrder
        self.bytes = bytes
    }

    /// The number of elements of `shape`, refusing negative dimensions and overflow.
    static func elementCount(shape: [Int]) throws -> Int {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { throw TableError("negative array dimension \(dimension)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw TableError("array shape \(shape) overflows") }
            count = product
        }
        return count
    }

    /// A native-endian, C-order array of `values` with the given shape.
    public init<T: NumPyElement>(_ values: [T], shape: [Int]? = nil) throws {
        let bytes = values.withUnsafeBytes { Array($0) }
        try self.init(dtype: T.numPyDType, shape: shape ?? [values.count], bytes: bytes)
    }

    /// Elements in C order and native byte order. The type must match the dtype exactly: no
    /// silent conversion between element types.
    public func values<T: NumPyElement>(as _: T.Type) throws -> [T] {
        guard T.numPyDType == dtype else { throw TableError("array has dtype \(dtype), not \(T.numPyDType)") }
        let normalized = converted(bigEndian: false, fortranOrder: false)
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            normalized.bytes.withUnsafeBytes { raw in
                if let destination = buffer.baseAddress, let source = raw.baseAddress { memcpy(destination, source, raw.count) }
            }
            initialized = count
        }
    }

    /// Elements converted to Float in C order, for feeding numeric arrays of any dtype to training.
    public func floatValues() -> [Float] {
        let normalized = converted(bigEndian: false, fortranOrder: false)
        return normalized.bytes.withUnsafeBytes { raw -> [Float] in
            func load<T: BinaryInteger>(_: T.Type) -> [Float] { raw.bindMemory(to: T.self).map { Float($0) } }
            switch dtype {
            case .bool: return raw.map { $0 != 0 ? 1 : 0 }
            case .int8: return load(Int8.self)
            case .int16: return load(Int16.self)
            case .int32: return load(Int32.self)
            case .int64: return load(Int64.self)
            case .uint8: return load(UInt8.self)
            case .uint16: return load(UInt16.self)
            case .uint32: return load(UInt32.self)
            case .uint64: return load(UInt64.self)
            case .float32: return Array(raw.bindMemory(to: Float.self))
            case .float64: return raw.bindMemory(to: Double.self).map { Float($0) }
            }
        }
    }

    /// The same array with another byte order and/or memory order.
    public func converted(bigEndian targetBigEndian: Bool, fortranOrder targetFortran: Bool) -> NDArray {
        var result = self
        let size = dtype.itemSize
        if (bigEndian != targetBigEndian) && size > 1 {
            result.bytes.withUnsafeMutableBytes { raw in
                var start = 0
                while start < raw.count {
                    var low = start, high = start + size - 1
                    while low < high { raw.swapAt(low, high); low += 1; high -= 1 }
                    start += size
                }
            }
        }
        result.bigEndian = targetBigEndian && size > 1
        if fortranOrder != targetFortran && shape.count > 1 {
            result.bytes = Self.transposeLayout(bytes: result.bytes, shape: shape, itemSize: size, fromFortran: fortranOrder)
        }
        result.fortranOrder = targetFortran
        return result
    }

    /// Reorders elements between C order (last index fastest) and Fortran order (first index fastest).
    private static func transposeLayout(bytes: [UInt8], shape: [Int], itemSize: Int, fromFortran: Bool) -> [UInt8] {
        let rank = shape.count
        var cStrides = [Int](repeating: 1, count: rank)
        var fStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { cStrides[axis] = cStrides[axis + 1] * shape[axis + 1] }
        for axis in 1..<rank { fStrides[axis] = fStrides[axis - 1] * shape[axis - 1] }
        let source = fromFortran ? fStrides : cStrides
        let target = fromFortran ? cStrides : fStrides
        var output = [UInt8](repeating: 0, count: bytes.count)
        var index = [Int](repeating: 0, count: rank)
        let total = shape.reduce(1, *)
        bytes.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                guard let inBase = input.baseAddress, let outBase = out.baseAddress else { return }
                for _ in 0..<total {
                    var from = 0, to = 0
                    for axis in 0..<rank { from += index[axis] * source[axis]; to += index[axis] * target[axis] }
                    memcpy(outBase + to * itemSize, inBase + from * itemSize, itemSize)
                    var axis = rank - 1
                    while axis >= 0 {
                        index[axis] += 1
                        if index[axis] < shape[axis] { break }
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
        return output
    }
}

/// Swift element types with a NumPy dtype, for typed access to `NDArray`.
public protocol NumPyElement: Sendable { static var numPyDType: NumPyDType { get } }
extension Bool: NumPyElement { public static var numPyDType: NumPyDType { .bool } }
extension Int8: NumPyElement { public static var numPyDType: NumPyDType { .int8 } }
extension Int16: NumPyElement { public static var numPyDType: NumPyDType { .int16 } }
extension Int32: NumPyElement { public static var numPyDType: NumPyDType { .int32 } }
extension Int64: NumPyElement { public static var numPyDType: NumPyDType { .int64 } }
extension UInt8: NumPyElement { public static var numPyDType: NumPyDType { .uint8 } }
extension UInt16: NumPyElement { public static var numPyDType: NumPyDType { .uint16 } }
extension UInt32: NumPyElement { public static var numPyDType: NumPyDType { .uint32 } }
extension UInt64: NumPyElement { public static var numPyDType: NumPyDType { .uint64 } }
extension Float: NumPyElement { public static var numPyDType: NumPyDType { .float32 } }
extension Double: NumPyElement { public static var numPyDType: NumPyDType { .float64 } }
