import Foundation
import HEPMLCompression
import HEPMLCore

/// A Parquet file opened for reading: footer parsed, schema mapped to column types. Opening reads
/// only the footer; `read(columns:rowGroups:)` fetches and decodes the selected column chunks in
/// parallel, each worker holding one chunk's bytes at a time.
public struct ParquetFile: Sendable {
    public struct ColumnInfo: Sendable {
        public var name: String
        /// nil when the column uses a feature HEPML does not read; `unsupportedReason` says which.
        public var type: ColumnType?
        public var unsupportedReason: String?
        public var compression: ParquetCompression?
        public var encodings: [String]
        /// Bytes of the column's chunks in the file (compressed pages, all row groups).
        public var storedBytes: Int
    }

    public let path: String
    public let rowCount: Int
    public let rowGroupRowCounts: [Int]
    public let columns: [ColumnInfo]
    public let metadata: [String: String]
    public let createdBy: String?
    /// Bytes of the footer (schema, row-group metadata and key-value metadata).
    public let footerBytes: Int
    private let source: any ByteSource
    private let fields: [FieldEntry]
    private let rowGroups: [RowGroupMeta]

    public init(path: String) throws {
        try self.init(source: FileSource(path: path))
    }

    /// A file already in memory.
    public init(bytes: [UInt8], file: String) throws {
        try self.init(source: MemorySource(bytes, path: file))
    }

    public init(source: any ByteSource) throws {
        let file = source.path, size = source.size
        self.path = file
        self.source = source
        guard size >= 12, try source.read(at: 0, count: 4, object: "parquet header") == Array("PAR1".utf8) else {
            throw FileFormatError(file: file, object: "parquet header", offset: 0, reason: "not a Parquet file (PAR1 magic missing at the start)")
        }
        var tail = ByteReader(try source.read(at: size - 8, count: 8, object: "parquet footer"), file: file, object: "parquet footer", baseOffset: size - 8)
        let footerLength = try tail.readCount32(bigEndian: false, limit: size - 12, what: "footer length")
        guard Array(try tail.readBytes(4)) == Array("PAR1".utf8) else {
            throw tail.error("not a Parquet file or truncated (PAR1 magic missing at the end)", at: 4)
        }
        let footerStart = size - 8 - footerLength
        footerBytes = footerLength
        let reader = ByteReader(try source.read(at: footerStart, count: footerLength, object: "parquet footer"), file: file,
                                object: "parquet footer", baseOffset: footerStart)
        var thrift = ThriftReader(reader)
        let meta = try FileMeta.decode(&thrift)
        guard !meta.schema.isEmpty else { throw reader.error("empty schema", at: 0) }
        fields = try ParquetSchema.fields(meta.schema, file: file)
        rowGroups = meta.rowGroups
        let leafCount = fields.count == 0 ? 0 : meta.schema.filter { ($0.numChildren ?? 0) == 0 }.count
        var counts: [Int] = []
        for (index, group) in meta.rowGroups.enumerated() {
            guard group.numRows >= 0, group.numRows <= Int64(Int32.max), group.columns.count == leafCount else {
                throw reader.error("row group \(index) has \(group.numRows) rows and \(group.columns.count) column chunks for \(leafCount) leaf columns", at: 0)
            }
            counts.append(Int(group.numRows))
        }
        rowGroupRowCounts = counts
        rowCount = counts.reduce(0, +)
        metadata = Dictionary(meta.keyValues, uniquingKeysWith: { _, last in last })
        createdBy = meta.createdBy
        columns = fields.map { field in
            switch field.plan {
            case .success(let plan):
                let chunk = meta.rowGroups.first?.columns[plan.leafIndex]
                let stored = meta.rowGroups.reduce(0) { $0 + max(0, Int(clamping: $1.columns[plan.leafIndex].totalCompressedSize)) }
                return ColumnInfo(name: field.name, type: plan.type, unsupportedReason: nil,
                                  compression: chunk.flatMap { ParquetCompression(rawValue: $0.codec) },
                                  encodings: chunk.map { $0.encodings.map { Encoding(rawValue: $0)?.name ?? "encoding \($0)" } } ?? [],
                                  storedBytes: stored)
            case .failure(let error):
                return ColumnInfo(name: field.name, type: nil, unsupportedReason: error.reason, compression: nil, encodings: [], storedBytes: 0)
            }
        }
    }

    /// Reads the named columns (all when nil) of the chosen row groups (all when nil).
    public func read(columns names: [String]? = nil, rowGroups groups: [Int]? = nil) throws -> Table {
        var plans: [ColumnPlan] = []
        for name in names ?? fields.map(\.name) {
            guard let field = fields.first(where: { $0.name == name }) else {
                throw FileFormatError(file: path, object: "column \(name)", reason: "no such column (columns: \(fields.map(\.name).joined(separator: ", ")))")
            }
            plans.append(try field.plan.get())
        }
        let groupIndices = groups ?? Array(rowGroups.indices)
        for group in groupIndices where !rowGroups.indices.contains(group) {
            throw FileFormatError(file: path, reason: "row group \(group) does not exist (the file has \(rowGroups.count))")
        }
        let source = self.source
        let chosen = plans
        let rowGroups = self.rowGroups
        let parts = try Parallel.map(plans.count * groupIndices.count) { task -> Column in
            let plan = chosen[task / max(1, groupIndices.count)]
            let group = groupIndices[task % groupIndices.count]
            return try ChunkDecoder(source: source, plan: plan, meta: rowGroups[group].columns[plan.leafIndex],
                                    rowCount: Int(rowGroups[group].numRows)).decode()
        }
        var columns: [Column] = []
        for (index, plan) in plans.enumerated() {
            let pieces = Array(parts[(index * groupIndices.count)..<((index + 1) * groupIndices.count)])
            columns.append(pieces.isEmpty ? try Column(name: plan.name, values: .empty(plan.type.element), listOffsets: [[Int]](repeating: [0], count: plan.type.listDepth)) : try Column.concatenate(pieces))
        }
        return try Table(columns: columns, metadata: metadata)
    }

    /// The leading row groups that hold the first `rows` rows (at least one group), so that a
    /// preview decodes only what it shows, never the whole file.
    public func rowGroups(coveringFirst rows: Int) -> [Int] {
        var total = 0
        var groups: [Int] = []
        for (index, count) in rowGroupRowCounts.enumerated() where total < max(1, rows) {
            groups.append(index)
            total += count
        }
        return groups
    }
}

public enum Parquet {
    public static func read(path: String, columns: [String]? = nil, rowGroups: [Int]? = nil) throws -> Table {
        try ParquetFile(path: path).read(columns: columns, rowGroups: rowGroups)
    }

    public static func write(_ table: Table, to path: String, options: ParquetWriteOptions = ParquetWriteOptions()) throws {
        try ParquetWriter.write(table, to: path, options: options)
    }
}

/// Decodes one column chunk into a column: pages, decompression, levels, values, assembly.
struct ChunkDecoder {
    let source: any ByteSource
    var file: String { source.path }
    let plan: ColumnPlan
    let meta: ColumnChunkMeta
    let rowCount: Int

    private var object: String { "column \(plan.name)" }

    func decode() throws -> Column {
        guard meta.type == plan.physicalType.rawValue else {
            throw FileFormatError(file: file, object: object, offset: Int(clamping: meta.dataPageOffset),
                                  reason: "column chunk type \(meta.type) differs from the schema's \(plan.physicalType)")
        }
        var start = meta.dataPageOffset
        if let dictionary = meta.dictionaryPageOffset, dictionary > 0, dictionary < start { start = dictionary }
        let (end, overflow) = start.addingReportingOverflow(meta.totalCompressedSize)
        guard start >= 4, meta.totalCompressedSize >= 0, meta.numValues >= 0, !overflow, end <= Int64(source.size) else {
            throw FileFormatError(file: file, object: object, offset: min(max(0, Int(clamping: start)), source.size),
                                  reason: "column chunk \(start)+\(meta.totalCompressedSize) lies outside the file")
        }
        var reader = ByteReader(try source.read(at: Int(start), count: Int(meta.totalCompressedSize), object: object), file: file,
                                object: object, baseOffset: Int(start))

        var dictionary: ColumnValues?
        var definition: [UInt8] = []
        var repetition: [UInt8] = []
        var pages: [ColumnValues] = []
        var levelCount = 0
        while levelCount < Int(clamping: meta.numValues) {
            let pageStart = reader.position
            var thrift = ThriftReader(reader)
            let header = try PageHeader.decode(&thrift)
            reader = thrift.reader
            guard header.compressedSize >= 0, header.uncompressedSize >= 0 else { throw reader.error("negative page size", at: pageStart) }
            let payloadStart = reader.position
            let payload = Array(try reader.readBytes(Int(header.compressedSize)))
            switch PageType(rawValue: header.type) {
            case .dictionaryPage:
                guard header.encoding == Encoding.plain.rawValue || header.encoding == Encoding.plainDictionary.rawValue else {
                    throw reader.error("dictionary page encoding \(header.encoding) is not supported", at: pageStart)
                }
                let raw = try decompress(payload, size: Int(header.uncompressedSize), at: payloadStart)
                var values = ByteReader(raw, file: file, object: "\(object) dictionary page (decompressed)", baseOffset: payloadStart)
                guard header.numValues >= 0 else { throw reader.error("negative dictionary size", at: pageStart) }
                dictionary = try PlainEncoder.decode(&values, type: plan.physicalType, count: Int(header.numValues))
            case .dataPage, .dataPageV2:
                guard header.numValues >= 0, Int64(header.numValues) <= meta.numValues - Int64(levelCount) else {
                    throw reader.error("page of \(header.numValues) values exceeds the chunk's \(meta.numValues)", at: pageStart)
                }
                let count = Int(header.numValues)
                var levels: ByteReader
                var values: ByteReader
                let v2 = header.type == PageType.dataPageV2.rawValue
                if v2 {
                    let repetitionLength = Int(header.repetitionLevelsByteLength), definitionLength = Int(header.definitionLevelsByteLength)
                    guard repetitionLength >= 0, definitionLength >= 0, repetitionLength + definitionLength <= payload.count else {
                        throw reader.error("level lengths exceed the page", at: pageStart)
                    }
                    let levelBytes = repetitionLength + definitionLength
                    levels = ByteReader(Array(payload[0..<levelBytes]), file: file, object: "\(object) page levels", baseOffset: payloadStart)
                    let compressedValues = Array(payload[levelBytes...])
                    let valueSize = Int(header.uncompressedSize) - levelBytes
                    guard valueSize >= 0 else { throw reader.error("page sizes are inconsistent", at: pageStart) }
                    let raw = header.isCompressed ? try decompress(compressedValues, size: valueSize, at: payloadStart + levelBytes) : compressedValues
                    values = ByteReader(raw, file: file, object: "\(object) page values (decompressed)", baseOffset: payloadStart + levelBytes)
                    if plan.maxRepetition > 0 {
                        var section = ByteReader(Array(levels.bytes[0..<repetitionLength]), file: file, object: levels.object, baseOffset: payloadStart)
                        repetition += try RLEHybrid.decode(&section, bitWidth: RLEHybrid.bitWidth(plan.maxRepetition), count: count, maxValue: plan.maxRepetition, as: UInt8.self)
                    }
                    if plan.maxDefinition > 0 {
                        var section = ByteReader(Array(levels.bytes[repetitionLength..<levelBytes]), file: file, object: levels.object, baseOffset: payloadStart + repetitionLength)
                        definition += try RLEHybrid.decode(&section, bitWidth: RLEHybrid.bitWidth(plan.maxDefinition), count: count, maxValue: plan.maxDefinition, as: UInt8.self)
                    }
                } else {
                    let raw = try decompress(payload, size: Int(header.uncompressedSize), at: payloadStart)
                    levels = ByteReader(raw, file: file, object: "\(object) page (decompressed)", baseOffset: payloadStart)
                    for (maxLevel, isRepetition) in [(plan.maxRepetition, true), (plan.maxDefinition, false)] where maxLevel > 0 {
                        let encoding = isRepetition ? header.repetitionLevelEncoding : header.definitionLevelEncoding
                        guard encoding == Encoding.rle.rawValue else { throw levels.error("level encoding \(encoding) (BIT_PACKED) is not supported") }
                        let length = try levels.readCount32(bigEndian: false, limit: levels.remaining, what: "level section length")
                        var section = ByteReader(Array(try levels.readBytes(length)), file: file, object: levels.object, baseOffset: levels.fileOffset - length)
                        let decoded = try RLEHybrid.decode(&section, bitWidth: RLEHybrid.bitWidth(maxLevel), count: count, maxValue: maxLevel, as: UInt8.self)
                        if isRepetition { repetition += decoded } else { definition += decoded }
                    }
                    values = levels
                }
                let present: Int
                if plan.maxDefinition > 0 {
                    let top = UInt8(plan.maxDefinition)
                    present = definition[(definition.count - count)...].reduce(0) { $0 + ($1 == top ? 1 : 0) }
                } else {
                    present = count
                }
                pages.append(try decodeValues(&values, encoding: header.encoding, count: present, dictionary: dictionary, pageStart: pageStart))
                levelCount += count
            case .indexPage:
                break
            case .none:
                throw reader.error("unknown page type \(header.type)", at: pageStart)
            }
        }
        let values = try concatenate(pages)
        return try assemble(values: values, definition: definition, repetition: repetition, levelCount: levelCount, at: Int(start))
    }

    private func decompress(_ payload: [UInt8], size: Int, at offset: Int) throws -> [UInt8] {
        let codec = ParquetCompression(rawValue: meta.codec)
        do {
            switch codec {
            case .none?:
                guard payload.count == size else { throw FileFormatError(file: file, object: object, offset: offset, reason: "uncompressed page is \(payload.count) bytes, header says \(size)") }
                return payload
            case .snappy?: return try payload.withUnsafeBytes { try Codec.snappyDecompress($0, decompressedSize: size) }
            case .zstd?: return try payload.withUnsafeBytes { try Codec.zstdDecompress($0, decompressedSize: size) }
            case .lz4Raw?: return try payload.withUnsafeBytes { try Codec.lz4Decompress($0, decompressedSize: size) }
            default:
                throw FileFormatError(file: file, object: object, offset: offset, reason: "compression \(codec?.name ?? "codec \(meta.codec)") is not supported (none, snappy, zstd, lz4_raw)")
            }
        } catch let error as CompressionError {
            throw FileFormatError(file: file, object: object, offset: offset, reason: "corrupt compressed page: \(error)")
        }
    }

    private func decodeValues(_ reader: inout ByteReader, encoding: Int32, count: Int, dictionary: ColumnValues?, pageStart: Int) throws -> ColumnValues {
        switch Encoding(rawValue: encoding) {
        case .plain?:
            return try PlainEncoder.decode(&reader, type: plan.physicalType, count: count)
        case .rleDictionary?, .plainDictionary?:
            guard let dictionary else { throw reader.error("dictionary-encoded page without a dictionary page") }
            let width = Int(try reader.readUInt8())
            let indices = try RLEHybrid.decode(&reader, bitWidth: width, count: count, maxValue: max(0, dictionary.count - 1), as: UInt32.self)
            guard dictionary.count > 0 || count == 0 else { throw reader.error("empty dictionary") }
            return dictionary.gathering(indices)
        case .rle? where plan.physicalType == .boolean:
            let length = try reader.readCount32(bigEndian: false, limit: reader.remaining, what: "RLE boolean length")
            var section = ByteReader(Array(try reader.readBytes(length)), file: file, object: reader.object, baseOffset: reader.fileOffset - length)
            return .bool(try RLEHybrid.decode(&section, bitWidth: 1, count: count, maxValue: 1, as: UInt8.self).map { $0 != 0 })
        default:
            let name = Encoding(rawValue: encoding)?.name ?? "\(encoding)"
            throw FileFormatError(file: file, object: object, offset: reader.baseOffset, reason: "encoding \(name) is not supported (PLAIN, RLE_DICTIONARY, RLE booleans)")
        }
    }

    private func concatenate(_ pages: [ColumnValues]) throws -> ColumnValues {
        if pages.count == 1, let only = pages.first { return only }
        let columns = try pages.map { try Column(name: plan.name, values: $0) }
        return columns.isEmpty ? .empty(plan.type.element) : try Column.concatenate(columns).values
    }

    /// Turns levels and dense leaf values into offsets, validity and row-aligned values.
    private func assemble(values: ColumnValues, definition: [UInt8], repetition: [UInt8], levelCount: Int, at offset: Int) throws -> Column {
        func fail(_ reason: String) -> FileFormatError { FileFormatError(file: file, object: object, offset: offset, reason: reason) }
        let depth = plan.type.listDepth
        if depth == 0 {
            guard levelCount == rowCount else { throw fail("\(levelCount) values for \(rowCount) rows") }
            guard plan.maxDefinition > 0 else {
                guard values.count == rowCount else { throw fail("\(values.count) values for \(rowCount) rows") }
                return try Column(name: plan.name, values: values)
            }
            let top = UInt8(plan.maxDefinition)
            let validity = definition.map { $0 == top }
            return try Column(name: plan.name, values: scatter(values, validity), validity: validity)
        }
        guard repetition.count == levelCount, definition.count == levelCount || plan.maxDefinition == 0 else { throw fail("level counts are inconsistent") }
        if depth == 1 && plan.maxDefinition > 0 { return try assembleList(values: values, definition: definition, repetition: repetition, fail: fail) }
        var offsets = [[Int]](repeating: [], count: depth)
        var validity: [Bool] = []
        validity.reserveCapacity(rowCount)
        offsets[0].reserveCapacity(rowCount + 1)
        var leafCount = 0
        let maxDefinition = plan.maxDefinition
        for i in 0..<levelCount {
            let r = Int(repetition[i])
            let d = plan.maxDefinition > 0 ? Int(definition[i]) : 0
            guard r <= depth else { throw fail("repetition level \(r) exceeds \(depth)") }
            if r == 0 {
                validity.append(d >= plan.definedAt[0])
            } else if offsets[0].isEmpty {
                throw fail("first level entry repeats a list")
            }
            var reachedLeaf = true
            for level in r..<depth {
                if level > 0 && level > r && d < plan.nonEmptyAt[level - 1] { reachedLeaf = false; break }
                if level > 0 && d < plan.definedAt[level] { throw fail("null inner list (row \(validity.count - 1)) is not supported") }
                offsets[level].append(level + 1 < depth ? offsets[level + 1].count : leafCount)
                if d < plan.nonEmptyAt[level] { reachedLeaf = false; break }
            }
            if r == depth && d < plan.nonEmptyAt[depth - 1] { throw fail("repeated entry without a value") }
            if reachedLeaf {
                guard d == maxDefinition else { throw fail("null list elements (row \(validity.count - 1)) are not supported") }
                leafCount += 1
            }
        }
        guard validity.count == rowCount else { throw fail("\(validity.count) rows in the levels, \(rowCount) in the row group") }
        guard leafCount == values.count else { throw fail("\(leafCount) list elements in the levels, \(values.count) values") }
        for level in 0..<depth { offsets[level].append(level + 1 < depth ? offsets[level + 1].count : leafCount) }
        return try Column(name: plan.name, values: values, listOffsets: offsets, validity: validity)
    }

    /// The 1D-histogram case of `assemble` as one tight pass over the levels.
    private func assembleList(values: ColumnValues, definition: [UInt8], repetition: [UInt8], fail: (String) -> FileFormatError) throws -> Column {
        var offsets: [Int] = []
        var validity: [Bool] = []
        offsets.reserveCapacity(rowCount + 1)
        validity.reserveCapacity(rowCount)
        let defined = UInt8(plan.definedAt[0]), nonEmpty = UInt8(plan.nonEmptyAt[0]), top = UInt8(plan.maxDefinition)
        var leafCount = 0
        var badEntry: Int?
        definition.withUnsafeBufferPointer { definition in
            repetition.withUnsafeBufferPointer { repetition in
                for i in 0..<definition.count {
                    let d = definition[i]
                    if repetition[i] == 0 {
                        validity.append(d >= defined)
                        offsets.append(leafCount)
                        if d < nonEmpty { continue }
                    } else if offsets.isEmpty || d < nonEmpty {
                        badEntry = i
                        return
                    }
                    if d != top { badEntry = i; return }
                    leafCount += 1
                }
            }
        }
        if let badEntry { throw fail("level entry \(badEntry) is a null list element or repeats outside a list (not supported)") }
        guard validity.count == rowCount else { throw fail("\(validity.count) rows in the levels, \(rowCount) in the row group") }
        guard leafCount == values.count else { throw fail("\(leafCount) list elements in the levels, \(values.count) values") }
        offsets.append(leafCount)
        return try Column(name: plan.name, values: values, listOffsets: [offsets], validity: validity)
    }

    /// Spreads dense non-null values over rows, zero where `validity` is false.
    private func scatter(_ values: ColumnValues, _ validity: [Bool]) throws -> ColumnValues {
        guard values.count != validity.count else { return values }
        func spread<T>(_ v: [T], _ zero: T) -> [T] {
            var result = [T](repeating: zero, count: validity.count)
            var next = 0
            for (row, valid) in validity.enumerated() where valid { result[row] = v[next]; next += 1 }
            return result
        }
        switch values {
        case .bool(let v): return .bool(spread(v, false))
        case .int32(let v): return .int32(spread(v, 0))
        case .int64(let v): return .int64(spread(v, 0))
        case .float32(let v): return .float32(spread(v, 0))
        case .float64(let v): return .float64(spread(v, 0))
        case .string(let bytes, let offsets):
            var outOffsets = [0]
            var next = 0
            for valid in validity {
                if valid { next += 1 }
                outOffsets.append(offsets[next])
            }
            return .string(bytes: bytes, offsets: outOffsets)
        }
    }
}
