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
