import Foundation

/// How latent values are stored: float32 as they are, float16 or bfloat16 (round to nearest
/// even; the 16-bit patterns in an int32 column, which Parquet's dictionary and zstd pages
/// shrink to about two bytes), or N-bit codes on a uniform grid between each latent's minimum
/// and maximum (int32 codes that Parquet's dictionary encoding bit-packs to about N bits).
public enum LatentEncoding: Codable, Equatable, Sendable, CustomStringConvertible {
    case float32
    case float16
    case bfloat16
    case bits(Int)

    /// `float32`, `float16`, `bfloat16` or `bits:N` (N in 2…24).
    public init(parsing text: String) throws {
        switch text {
        case "float32": self = .float32
        case "float16": self = .float16
        case "bfloat16": self = .bfloat16
        default:
            guard text.hasPrefix("bits:"), let bits = Int(text.dropFirst(5)), (2...24).contains(bits) else {
                throw ModelZooError("latent encoding '\(text)' is none of float32, float16, bfloat16, bits:N (N in 2…24)")
            }
            self = .bits(bits)
        }
    }

    public var description: String {
        switch self {
        case .float32: return "float32"
        case .float16: return "float16"
        case .bfloat16: return "bfloat16"
        case .bits(let n): return "bits:\(n)"
        }
    }

    /// Per latent dimension (`width` columns of the row-major `values`): the grid of `.bits`
    /// (minimum, maximum); nil for the float encodings.
    public func ranges(of values: [Float], width: Int) -> [[Double]]? {
        guard case .bits = self else { return nil }
        return (0..<width).map { column in
            var low = Float.infinity, high = -Float.infinity
            for index in stride(from: column, to: values.count, by: width) {
                low = min(low, values[index])
                high = max(high, values[index])
            }
            return values.isEmpty ? [0, 0] : [Double(low), Double(high)]
        }
    }

    /// Integer codes of the row-major latents (`.float32` has none: it is stored as is).
    public func codes(_ values: [Float], width: Int, ranges: [[Double]]?) -> [Int32] {
        switch self {
        case .float32: return []
        case .float16:
            return values.map { Int32(Float16($0).bitPattern) }
        case .bfloat16:
            return values.map { value in
                let bits = value.bitPattern
                return Int32((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
            }
        case .bits(let n):
            let top = Double((1 << n) - 1)
            return values.enumerated().map { index, value in
                let range = ranges?[index % width] ?? [0, 0]
                let span = range[1] - range[0]
                guard span > 0 else { return 0 }
                return Int32(min(max(((Double(value) - range[0]) / span * top).rounded(), 0), top))
            }
        }
    }

    /// Latent values of codes; a code outside the encoding's range is an error naming `file`.
    public func values(codes: [Int32], width: Int, ranges: [[Double]]?, file: String) throws -> [Float] {
        switch self {
        case .float32: return []
        case .float16:
            guard let bad = codes.first(where: { $0 < 0 || $0 > 0xFFFF }) else {
                return codes.map { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: $0))) }
            }
            throw CompressedFileError(file: file, reason: "latent code \(bad) is not a float16 bit pattern")
        case .bfloat16:
            guard let bad = codes.first(where: { $0 < 0 || $0 > 0xFFFF }) else {
                return codes.map { Float(bitPattern: UInt32(truncatingIfNeeded: $0) << 16) }
            }
            throw CompressedFileError(file: file, reason: "latent code \(bad) is not a bfloat16 bit pattern")
        case .bits(let n):
            guard let ranges, ranges.count == width, ranges.allSatisfy({ $0.count == 2 && $0[0].isFinite && $0[1].isFinite }) else {
                throw CompressedFileError(file: file, reason: "the \(n)-bit latents lack their \(width) ranges")
            }
            let top = Int32((1 << n) - 1)
            if let bad = codes.first(where: { $0 < 0 || $0 > top }) {
                throw CompressedFileError(file: file, reason: "latent code \(bad) is outside 0…\(top) of \(n)-bit codes")
            }
            return codes.enumerated().map { index, code in
                let range = ranges[index % width]
                return Float(range[0] + Double(code) * (range[1] - range[0]) / Double(top))
            }
        }
    }
}

public struct CompressedFileError: Error, CustomStringConvertible {
    public var file: String
    public var reason: String
    public var description: String { "\(file): \(reason)" }
}
