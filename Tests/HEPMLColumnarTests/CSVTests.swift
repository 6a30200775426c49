import Foundation
import HEPMLCore
import HEPMLTestSupport
import Testing
@testable import HEPMLColumnar

@Suite struct CSVTests {
    @Test func infersTypesAndHandlesQuotesNullsAndCRLF() throws {
        let text = "i,f,b,s\r\n1,1.5,True,plain\r\n-2,,false,\"with, comma\"\r\n\n3,1e3,true,\"say \"\"hi\"\"\nthere\"\r\n"
        let table = try CSV.decode(Array(text.utf8), file: "t.csv")
        #expect(table.rowCount == 3)
        #expect(table.schema.map(\.type) == [.int64, .float64, .bool, .string])
        #expect(table["i"]?.int64Values == [1, -2, 3])
        #expect(table["f"]?[1] == .null)
        #expect(table["f"]?[2] == .float64(1000))
        #expect(table["b"]?.boolValues == [true, false, true])
        #expect(table["s"]?[1] == .string("with, comma"))
        #expect(table["s"]?[2] == .string("say \"hi\"\nthere"))
    }

    @Test func roundTripsThroughWriter() throws {
        let table = try Table(columns: [
            Column(name: "n", int64: [1, 2, 3], validity: [true, false, true]),
            Column(name: "x", float64: [0.1, -2.5e-7, 3]),
            Column(name: "s", strings: ["a\"b", "", nil]),
            Column(name: "flag", bool: [true, false, true]),
        ])
        let back = try CSV.decode(CSV.encode(table), file: "t.csv")
        #expect(back == table)
    }

    @Test func headerlessWithExplicitSchema() throws {
        let options = CSVReadOptions(hasHeader: false, columnNames: ["a", "b"], types: ["a": .float32, "b": .int32])
        let table = try CSV.decode(Array("1,2\n3.5,4\n".utf8), file: "t.csv", options: options)
        #expect(table["a"]?.float32Values == [1, 3.5])
        #expect(table["b"]?.int32Values == [2, 4])
    }

    @Test func errorsNameLineColumnAndField() throws {
        let options = CSVReadOptions(types: ["y": .float64])
        do {
            _ = try CSV.decode(Array("x,y\n1,2\n3,abc\n".utf8), file: "bad.csv", options: options)
            Issue.record("expected an error")
        } catch let error as FileFormatError {
            #expect(error.file == "bad.csv")
            #expect(error.line == 3 && error.column == 3)
            #expect(error.reason.contains("abc") && error.reason.contains("y"))
        }
        #expect(throws: FileFormatError.self) { try CSV.decode(Array("x,y\n1,2\n3\n".utf8), file: "bad.csv") }
        #expect(throws: FileFormatError.self) { try CSV.decode(Array("x,y\n1,\"2\n".utf8), file: "bad.csv") }
    }

    @Test(.requiresShared) func loadsEconTFile() throws {
        let shared = try TestEnvironment.sharedDirectory()
        let table = try CSV.read(path: shared.appendingPathComponent("data/econt/ttbar_0PU.csv").path)
        #expect(table.rowCount == 38382)
        #expect(table.columnNames == (0..<48).map { "CALQ_\($0)" })
        #expect(table.columns.allSatisfy { $0.type == .int64 })
        let matrix = try table.floatMatrix(columns: table.columnNames)
        #expect(matrix.count == 38382 * 48)
        #expect(matrix[28] == 89)
    }
}
