#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File names are bytes, not always UTF-8 (names made on other systems, old archives, a
/// Latin-1 `é`). A Swift `String` cannot hold an invalid byte, so each one that is not part of
/// valid UTF-8 is carried as the private-use scalar U+F700 + byte, and turned back into the
/// same byte when the name reaches the file system: such files open like any other.
public enum RawPath {
    private static let escapeBase: UInt32 = 0xF700

    /// The process arguments, with the bytes of non-UTF-8 names escaped.
    public static var arguments: [String] {
        (0..<Int(CommandLine.argc)).map { index in
            guard let argument = CommandLine.unsafeArgv[index] else { return "" }
            return string(fromFileSystem: argument)
        }
    }

    /// A NUL-terminated name from the file system or the command line.
    public static func string(fromFileSystem name: UnsafePointer<CChar>) -> String {
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self), count: strlen(name))
        if let valid = String(validating: bytes, as: UTF8.self) { return valid }
        var text = String.UnicodeScalarView()
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length = lead < 0x80 ? 1 : (0xC2...0xDF).contains(lead) ? 2 : (0xE0...0xEF).contains(lead) ? 3 : (0xF0...0xF4).contains(lead) ? 4 : 0
            if length > 0, index + length <= bytes.count, let valid = String(validating: bytes[index..<index + length], as: UTF8.self) {
                text.append(contentsOf: valid.unicodeScalars)
                index += length
            } else if let escaped = Unicode.Scalar(escapeBase + UInt32(lead)) {
                text.append(escaped)
                index += 1
            } else {
                index += 1
            }
        }
        return String(text)
    }

    /// The bytes the file system knows `path` by, NUL-terminated: escaped bytes restored.
    public static func fileSystemRepresentation(_ path: String) -> [CChar] {
        var bytes: [UInt8] = []
        for scalar in path.unicodeScalars {
            if (escapeBase + 0x80...escapeBase + 0xFF).contains(scalar.value) {
                bytes.append(UInt8(scalar.value - escapeBase))
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        return bytes.map { CChar(bitPattern: $0) } + [0]
    }

    /// `open(2)` on the file system name of `path`.
    public static func open(_ path: String, _ flags: Int32) -> Int32 {
        fileSystemRepresentation(path).withUnsafeBufferPointer { name in
            name.baseAddress.map { systemOpen($0, flags) } ?? -1
        }
    }

    private static func systemOpen(_ name: UnsafePointer<CChar>, _ flags: Int32) -> Int32 {
        #if canImport(Glibc)
        Glibc.open(name, flags)
        #else
        Darwin.open(name, flags)
        #endif
    }
}
