import Foundation
import HEPMLTestSupport
import Testing
@testable import HEPMLColumnar

@Suite struct TableFileTests {
    @Test func convertsBetweenParquetNpzAndCSV() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = try sampleTable(rows: 40)
        let numeric = try table.selecting(table.columnNames.filter { $0 != "year" })
        let parquet = directory.appendingPathComponent("t.parquet").path
        let npz = directory.appendingPathComponent("t.npz").path
        try TableFile.write(table, to: parquet, compression: .snappy)
        try TableFile.write(try TableFile.read(path: parquet, columns: numeric.columnNames), to: npz)
        #expect(try TableFile.read(path: npz).columns == numeric.columns)
        #expect(throws: TableError.self) { try TableFile.write(table, to: npz) }
        let scalars = try table.selecting(["run_number", "year", "score", "good"])
        let csv = directory.appendingPathComponent("t.csv").path
        try TableFile.write(scalars, to: csv)
        #expect(try CSV.read(path: csv, options: CSVReadOptions(types: ["year": .string])).columns == scalars.columns)
        #expect(try TableFile.read(path: csv)["year"]?.type == .int64)
        #expect(throws: TableError.self) { try TableFile.write(table, to: csv) }
    }

    @Test func multidimensionalArraysBecomeListColumns() throws {
        let array = try NDArray((0..<24).map { Float($0) }, shape: [2, 3, 4])
        let table = try NumPyTable.table(from: [("maps", array)], file: "m.npz")
        let column = try table.column("maps")
        #expect(column.type == .listOfLists(.float32))
        #expect(column.listOffsets == [[0, 3, 6], [0, 4, 8, 12, 16, 20, 24]])
    }
}
