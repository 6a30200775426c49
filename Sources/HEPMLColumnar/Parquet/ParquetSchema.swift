import HEPMLCore

/// How one top-level field of a Parquet file is read: its leaf column, type and the definition
/// levels at which each list level becomes non-null and non-empty. Files from pyarrow, awkward
/// and HEPML all use the 3-level LIST structure; nodes may be optional or required.
struct ColumnPlan: Sendable {
    var name: String
    var type: ColumnType
    var leafIndex: Int
    var physicalType: PhysicalType
    var maxDefinition: Int
    var maxRepetition: Int
    /// For list level j: the definition level at which the list is non-null / non-empty.
    var definedAt: [Int]
    var nonEmptyAt: [Int]
    /// Definition level at which a scalar row is non-null (0 when the field is required).
    var topLevelNullBelow: Int
}

/// A top-level field: the plan when HEPML can read it, else the reason (naming the feature).
struct FieldEntry: Sendable {
    var name: String
    var plan: Result<ColumnPlan, FileFormatError>
}

struct SchemaNode {
    var element: SchemaElement
    var children: [SchemaNode]
    var leafCount: Int { children.isEmpty ? 1 : children.reduce(0) { $0 + $1.leafCount } }
}

enum ParquetSchema {
    static func fields(_ elements: [SchemaElement], file: String) throws -> [FieldEntry] {
        var index = 0
        func node(depth: Int) throws -> SchemaNode {
            guard index < elements.count else { throw FileFormatError(file: file, object: "schema", reason: "schema tree refers to more elements than the \(elements.count) stored") }
            guard depth < 32 else { throw FileFormatError(file: file, object: "schema", reason: "schema nested too deeply") }
            let element = elements[index]
            index += 1
            let childCount = Int(element.numChildren ?? 0)
            guard childCount >= 0, childCount <= elements.count - index else {
                throw FileFormatError(file: file, object: "schema element \(element.name)", reason: "\(childCount) children exceed the schema")
            }
            var children: [SchemaNode] = []
            for _ in 0..<childCount { children.append(try node(depth: depth + 1)) }
            return SchemaNode(element: element, children: children)
        }
        let root = try node(depth: 0)
        var leafIndex = 0
        var entries: [FieldEntry] = []
        for child in root.children {
            let name = child.element.name
            do {
                entries.append(FieldEntry(name: name, plan: .success(try plan(child, leafIndex: leafIndex, file: file))))
            } catch let error as FileFormatError {
                entries.append(FieldEntry(name: name, plan: .failure(error)))
            }
            leafIndex += child.leafCount
        }
        return entries
    }

    private static func isList(_ element: SchemaElement) -> Bool {
        element.convertedType == ConvertedType.list || element.logicalType == 3
    }

    private static func plan(_ field: SchemaNode, leafIndex: Int, file: String) throws -> ColumnPlan {
        let name = field.element.name
        func refuse(_ feature: String) -> FileFormatError {
            FileFormatError(file: file, object: "column \(name)", reason: "\(feature) is not supported")
        }
        var definition = 0
        var repetition = 0
        var definedAt: [Int] = [], nonEmptyAt: [Int] = []
        var current = field
        while !current.children.isEmpty {
            guard isList(current.element) else {
                throw refuse(current.element.convertedType == 1 || current.element.logicalType == 2 ? "map type" : "struct type")
            }
            guard definedAt.count < 2 else { throw refuse("lists nested deeper than two levels") }
            guard current.element.repetition != Repetition.repeated.rawValue else { throw refuse("a repeated LIST group") }
            if current.element.repetition == Repetition.optional.rawValue { definition += 1 }
            definedAt.append(definition)
            guard current.children.count == 1, let repeatedGroup = current.children.first, repeatedGroup.element.repetition == Repetition.repeated.rawValue else {
                throw refuse("a LIST group without a single repeated child")
            }
            guard repeatedGroup.children.count == 1, let element = repeatedGroup.children.first else {
                throw refuse("the 2-level (legacy) list layout")
            }
            definition += 1
            repetition += 1
            nonEmptyAt.append(definition)
            current = element
        }
        let leaf = current.element
        switch leaf.repetition {
        case Repetition.optional.rawValue: definition += 1
        case Repetition.repeated.rawValue: throw refuse("a repeated field outside a LIST group")
        default: break
        }
        guard let rawType = leaf.type, let physical = PhysicalType(rawValue: rawType) else { throw refuse("a leaf without a known physical type") }
        let element = try scalarType(physical: physical, leaf: leaf, refuse: refuse)
        let type = ColumnType(element, listDepth: definedAt.count)
        guard type.isSupported else { throw refuse("type \(type) (lists hold numbers only)") }
        let topLevelNullBelow = definedAt.isEmpty ? definition : definedAt[0]
        return ColumnPlan(name: name, type: type, leafIndex: leafIndex, physicalType: physical, maxDefinition: definition,
                          maxRepetition: repetition, definedAt: definedAt, nonEmptyAt: nonEmptyAt, topLevelNullBelow: topLevelNullBelow)
    }

    private static func scalarType(physical: PhysicalType, leaf: SchemaElement, refuse: (String) -> FileFormatError) throws -> ScalarType {
        let converted = leaf.convertedType
        switch leaf.logicalType {
        case 5: throw refuse("the DECIMAL logical type")
        case 6: throw refuse("the DATE logical type")
        case 7: throw refuse("the TIME logical type")
        case 8: throw refuse("the TIMESTAMP logical type")
        case 14: throw refuse("the UUID logical type")
        case 15: throw refuse("the FLOAT16 logical type")
        case 10:
            if leaf.integerSigned == false && (leaf.integerBitWidth ?? 0) >= (physical == .int64 ? 64 : 32) {
                throw refuse("unsigned \(leaf.integerBitWidth ?? 0)-bit integers")
            }
        default: break
        }
        switch physical {
        case .boolean: return .bool
        case .int32:
            guard converted == nil || [11, 12, 15, 16, 17].contains(converted ?? -1) else { throw refuse("INT32 with converted type \(converted ?? -1) (date, time, decimal or uint32)") }
            return .int32
        case .int64:
            guard converted == nil || converted == 18 else { throw refuse("INT64 with converted type \(converted ?? -1) (timestamp, time, decimal or uint64)") }
            return .int64
        case .float: return .float32
        case .double: return .float64
        case .byteArray:
            guard converted == ConvertedType.utf8 || converted == 4 || converted == 19 || leaf.logicalType == 1 || leaf.logicalType == 4 || leaf.logicalType == 12 else {
                throw refuse("binary (non-UTF-8) BYTE_ARRAY data")
            }
            return .string
        case .int96: throw refuse("the INT96 physical type (legacy timestamps)")
        case .fixedLenByteArray: throw refuse("the FIXED_LEN_BYTE_ARRAY physical type")
        }
    }
}
