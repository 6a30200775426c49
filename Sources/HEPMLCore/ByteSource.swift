import Foundation

/// Random access to the bytes of a file (or of a buffer standing in for one): readers of large
/// formats fetch the ranges their records point to instead of loading the whole file.
public protocol ByteSource: Sendable {
    /// The file's name, for error messages.
    var path: String { get }
    var size: Int { get }
    /// Exactly `count` bytes at `offset`; a range past the end is a `FileFormatError` naming
    /// `object`, because every range comes from a pointer stored in the file.
    func read(at offset: Int, count: Int, object: String) throws -> [UInt8]
    /// The bytes of several ranges, in order: a remote source fetches them in one round trip
    /// (an XRootD vector read), a local one reads them one after the other.
    func read(ranges: [ByteRange], object: String) throws -> [[UInt8]]
    /// Exactly `buffer.count` bytes at `offset` into a buffer the caller owns (a large array read
    /// in place rather than through a copy).
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer, object: String) throws
}

/// `count` bytes at `offset` of a `ByteSource`.
public struct ByteRange: Sendable, Equatable {
    public var offset: Int
    public var count: Int

    public init(offset: Int, count: Int) {
        self.offset = offset
        self.count = count
    }
}

extension ByteSource {
    public func read(ranges: [ByteRange], object: String) throws -> [[UInt8]] {
        try ranges.map { try read(at: $0.offset, count: $0.count, object: object) }
    }

    public func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer, object: String) throws {
        let bytes = try read(at: offset, count: buffer.count, object: object)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
    }

    /// Throws the format error every source gives for a range outside the file.
    public func checkRange(at offset: Int, count: Int, object: String) throws {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw FileFormatError(file: path, object: object, offset: offset,
                                  reason: "record of \(count) bytes extends past the end of the \(size)-byte file")
        }
    }
}

/// Reads byte ranges of a file with `pread`, so that opening a multi-gigabyte file costs only the
/// records a reader asks for (ROOT keys and baskets, Parquet footers and column chunks), and
/// concurrent readers on worker threads share one descriptor.
public final class FileSource: ByteSource, @unchecked Sendable {
    public let path: String
    public let size: Int
    private let descriptor: Int32

    public init(path: String) throws {
        let fd = RawPath.open(path, O_RDONLY)
        guard fd >= 0 else {
            throw FileFormatError(file: path, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            close(fd)
            throw FileFormatError(file: path, reason: "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT != S_IFDIR else {
            close(fd)
            throw FileFormatError(file: path, reason: "is a directory, not a file")
        }
        self.path = path
        self.descriptor = fd
        self.size = Int(status.st_size)
    }

    deinit { close(descriptor) }

    /// The whole file: for formats read in one piece (CSV, .npy, .npz).
    public static func contents(of path: String) throws -> [UInt8] {
        let file = try FileSource(path: path)
        return try file.read(at: 0, count: file.size, object: "")
    }

    /// Reads exactly `count` bytes at `offset`; a range past the end of the file is a format error
    /// because every range comes from a pointer stored in the file.
    public func read(at offset: Int, count: Int, object: String) throws -> [UInt8] {
        try checkRange(at: offset, count: count, object: object)
        // Filled by pread directly: no zeroing pass over buffers that are overwritten anyway.
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            try read(at: offset, into: UnsafeMutableRawBufferPointer(buffer), object: object)
            initialized = count
        }
    }

    public func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer, object: String) throws {
        try checkRange(at: offset, count: buffer.count, object: object)
        var done = 0
        while done < buffer.count, let base = buffer.baseAddress {
            let got = pread(descriptor, base + done, buffer.count - done, off_t(offset + done))
            if got < 0, errno == EINTR { continue }
            guard got > 0 else { throw FileFormatError(file: path, object: object, offset: offset + done, reason: "read failed") }
            done += got
        }
    }
}

/// Bytes already in memory, read through the same interface (tests, data received over a pipe).
public struct MemorySource: ByteSource {
    public let path: String
    public let bytes: [UInt8]
    public var size: Int { bytes.count }

    public init(_ bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    public func read(at offset: Int, count: Int, object: String) throws -> [UInt8] {
        try checkRange(at: offset, count: count, object: object)
        return Array(bytes[offset..<(offset + count)])
    }
}
