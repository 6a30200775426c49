import Testing
@testable import HEPMLColumnar

@Suite struct TableTests {
    @Test func builderMakesNestedColumnsWithNulls() throws {
        var builder = try ColumnBuilder(name: "h2", type: .listOfLists(.float32))
        try builder.append(.list([.list([.float32(1), .float32(2)]), .list([])]))
        builder.appendNull()
        try builder.append(.list([]))
        try builder.append(.list([.list([.float32(3)])]))
        let column = try builder.build()
        #expect(column.type == .listOfLists(.float32))
        #expect(column.listOffsets == [[0, 2, 2, 2, 3], [0, 2, 2, 3]])
        #expect(column.float32Values == [1, 2, 3])
        #expect(column[1] == .null)
        #expect(column[3] == .list([.list([.float32(3)])]))
        #expect(throws: TableError.self) { try builder.append(.float64(1)) }
    }

    @Test func sliceAndConcatenateAreInverse() throws {
        var builder = try ColumnBuilder(name: "h", type: .list(.float64))
        for row in 0..<10 { try builder.append(row == 4 ? .null : .list((0..<row).map { .float64(Double($0)) })) }
        let column = try builder.build()
        let parts = [column.slice(0..<3), column.slice(3..<7), column.slice(7..<10)]
        #expect(try Column.concatenate(parts) == column)
    }

    @Test func rejectsInconsistentBuffers() {
        #expect(throws: TableError.self) { try Column(name: "x", values: .float32([1, 2]), listOffsets: [[0, 3]]) }
        #expect(throws: TableError.self) { try Column(name: "x", values: .string(bytes: [], offsets: [0]), listOffsets: [[0, 0]]) }
        #expect(throws: TableError.self) { try Table(columns: [Column(name: "a", int64: [1]), Column(name: "b", int64: [1, 2])]) }
    }
}

@Suite struct ExplodeTests {
    @Test func oneRowPerListElementWithScalarsRepeated() throws {
        let table = try Table(columns: [
            Column(name: "event", strings: ["a", "b", nil, "d"]),
            Column(name: "weight", float64: [0.5, 1, 2, 4], validity: [true, false, true, true]),
            Column(name: "pt", values: .float32([10, 20, 30, 40]), listOffsets: [[0, 2, 2, 3, 4]]),
            Column(name: "charge", values: .int32([1, -1, 1, -1]), listOffsets: [[0, 2, 2, 3, 4]]),
        ])
        let exploded = try table.explodingLists()
        #expect(exploded.columnNames == ["entry", "subentry", "event", "weight", "pt", "charge"])
        #expect(try exploded.column("entry").int64Values == [0, 0, 2, 3])  // entry 1 has no elements
        #expect(try exploded.column("subentry").int64Values == [0, 1, 0, 0])
        let events = try exploded.column("event")
        #expect((0..<4).map { events.isNull($0) ? nil : events.values.string(at: $0) } == ["a", "a", nil, "d"])
        #expect(try exploded.column("weight").float64Values == [0.5, 0.5, 2, 4])
        #expect(try exploded.column("pt").float32Values == [10, 20, 30, 40])
        #expect(try exploded.column("charge").type == .int32)
        // No lists: unchanged. Lists of different lengths, or of lists: refused.
        let scalars = try table.selecting(["event", "weight"])
        #expect(try scalars.explodingLists() == scalars)
        var uneven = table
        try uneven.set(Column(name: "charge", values: .int32([1, -1, 1, -1]), listOffsets: [[0, 1, 2, 3, 4]]))
        #expect(throws: TableError.self) { try uneven.explodingLists() }
        let nested = try Table(columns: [Column(name: "x", values: .float64([1]), listOffsets: [[0, 1], [0, 1]])])
        #expect(throws: TableError.self) { try nested.explodingLists() }
    }
}
