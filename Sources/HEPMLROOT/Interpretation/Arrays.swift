import Foundation
import HEPMLCore

/// The numeric element types a branch can hold.
public enum ElementType: String, Sendable, CaseIterable {
    case bool, int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64

    public var size: Int {
        switch self {
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    /// ROOT's leaf-class letter plus the unsigned flag.
    init?(leafClass: String, isUnsigned: Bool) {
        switch leafClass {
        case "TLeafO": self = .bool
        case "TLeafB": self = isUnsigned ? .uint8 : .int8
        case "TLeafS": self = isUnsigned ? .uint16 : .int16
        case "TLeafI": self = isUnsigned ? .uint32 : .int32
        case "TLeafL", "TLeafG": self = isUnsigned ? .uint64 : .int64
        case "TLeafF": self = .float32
        case "TLeafD": self = .float64
        default: return nil
        }
    }

    /// Streamer type codes (spec §6.6), with the +20 fixed-array offset removed by the caller.
    init?(streamerCode: Int) {
        switch streamerCode {
        case 1: self = .int8
        case 2: self = .int16
        case 3, 6: self = .int32
        case 4, 16: self = .int64
        case 5: self = .float32
        case 8: self = .float64
        case 11: self = .uint8
        case 12: self = .uint16
        case 13, 15: self = .uint32
        case 14, 17: self = .uint64
        case 18: self = .bool
        default: return nil
        }
    }

    /// C++ spellings used in `vector<T>` class names.
    init?(cppName: String) {
        switch cppName.trimmingCharacters(in: .whitespaces) {
        case "bool", "Bool_t": self = .bool
        case "char", "Char_t", "signed char": self = .int8
        case "unsigned char", "UChar_t": self = .uint8
        case "short", "Short_t": self = .int16
        case "unsigned short", "UShort_t": self = .uint16
        case "int", "Int_t": self = .int32
        case "unsigned int", "UInt_t": self = .uint32
        case "long", "Long_t", "Long64_t", "long long", "int64_t": self = .int64
        case "unsigned long", "ULong_t", "ULong64_t", "unsigned long long", "uint64_t": self = .uint64
        case "float", "Float_t": self = .float32
        case "double", "Double_t": self = .float64
        default: return nil
        }
    }
}

/// Typed column values, converted from big-endian file order to native numbers.
public enum ColumnValues: Sendable, Equatable {
    case bool([Bool]), int8([Int8]), uint8([UInt8]), int16([Int16]), uint16([UInt16]), int32([Int32]), uint32([UInt32])
    case int64([Int64]), uint64([UInt64]), float32([Float]), float64([Double]), string([String])

    public var count: Int {
        switch self {
        case .bool(let v): return v.count
        case .int8(let v): return v.count
        case .uint8(let v): return v.count
        case .int16(let v): return v.count
        case .uint16(let v): return v.count
        case .int32(let v): return v.count
        case .uint32(let v): return v.count
        case .int64(let v): return v.count
        case .uint64(let v): return v.count
        case .float32(let v): return v.count
        case .float64(let v): return v.count
        case .string(let v): return v.count
        }
    }

    /// Element `i` as a Double (strings give nan); for tests, printing and CSV.
    public func double(at i: Int) -> Double {
        switch self {
        case .bool(let v): return v[i] ? 1 : 0
        case .int8(let v): return Double(v[i])
        case .uint8(let v): return Double(v[i])
        case .int16(let v): return Double(v[i])
        case .uint16(let v): return Double(v[i])
        case .int32(let v): return Double(v[i])
        case .uint32(let v): return Double(v[i])
        case .int64(let v): return Double(v[i])
        case .uint64(let v): return Double(v[i])
        case .float32(let v): return Double(v[i])
        case .float64(let v): return v[i]
        case .string: return .nan
        }
    }

    /// Element `i` as text, exactly (integers in full, floats in shortest round-trip form).
    public func text(at i: Int) -> String {
        switch self {
        case .bool(let v): return v[i] ? "true" : "false"
        case .int8(let v): return String(v[i])
        case .uint8(let v): return String(v[i])
        case .int16(let v): return String(v[i])
        case .uint16(let v): return String(v[i])
        case .int32(let v): return String(v[i])
        case .uint32(let v): return String(v[i])
        case .int64(let v): return String(v[i])
        case .uint64(let v): return String(v[i])
        case .float32(let v): return "\(v[i])"
        case .float64(let v): return "\(v[i])"
        case .string(let v): return v[i]
        }
    }

    /// Decodes big-endian elements from consecutive byte chunks (one per basket) straight into
    /// one native array: a single allocation, and one byte-swapping pass over each chunk's
    /// contiguous buffer, which the compiler vectorizes.
    static func decode(_ chunks: [[UInt8]], as type: ElementType) -> ColumnValues {
        let count = chunks.reduce(0) { $0 + $1.count / type.size }
        func load<T: FixedWidthInteger, Output>(_: T.Type, _ convert: (T) -> Output) -> [Output] {
            [Output](unsafeUninitializedCapacity: count) { out, initialized in
                var next = 0
                for chunk in chunks {
                    let items = chunk.count / MemoryLayout<T>.size
                    chunk.withUnsafeBytes { raw in
                        for i in 0..<items {
                            out[next + i] = convert(T(bigEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)))
                        }
                    }
                    next += items
                }
                initialized = next
            }
        }
        switch type {
        case .bool: return .bool(load(UInt8.self) { $0 != 0 })
        case .int8: return .int8(load(Int8.self) { $0 })
        case .uint8: return .uint8(load(UInt8.self) { $0 })
        case .int16: return .int16(load(Int16.self) { $0 })
        case .uint16: return .uint16(load(UInt16.self) { $0 })
        case .int32: return .int32(load(Int32.self) { $0 })
        case .uint32: return .uint32(load(UInt32.self) { $0 })
        case .int64: return .int64(load(Int64.self) { $0 })
        case .uint64: return .uint64(load(UInt64.self) { $0 })
        case .float32: return .float32(load(UInt32.self) { Float(bitPattern: $0) })
        case .float64: return .float64(load(UInt64.self) { Double(bitPattern: $0) })
        }
    }
}

/// Big-endian to native conversion over raw buffers: the inner loops are plain load-swap-store
/// passes over contiguous memory, which the compiler turns into vector byte shuffles.
enum BigEndian {
    /// Converts `records` records of `itemsPerRecord` elements (records `recordSize` bytes apart,
    /// elements packed inside a record) into consecutive native elements at `destination`.
    static func decode(_ source: UnsafeRawPointer, recordSize: Int, itemsPerRecord: Int, records: Int, type: ElementType,
                       into destination: UnsafeMutableRawPointer) {
        let width = type.size
        let fieldBytes = itemsPerRecord * width
        func swap<T: FixedWidthInteger>(_: T.Type) {
            if recordSize == fieldBytes {
                let count = records * itemsPerRecord
                for i in 0..<count {
                    destination.storeBytes(of: T(bigEndian: source.loadUnaligned(fromByteOffset: i * width, as: T.self)),
                                           toByteOffset: i * width, as: T.self)
                }
                return
            }
            for record in 0..<records {
                let from = source + record * recordSize, to = destination + record * fieldBytes
                for i in 0..<itemsPerRecord {
                    to.storeBytes(of: T(bigEndian: from.loadUnaligned(fromByteOffset: i * width, as: T.self)), toByteOffset: i * width, as: T.self)
                }
            }
        }
        switch type {
        case .bool:
            // Any non-zero byte is true; Bool storage must hold exactly 0 or 1.
            for record in 0..<records {
                for i in 0..<itemsPerRecord {
                    destination.storeBytes(of: source.load(fromByteOffset: record * recordSize + i, as: UInt8.self) != 0,
                                           toByteOffset: record * fieldBytes + i, as: Bool.self)
                }
            }
        case .int8, .uint8: swap(UInt8.self)
        case .int16, .uint16: swap(UInt16.self)
        case .int32, .uint32, .float32: swap(UInt32.self)
        case .int64, .uint64, .float64: swap(UInt64.self)
        }
    }
}

/// One column read from a tree: flat values plus, for jagged data, entry offsets into them.
public struct ColumnArray: Sendable, Equatable {
    public var name: String
    public var values: ColumnValues
    /// Fixed inner dimensions per item (e.g. [10] for `a[10]`, [] for scalars).
    public var itemShape: [Int]
    /// Jagged columns: `entries + 1` offsets; entry i has items `offsets[i] ..< offsets[i+1]` (an item
    /// is one element times `itemShape`, or for `vector<vector<T>>` one inner list).
    public var offsets: [Int]?
    /// `vector<vector<T>>` only: offsets of each inner list into `values`.
    public var innerOffsets: [Int]?

    public init(name: String, values: ColumnValues, itemShape: [Int] = [], offsets: [Int]? = nil, innerOffsets: [Int]? = nil) {
        self.name = name
        self.values = values
        self.itemShape = itemShape
        self.offsets = offsets
        self.innerOffsets = innerOffsets
    }

    public var entryCount: Int {
        if let offsets { return offsets.count - 1 }
        return values.count / max(1, itemShape.reduce(1, *))
    }
}

extension ColumnArray {
    /// The items of entry `entry` (0-based within this column) as text, one per element of a
    /// fixed or jagged array (TTree::Scan's instances); an item that is itself a list (the rows of
    /// `x[n][k]`, the inner vectors of `vector<vector<T>>`) prints as `[a, b]`.
    public func itemTexts(entry: Int) -> [String] {
        let width = itemShape.reduce(1, *)
        func list(_ range: Range<Int>) -> String { "[" + range.map(values.text).joined(separator: ", ") + "]" }
        guard let offsets else {
            guard !itemShape.isEmpty else { return [values.text(at: entry)] }
            return (entry * width..<(entry + 1) * width).map(values.text)
        }
        let items = offsets[entry]..<offsets[entry + 1]
        if let innerOffsets { return items.map { list(innerOffsets[$0]..<innerOffsets[$0 + 1]) } }
        return width == 1 ? items.map(values.text) : items.map { list($0 * width..<($0 + 1) * width) }
    }
}
