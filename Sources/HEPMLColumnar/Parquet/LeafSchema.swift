/// How a table column maps onto the Parquet schema: the group/leaf elements written for it and
/// the level numbers its leaf uses. Columns are always written nullable, the way pyarrow writes
/// pandas and awkward data, so that pyarrow reads back the same Arrow types:
///
///     optional <leaf> name                                     (scalar, max def 1)
///     optional group name (LIST) {                            (list, max def 3, max rep 1)
///       repeated group list { optional <leaf> element; } }
///     and the same with `element` itself a LIST group          (list<list>, max def 5, max rep 2)
struct LeafSchema {
    var type: ColumnType
    var maxDefinition: Int { 2 * type.listDepth + 1 }
    var maxRepetition: Int { type.listDepth }

    var physicalType: PhysicalType {
        switch type.element {
        case .bool: return .boolean
        case .int32: return .int32
        case .int64: return .int64
        case .float32: return .float
        case .float64: return .double
        case .string: return .byteArray
        }
    }

    func schemaElements(name: String) -> [SchemaElement] {
        var elements: [SchemaElement] = []
        var currentName = name
        for _ in 0..<type.listDepth {
            elements.append(SchemaElement(repetition: Repetition.optional.rawValue, name: currentName, numChildren: 1, convertedType: ConvertedType.list, logicalType: 3))
            elements.append(SchemaElement(repetition: Repetition.repeated.rawValue, name: "list", numChildren: 1))
            currentName = "element"
        }
        var leaf = SchemaElement(type: physicalType.rawValue, repetition: Repetition.optional.rawValue, name: currentName)
        if type.element == .string {
            leaf.convertedType = ConvertedType.utf8
            leaf.logicalType = 1
        }
        elements.append(leaf)
        return elements
    }

    func path(name: String) -> [String] {
        [name] + Array(repeating: ["list", "element"], count: type.listDepth).flatMap { $0 }
    }
}
