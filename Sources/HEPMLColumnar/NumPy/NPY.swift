import Foundation
import HEPMLCore

/// The .npy format (NumPy's `np.save`): magic, version, a Python-dict header naming dtype, memory
/// order and shape, then the raw element bytes.
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    public static func read(path: String) throws -> NDArray {
        let bytes = try readFileBytes(path)
        return try decode(bytes, file: path)
    }

    public static func write(_ array: NDArray, to path: String) throws {
        try AtomicFile.write(encode(array), to: path)
    }

    public static func encode(_ array: NDArray) -> [UInt8] {
        header(dtype: array.dtype, shape: array.shape, bigEndian: array.bigEndian, fortranOrder: array.fortranOrder) + array.bytes
    }

    /// Magic, version and header dict of an array: what precedes its element bytes in a .npy file.
    static func header(dtype: NumPyDType, shape: [Int], bigEndian: Bool, fortranOrder: Bool) -> [UInt8] {
        let order = dtype.itemSize == 1 ? "|" : (bigEndian ? ">" : "<")
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '\(order)\(dtype.rawValue)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
        // Version 1.0 has a 2-byte header length; pad so that data starts on a 64-byte boundary.
        let prefix = magic.count + 2 + 2
        let total = prefix + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var output = magic + [1, 0]
        let length = UInt16(header.utf8.count)
        output += [UInt8(length & 0xFF), UInt8(length >> 8)]
        output += Array(header.utf8)
        return output
    }

    public static func decode(_ bytes: [UInt8], file: String) throws -> NDArray {
        var reader = ByteReader(bytes, file: file, object: "npy header")
        let (header, size) = try readHeader(&reader)
        try reader.require(size, for: "array of shape \(header.shape) and dtype \(header.dtype)")
        let data = Array(try reader.readBytes(size))
        do {
            return try NDArray(dtype: header.dtype, shape: header.shape, bytes: data, bigEndian: header.bigEndian, fortranOrder: header.fortranOrder)
        } catch let error as TableError {
            throw reader.error(error.description)
        }
    }

    /// What the header at the start of `bytes` (a file's first bytes) describes: the layout, where
    /// the element bytes start and how many there are. A .npz reader checks a member's declared
    /// size against it before reading the member.
    static func layout(fromPrefix bytes: [UInt8], file: String) throws -> (header: NPYHeader, dataOffset: Int, dataSize: Int) {
        var reader = ByteReader(bytes, file: file, object: "npy header")
        let (header, size) = try readHeader(&reader)
        guard !reader.position.addingReportingOverflow(size).overflow else { throw reader.error("shape \(header.shape) overflows") }
        return (header, reader.position, size)
    }

    /// Reads magic, version and header, leaving the reader at the data; returns the header and
    /// the size in bytes of the data it describes.
    private static func readHeader(_ reader: inout ByteReader) throws -> (NPYHeader, Int) {
        guard Array(try reader.readBytes(6)) == magic else { throw reader.error("not a .npy file (bad magic)", at: 0) }
        let major = try reader.readUInt8()
        _ = try reader.readUInt8()
        let headerLength: Int
        switch major {
        case 1: headerLength = Int(try reader.readUInt16(bigEndian: false))
        case 2, 3: headerLength = Int(try reader.readUInt32(bigEndian: false))
        default: throw reader.error("unsupported .npy version \(major)", at: 6)
        }
        let headerStart = reader.position
        let headerText = try reader.readString(count: headerLength)
        let header = try NPYHeader(parsing: headerText) { [reader] in reader.error($0, at: headerStart) }
        reader.object = "npy data"
        var count = 1
        for dimension in header.shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw reader.error("shape \(header.shape) overflows") }
            count = product
        }
        let (size, overflow) = count.multipliedReportingOverflow(by: header.dtype.itemSize)
        guard !overflow else { throw reader.error("shape \(header.shape) overflows") }
        return (header, size)
    }
}

/// The dict literal of a .npy header, parsed by a small tokenizer rather than string matching so
/// that key order and spacing from any writer are accepted.
struct NPYHeader {
    var dtype: NumPyDType
    var bigEndian: Bool
    var fortranOrder: Bool
    var shape: [Int]

    init(parsing text: String, error: (String) -> FileFormatError) throws {
        var scanner = Array(text.utf8)[...]
        func skipSpace() { while let c = scanner.first, c == 0x20 || c == 0x0A || c == 0x09 { scanner.removeFirst() } }
        func expect(_ c: UInt8) throws {
            skipSpace()
            guard scanner.first == c else { throw error("malformed header \(text.debugDescription): expected '\(Character(UnicodeScalar(c)))'") }
            scanner.removeFirst()
        }
        func quoted() throws -> String {
            skipSpace()
            guard let quote = scanner.first, quote == 0x27 || quote == 0x22 else { throw error("malformed header \(text.debugDescription): expected a string") }
            scanner.removeFirst()
            guard let end = scanner.firstIndex(of: quote) else { throw error("unterminated string in header") }
            let value = String(decoding: scanner[scanner.startIndex..<end], as: UTF8.self)
            scanner = scanner[(end + 1)...]
            return value
        }
        func word() -> String {
            skipSpace()
            var result = ""
            while let c = scanner.first, (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F {
                result.append(Character(UnicodeScalar(c)))
                scanner.removeFirst()
            }
            return result
        }
        var descr: String?
        var fortran: Bool?
        var shape: [Int]?
        try expect(0x7B)
        while true {
            skipSpace()
            if scanner.first == 0x7D { break }
            let key = try quoted()
            try expect(0x3A)
            switch key {
            case "descr":
                skipSpace()
                guard scanner.first == 0x27 || scanner.first == 0x22 else { throw error("structured dtypes are not supported") }
                descr = try quoted()
            case "fortran_order":
                switch word() {
                case "True": fortran = true
                case "False": fortran = false
                default: throw error("fortran_order must be True or False")
                }
            case "shape":
                try expect(0x28)
                var dims: [Int] = []
                while true {
                    skipSpace()
                    if scanner.first == 0x29 { scanner.removeFirst(); break }
                    let token = word().replacingOccurrences(of: "L", with: "")
                    guard let value = Int(token), value >= 0 else { throw error("bad shape entry \(token.debugDescription)") }
                    dims.append(value)
                    skipSpace()
                    if scanner.first == 0x2C { scanner.removeFirst() }
                }
                shape = dims
            default:
                throw error("unknown header key \(key.debugDescription)")
            }
            skipSpace()
            if scanner.first == 0x2C { scanner.removeFirst() }
        }
        guard let descr, let fortran, let shape else { throw error("header lacks descr, fortran_order or shape") }
        guard descr.count >= 3, let dtype = NumPyDType(rawValue: String(descr.dropFirst())) else {
            throw error("unsupported dtype \(descr.debugDescription) (bool, int, uint and float only)")
        }
        switch descr.first {
        case "<", "|", "=": bigEndian = false
        case ">": bigEndian = true
        default: throw error("unknown byte order in dtype \(descr.debugDescription)")
        }
        self.dtype = dtype
        self.fortranOrder = fortran
        self.shape = shape
    }
}

/// Reads a whole file, reporting a missing or unreadable file as a `FileFormatError`.
func readFileBytes(_ path: String) throws -> [UInt8] {
    try FileSource.contents(of: path)
}
