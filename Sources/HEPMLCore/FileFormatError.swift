/// The one error type for malformed input files, so that every reader reports the same three
/// coordinates a user needs to find the problem: which file, which object inside it, and where.
public struct FileFormatError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    /// Key path, column name, member name or similar; empty when the problem is in the file framing.
    public var object: String
    /// Byte offset in the file (or in the named object's payload when `offsetIsRelative`).
    public var offset: Int?
    /// 1-based line and column for text formats.
    public var line: Int?
    public var column: Int?
    public var reason: String

    public init(file: String, object: String = "", offset: Int? = nil, line: Int? = nil, column: Int? = nil, reason: String) {
        self.file = file
        self.object = object
        self.offset = offset
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String {
        var location = file
        if !object.isEmpty { location += ": \(object)" }
        if let offset { location += " at byte \(offset)" }
        if let line {
            location += " line \(line)"
            if let column { location += " column \(column)" }
        }
        return "\(location): \(reason)"
    }
}
