import Foundation
import HEPMLCore
import HEPMLTestSupport
import Testing
@testable import HEPMLColumnar

/// A table with every column type, nulls, empty lists and the AutoDQM_ML column names.
func sampleTable(rows: Int, seed: UInt64 = 1) throws -> Table {
    var random = SeededGenerator(seed: seed)
    var h1 = try ColumnBuilder(name: "L1T/L1TStage2CaloLayer1/ecalOccupancy", type: .list(.float32))
    var h2 = try ColumnBuilder(name: "L1T/timing/first_bunch", type: .listOfLists(.float32))
    var reco = try ColumnBuilder(name: "L1T/h1_reco_pca", type: .list(.float64))
    var ints = try ColumnBuilder(name: "counts", type: .list(.int32))
    var longs = try ColumnBuilder(name: "nested_ids", type: .listOfLists(.int64))
    for row in 0..<rows {
        if row % 7 == 3 { h1.appendNull() } else {
            try h1.appendList((0..<(row % 5 == 0 ? 0 : 10)).map { _ in Float(random.nextPoisson(mean: 4)) })
        }
        try h2.append(row % 11 == 5 ? .null : .list((0..<(row % 3)).map { i in .list((0..<(i == 1 ? 0 : 4)).map { _ in .float32(Float(random.nextNormal())) }) }))
        try reco.append(.list((0..<3).map { _ in .float64(random.nextUniform()) }))
        try ints.append(.list((0..<(row % 4)).map { .int32(Int32($0) - 1) }))
        try longs.append(.list([.list([.int64(Int64(row) << 33)]), .list([])]))
    }
    return try Table(columns: [
        Column(name: "run_number", int64: (0..<rows).map { 355_000 + Int64($0) }),
        Column(name: "year", strings: (0..<rows).map { $0 % 9 == 8 ? nil : ($0 % 2 == 0 ? "2022" : "2018") }),
        Column(name: "label", int64: (0..<rows).map { Int64($0 % 3) - 1 }),
        Column(name: "score", float64: (0..<rows).map { Double($0) * 0.5 }, validity: (0..<rows).map { $0 % 5 != 1 }),
        Column(name: "lumi", int32: (0..<rows).map { Int32($0) }),
        Column(name: "f32", float32: (0..<rows).map { Float($0) / 3 }),
        Column(name: "good", bool: (0..<rows).map { $0 % 3 == 0 }, validity: (0..<rows).map { $0 % 4 != 2 }),
        h1.build(), h2.build(), reco.build(), ints.build(), longs.build(),
    ], metadata: ["hepml.source": "test", "note": "ünïcode"])
}

@Suite struct ParquetTests {
    @Test func roundTripsEveryTypeWithEveryOption() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = try sampleTable(rows: 300)
        let path = directory.appendingPathComponent("t.parquet").path
        for compression in [ParquetCompression.zstd, .snappy, .none] {
            for version in [1, 2] {
                for dictionary in [true, false] {
                    var options = ParquetWriteOptions(compression: compression, rowGroupSize: 128, dataPageVersion: version, useDictionary: dictionary)
                    options.dataPageSize = 2000
                    try Parquet.write(table, to: path, options: options)
                    let file = try ParquetFile(path: path)
                    #expect(file.rowGroupRowCounts == [128, 128, 44])
                    #expect(file.columns.map(\.compression) == Array(repeating: compression, count: table.columns.count))
                    #expect(try file.read() == table)
                }
            }
        }
    }

    @Test func plainColumnsSkipTheDictionaryAndReadBackTheSame() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = try sampleTable(rows: 300)
        let path = directory.appendingPathComponent("t.parquet").path
        func encodings(_ plain: Set<String>) throws -> [String: [String]] {
            var options = ParquetWriteOptions()
            options.plainColumns = plain
            try Parquet.write(table, to: path, options: options)
            let file = try ParquetFile(path: path)
            #expect(try file.read() == table)
            return Dictionary(uniqueKeysWithValues: file.columns.map { ($0.name, $0.encodings) })
        }
        // "label" has three values: a dictionary unless the column is named plain; others unaffected.
        let byDefault = try encodings([]), plain = try encodings(["label"])
        #expect(byDefault["label"]?.contains("RLE_DICTIONARY") == true)
        #expect(plain["label"]?.contains("RLE_DICTIONARY") == false)
        #expect(plain["year"] == byDefault["year"])
    }

    @Test func projectionRowGroupsAndEmptyTables() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = try sampleTable(rows: 50)
        let path = directory.appendingPathComponent("t.parquet").path
        try Parquet.write(table, to: path, options: ParquetWriteOptions(rowGroupSize: 20))
        let part = try Parquet.read(path: path, columns: ["label", "L1T/timing/first_bunch"], rowGroups: [1, 2])
        #expect(part == (try table.selecting(["label", "L1T/timing/first_bunch"]).slice(20..<50)))
        #expect(throws: FileFormatError.self) { try Parquet.read(path: path, columns: ["missing"]) }
        #expect(throws: FileFormatError.self) { try Parquet.read(path: path, rowGroups: [3]) }
        let file = try ParquetFile(path: path)
        #expect(file.rowGroups(coveringFirst: 0) == [0] && file.rowGroups(coveringFirst: 20) == [0])
        #expect(file.rowGroups(coveringFirst: 21) == [0, 1] && file.rowGroups(coveringFirst: 500) == [0, 1, 2])
        let empty = try table.slice(0..<0)
        try Parquet.write(empty, to: path)
        #expect(try Parquet.read(path: path) == empty)
    }

    /// Counts the bytes a reader fetches.
    final class CountingSource: ByteSource, @unchecked Sendable {
        let inner: MemorySource
        private let lock = NSLock()
        private var fetched = 0
        var bytesRead: Int { lock.withLock { fetched } }
        var path: String { inner.path }
        var size: Int { inner.size }
        init(_ bytes: [UInt8]) { inner = MemorySource(bytes, path: "counted.parquet") }
        func read(at offset: Int, count: Int, object: String) throws -> [UInt8] {
            lock.withLock { fetched += count }
            return try inner.read(at: offset, count: count, object: object)
        }
    }

    /// Opening reads the footer only; a projection fetches only its column chunks.
    @Test func readsOnlyTheFooterAndTheSelectedChunks() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = try sampleTable(rows: 400)
        let path = directory.appendingPathComponent("t.parquet").path
        try Parquet.write(table, to: path, options: ParquetWriteOptions(rowGroupSize: 100))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let source = CountingSource(bytes)
        let file = try ParquetFile(source: source)
        let footer = source.bytesRead
        #expect(footer < bytes.count / 4, "opening read \(footer) of \(bytes.count) bytes")
        let labels = try file.read(columns: ["label"], rowGroups: [2])
        #expect(labels == (try table.selecting(["label"]).slice(200..<300)))
        #expect(source.bytesRead - footer < bytes.count / 20, "one chunk cost \(source.bytesRead - footer) of \(bytes.count) bytes")
    }

    @Test func corruptAndTruncatedFilesThrowWithOffsets() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("t.parquet").path
        try Parquet.write(try sampleTable(rows: 100), to: path)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        for cut in [3, 20, bytes.count / 2, bytes.count - 5] {
            #expect(throws: FileFormatError.self) { try ParquetFile(bytes: Array(bytes.prefix(cut)), file: "cut.parquet").read() }
        }
        // Flip bytes throughout the file: every outcome is either a clean error or a table.
        var random = SeededGenerator(seed: 9)
        for _ in 0..<200 {
            var corrupt = bytes
            let position = Int(random.next() % UInt64(bytes.count))
            corrupt[position] ^= UInt8(truncatingIfNeeded: random.next() | 1)
            do {
                _ = try ParquetFile(bytes: corrupt, file: "bad.parquet").read()
            } catch let error as FileFormatError {
                #expect(error.file == "bad.parquet")
                #expect(error.offset != nil || error.line != nil)
            } catch {
                Issue.record("unexpected error type \(error)")
            }
        }
    }

    @Test func rleHybridRoundTrips() throws {
        var random = SeededGenerator(seed: 3)
        for width in [0, 1, 3, 8, 17] {
            let maxValue = width == 0 ? 0 : (1 << width) - 1
            let values: [UInt32] = (0..<1000).map { i in i % 50 < 20 ? UInt32(maxValue) : UInt32(random.next() % UInt64(maxValue + 1)) }
            var encoded: [UInt8] = []
            values.withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: width, into: &encoded) }
            var reader = ByteReader(encoded, file: "rle")
            #expect(try RLEHybrid.decode(&reader, bitWidth: width, count: values.count, maxValue: maxValue, as: UInt32.self) == values)
        }
    }
}
