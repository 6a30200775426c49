import Foundation
import HEPMLCore

/// .npz archives (`np.savez`, `np.savez_compressed`): a ZIP of `<name>.npy` members.
public enum NPZ {
    /// Arrays in archive order, named without the `.npy` suffix.
    public static func read(path: String) throws -> [(name: String, array: NDArray)] {
        let file = try NPZFile(path: path)
        return try file.entries.map { (arrayName($0.name), try file.array(of: $0)) }
    }

    public static func write(_ arrays: [(name: String, array: NDArray)], to path: String, compressed: Bool = false) throws {
        try write(arrays.map { NPZMember($0.name, $0.array) }, to: path, compressed: compressed)
    }

    /// Writes the members' elements from where they lie: a stored archive (`compressed: false`)
    /// costs no memory beyond the caller's arrays.
    public static func write(_ members: [NPZMember], to path: String, compressed: Bool = false) throws {
        try AtomicFile.write(to: path) { handle in try ZIP.write(members.map(\.member), compress: compressed, to: handle) }
    }

    /// Enough of a member for any .npy header NumPy writes (it refuses headers over 10000 bytes).
    static let headerPrefixBytes = 65536

    static func arrayName(_ memberName: String) -> String {
        memberName.hasSuffix(".npy") ? String(memberName.dropLast(4)) : memberName
    }
}

/// An array to write into a .npz: its .npy header, and its elements borrowed from the caller's
/// array (not copied) while the archive is written.
public struct NPZMember {
    let member: ZIP.OutgoingMember

    public init(_ name: String, _ array: NDArray) {
        let bytes = array.bytes
        member = ZIP.OutgoingMember(name: name + ".npy",
                                    prefix: NPY.header(dtype: array.dtype, shape: array.shape, bigEndian: array.bigEndian, fortranOrder: array.fortranOrder),
                                    body: { try bytes.withUnsafeBytes($0) })
    }

    /// Native-endian, C-order `values` with the given shape (default: one dimension).
    public init<T: NumPyElement>(_ name: String, _ values: [T], shape: [Int]? = nil) throws {
        let shape = shape ?? [values.count]
        guard try NDArray.elementCount(shape: shape) == values.count else {
            throw TableError("array \(name) of shape \(shape) needs \(try NDArray.elementCount(shape: shape)) elements, got \(values.count)")
        }
        member = ZIP.OutgoingMember(name: name + ".npy", prefix: NPY.header(dtype: T.numPyDType, shape: shape, bigEndian: false, fortranOrder: false),
                                    body: { try values.withUnsafeBytes($0) })
    }
}

/// An opened .npz archive: the member list is read when it opens, each array when asked for. A
/// stored member (`np.savez`, `NPZ.write` uncompressed) goes from the file straight into the
/// returned array's own buffer, so a member of gigabytes costs its size in memory once.
public struct NPZFile {
    public var path: String { source.path }
    let source: any ByteSource
    let entries: [ZIP.Entry]

    public init(path: String) throws {
        try self.init(source: FileSource(path: path))
    }

    init(source: any ByteSource) throws {
        self.source = source
        entries = try ZIP.entries(in: source)
    }

    /// Array names (member names without `.npy`) in archive order.
    public var names: [String] { entries.map { NPZ.arrayName($0.name) } }

    /// The array `name` in its stored byte and memory order.
    public func array(_ name: String) throws -> NDArray {
        try array(of: entry(name))
    }

    /// The elements of `name` in C order and native byte order, with its shape. A stored member
    /// already in that layout is read directly into the returned array; others are converted.
    public func values<T: NumPyElement>(_ name: String, as _: T.Type) throws -> (values: [T], shape: [Int]) {
        let entry = try entry(name)
        let member = try open(entry)
        let header = member.header
        guard header.dtype == T.numPyDType else {
            throw FileFormatError(file: path, object: name, reason: "array has dtype \(header.dtype), not \(T.numPyDType)")
        }
        guard member.inflated == nil, !header.bigEndian || header.dtype.itemSize == 1, !header.fortranOrder || header.shape.count < 2 else {
            return (try array(of: entry).values(as: T.self), header.shape)
        }
        let count = member.dataSize / header.dtype.itemSize
        let values = try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            try member.readData(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
        return (values, header.shape)
    }

    func entry(_ name: String) throws -> ZIP.Entry {
        guard let entry = entries.first(where: { NPZ.arrayName($0.name) == name }) else {
            throw FileFormatError(file: path, object: name, reason: "no such array in the archive")
        }
        return entry
    }

    func array(of entry: ZIP.Entry) throws -> NDArray {
        let member = try open(entry)
        let bytes = try [UInt8](unsafeUninitializedCapacity: member.dataSize) { buffer, initialized in
            try member.readData(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = member.dataSize
        }
        let header = member.header
        do {
            return try NDArray(dtype: header.dtype, shape: header.shape, bytes: bytes, bigEndian: header.bigEndian, fortranOrder: header.fortranOrder)
        } catch let error as TableError {
            throw entry.error(error.description)
        }
    }

    /// A member whose .npy header is read and agrees with the size the archive declares.
    struct OpenMember {
        var entry: ZIP.Entry
        var source: any ByteSource
        var header: NPYHeader
        var headerBytes: [UInt8]
        var dataSize: Int
        /// The whole inflated .npy of a deflated member (its CRC-32 checked); nil for a stored one.
        var inflated: [UInt8]?

        /// The element bytes into `output` (exactly `dataSize` bytes), CRC-32 checked.
        func readData(into output: UnsafeMutableRawBufferPointer) throws {
            if let inflated {
                inflated.withUnsafeBytes { output.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[headerBytes.count...])) }
                return
            }
            try source.read(at: entry.dataStart + headerBytes.count, into: output, object: entry.object)
            let crc = ZIP.crc32(UnsafeRawBufferPointer(output), initial: headerBytes.withUnsafeBytes { ZIP.crc32($0) })
            guard crc == entry.crc else { throw entry.error("CRC-32 mismatch") }
        }
    }

    func open(_ entry: ZIP.Entry) throws -> OpenMember {
        let file = "\(path)[\(entry.name)]"
        // Both checks come before reading the data: a member that declares gigabytes its array
        // header does not describe, or more than this machine holds, is refused at no cost.
        guard UInt64(entry.declaredSize) <= ProcessInfo.processInfo.physicalMemory else {
            throw entry.error("member declares \(entry.declaredSize) bytes, more than this machine's memory")
        }
        let prefix: [UInt8]
        var stored: [UInt8]?
        if entry.method == 0 {
            prefix = try source.read(at: entry.dataStart, count: min(NPZ.headerPrefixBytes, entry.compressedSize), object: entry.object)
        } else {
            let bytes = try entry.storedBytes(in: source)
            prefix = try entry.inflatedPrefix(bytes, NPZ.headerPrefixBytes)
            stored = bytes
        }
        let layout = try NPY.layout(fromPrefix: prefix, file: file)
        guard layout.dataOffset + layout.dataSize == entry.declaredSize else {
            throw entry.error("member declares \(entry.declaredSize) bytes but its .npy header describes \(layout.dataOffset + layout.dataSize)")
        }
        return OpenMember(entry: entry, source: source, header: layout.header, headerBytes: Array(prefix[..<layout.dataOffset]),
                          dataSize: layout.dataSize, inflated: try stored.map { try entry.inflated($0) })
    }
}
