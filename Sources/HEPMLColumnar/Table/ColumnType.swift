import Foundation

/// The leaf value types a column can hold.
public enum ScalarType: String, Sendable, CaseIterable {
    case bool, int32, int64, float32, float64, string

    public var isNumeric: Bool { self != .bool && self != .string }
}

/// A column's type: a scalar, a list of numbers (a 1D histogram per row) or a list of lists of
/// numbers (a 2D histogram per row). Depth is capped at two because that is what the detector
/// workflows store and what every reader here round-trips.
public struct ColumnType: Hashable, Sendable, CustomStringConvertible {
    public var element: ScalarType
    /// 0 for scalars, 1 for `list<element>`, 2 for `list<list<element>>`.
    public var listDepth: Int

    public init(_ element: ScalarType, listDepth: Int = 0) {
        self.element = element
        self.listDepth = listDepth
    }

    public static let bool = ColumnType(.bool)
    public static let int32 = ColumnType(.int32)
    public static let int64 = ColumnType(.int64)
    public static let float32 = ColumnType(.float32)
    public static let float64 = ColumnType(.float64)
    public static let string = ColumnType(.string)
    public static func list(_ element: ScalarType) -> ColumnType { ColumnType(element, listDepth: 1) }
    public static func listOfLists(_ element: ScalarType) -> ColumnType { ColumnType(element, listDepth: 2) }

    /// Lists hold numbers only; anything else is rejected where a column is built.
    public var isSupported: Bool { listDepth == 0 || (listDepth <= 2 && element.isNumeric) }

    public var description: String {
        var text = element.rawValue
        for _ in 0..<listDepth { text = "list<\(text)>" }
        return text
    }

    /// Parses the `description` spelling, e.g. `list<float32>`.
    public init?(parsing text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        var depth = 0
        while rest.hasPrefix("list<") && rest.hasSuffix(">") {
            rest = rest.dropFirst(5).dropLast()
            depth += 1
        }
        guard let element = ScalarType(rawValue: String(rest)) else { return nil }
        self.init(element, listDepth: depth)
        guard isSupported else { return nil }
    }
}
