import Foundation
import HEPMLCompression
import HEPMLCore

/// Options for writing Parquet; the defaults follow pyarrow's (ZSTD aside, which HEPML prefers).
public struct ParquetWriteOptions: Sendable {
    public var compression: ParquetCompression = .zstd
    public var compressionLevel: Int32 = 1
    /// Rows per row group.
    public var rowGroupSize: Int = 1 << 20
    /// Uncompressed bytes per data page (pages split at row boundaries).
    public var dataPageSize: Int = 1 << 20
    /// 1 for DATA_PAGE, 2 for DATA_PAGE_V2.
    public var dataPageVersion: Int = 1
    /// Dictionary-encode columns whose dictionary stays under `dictionaryPageSizeLimit` bytes and
    /// has at most half as many entries as values; others fall back to PLAIN.
    public var useDictionary = true
    public var dictionaryPageSizeLimit = 1 << 20
    /// Columns written PLAIN without trying a dictionary: values known to be nearly all distinct
    /// (a network's float outputs), on which the attempt is a hash-table pass over a quarter of a
    /// million values before it gives up.
    public var plainColumns: Set<String> = []

    public init(compression: ParquetCompression = .zstd, rowGroupSize: Int = 1 << 20, dataPageVersion: Int = 1, useDictionary: Bool = true) {
        self.compression = compression
        self.rowGroupSize = rowGroupSize
        self.dataPageVersion = dataPageVersion
        self.useDictionary = useDictionary
    }
}

public enum ParquetWriter {
    public static let createdBy = "HEPML version 0.1.0"

    /// Writes `table` atomically. Column chunks are encoded and compressed in parallel, one task
    /// per (row group, column), then written in order.
    public static func write(_ table: Table, to path: String, options: ParquetWriteOptions = ParquetWriteOptions()) throws {
        guard [ParquetCompression.none, .snappy, .zstd].contains(options.compression) else {
            throw TableError("writing \(options.compression.name) compression is not supported (none, snappy, zstd)")
        }
        guard options.dataPageVersion == 1 || options.dataPageVersion == 2 else { throw TableError("data page version must be 1 or 2") }
        let rowGroupSize = max(1, options.rowGroupSize)
        let groupCount = table.rowCount == 0 ? 1 : (table.rowCount + rowGroupSize - 1) / rowGroupSize
        let columns = table.columns
        let chunks = try Parallel.map(groupCount * columns.count) { task -> EncodedChunk in
            let group = task / columns.count
            let rows = (group * rowGroupSize)..<min(table.rowCount, (group + 1) * rowGroupSize)
            return try ChunkEncoder(column: columns[task % columns.count], rows: rows, options: options).encode()
        }

        var meta = FileMeta()
        meta.schema = [SchemaElement(name: "schema", numChildren: Int32(columns.count))]
        for column in columns { meta.schema += LeafSchema(type: column.type).schemaElements(name: column.name) }
        meta.numRows = Int64(table.rowCount)
        meta.keyValues = table.metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        meta.createdBy = createdBy
        meta.typeDefinedOrderCount = columns.count

        try AtomicFile.write(to: path) { handle in
            var offset = 4
            try handle.write(contentsOf: Array("PAR1".utf8))
            for group in 0..<groupCount {
                var rowGroup = RowGroupMeta()
                rowGroup.fileOffset = Int64(offset)
                rowGroup.numRows = Int64(min(table.rowCount, (group + 1) * rowGroupSize) - group * rowGroupSize)
                var compressedTotal: Int64 = 0
                for column in 0..<columns.count {
                    let chunk = chunks[group * columns.count + column]
                    var chunkMeta = chunk.meta
                    chunkMeta.dataPageOffset += Int64(offset)
                    if let dictionary = chunkMeta.dictionaryPageOffset { chunkMeta.dictionaryPageOffset = dictionary + Int64(offset) }
                    try handle.write(contentsOf: chunk.bytes)
                    offset += chunk.bytes.count
                    rowGroup.columns.append(chunkMeta)
                    rowGroup.totalByteSize += chunkMeta.totalUncompressedSize
                    compressedTotal += chunkMeta.totalCompressedSize
                }
                rowGroup.totalCompressedSize = compressedTotal
                meta.rowGroups.append(rowGroup)
            }
            let footer = meta.encode()
            try handle.write(contentsOf: footer)
            let length = UInt32(footer.count)
            try handle.write(contentsOf: [UInt8(length & 0xFF), UInt8((length >> 8) & 0xFF), UInt8((length >> 16) & 0xFF), UInt8(length >> 24)])
            try handle.write(contentsOf: Array("PAR1".utf8))
        }
    }
}

struct EncodedChunk: Sendable {
    /// Page headers and pages; offsets in `meta` are relative to the chunk start until placed.
    var bytes: [UInt8]
    var meta: ColumnChunkMeta
}

/// Encodes one column chunk: levels, dictionary or PLAIN values, pages, statistics.
struct ChunkEncoder {
    let column: Column
    let rows: Range<Int>
    let options: ParquetWriteOptions
    let leaf: LeafSchema

    init(column: Column, rows: Range<Int>, options: ParquetWriteOptions) {
        self.column = column
        self.rows = rows
        self.options = options
        self.leaf = LeafSchema(type: column.type)
    }

    func encode() throws -> EncodedChunk {
        let dense = denseValues()
        var output: [UInt8] = []
        var meta = ColumnChunkMeta()
        meta.type = leaf.physicalType.rawValue
        meta.path = leaf.path(name: column.name)
        meta.codec = options.compression.rawValue
        var encodings: Set<Int32> = [Encoding.rle.rawValue]
        var uncompressedTotal = 0

        let dictionary = options.useDictionary && column.type.element != .bool && !options.plainColumns.contains(column.name) ? DictionaryEncoder.build(dense, byteLimit: options.dictionaryPageSizeLimit) : nil
        if let dictionary {
            let plain = PlainEncoder.encode(dictionary.values, range: 0..<dictionary.values.count)
            let compressed = try compress(plain)
            var header = PageHeader(type: PageType.dictionaryPage.rawValue)
            header.uncompressedSize = try int32(plain.count)
            header.compressedSize = try int32(compressed.count)
            header.numValues = try int32(dictionary.values.count)
            header.encoding = Encoding.plain.rawValue
            let headerBytes = header.encode()
            meta.dictionaryPageOffset = 0
            output += headerBytes
            output += compressed
            uncompressedTotal += headerBytes.count + plain.count
            encodings.insert(Encoding.plain.rawValue)
            encodings.insert(Encoding.rleDictionary.rawValue)
        } else {
            encodings.insert(Encoding.plain.rawValue)
        }
        meta.dataPageOffset = Int64(output.count)

        var totalLevels = 0
        var nullCount = 0
        var denseStart = 0
        for pageRows in pageRanges() {
            let levels = Levels(column: column, rows: pageRows)
            let present = levels.presentCount(maxDefinition: leaf.maxDefinition)
            let denseRange = denseStart..<(denseStart + present)
            denseStart += present
            totalLevels += levels.count
            nullCount += levels.count - present

            var valueBytes: [UInt8]
            let encoding: Encoding
            if let dictionary {
                valueBytes = []
                let width = RLEHybrid.bitWidth(dictionary.values.count - 1)
                valueBytes.append(UInt8(width))
                dictionary.indices[denseRange].withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: width, into: &valueBytes) }
                encoding = .rleDictionary
            } else {
                valueBytes = PlainEncoder.encode(dense, range: denseRange)
                encoding = .plain
            }
            let repetition = levels.encodeRepetition(maxRepetition: leaf.maxRepetition)
            let definition = levels.encodeDefinition(maxDefinition: leaf.maxDefinition)

            var header: PageHeader
            let page: [UInt8]
            let uncompressedSize: Int
            if options.dataPageVersion == 1 {
                header = PageHeader(type: PageType.dataPage.rawValue)
                var body: [UInt8] = []
                body.reserveCapacity(repetition.count + definition.count + valueBytes.count + 8)
                for levelBytes in [repetition, definition] where !levelBytes.isEmpty {
                    let length = UInt32(levelBytes.count)
                    body += [UInt8(length & 0xFF), UInt8((length >> 8) & 0xFF), UInt8((length >> 16) & 0xFF), UInt8(length >> 24)]
                    body += levelBytes
                }
                body += valueBytes
                page = try compress(body)
                uncompressedSize = body.count
            } else {
                header = PageHeader(type: PageType.dataPageV2.rawValue)
                header.numNulls = try int32(levels.count - present)
                header.numRows = try int32(pageRows.count)
                header.repetitionLevelsByteLength = try int32(repetition.count)
                header.definitionLevelsByteLength = try int32(definition.count)
                header.isCompressed = options.compression != .none
                page = repetition + definition + (try compress(valueBytes))
                uncompressedSize = repetition.count + definition.count + valueBytes.count
            }
            header.numValues = try int32(levels.count)
            header.encoding = encoding.rawValue
            header.uncompressedSize = try int32(uncompressedSize)
            header.compressedSize = try int32(page.count)
            let headerBytes = header.encode()
            output += headerBytes
            output += page
            uncompressedTotal += headerBytes.count + uncompressedSize
        }
        meta.encodings = encodings.sorted()
        meta.numValues = Int64(totalLevels)
        meta.totalUncompressedSize = Int64(uncompressedTotal)
        meta.totalCompressedSize = Int64(output.count)
        var statistics = Statistics(nullCount: Int64(nullCount))
        // A dictionary holds exactly the distinct values, so its min/max are the chunk's.
        if let (minimum, maximum) = StatisticsBuilder.minMax(dictionary?.values ?? dense) {
            statistics.minValue = minimum
            statistics.maxValue = maximum
        }
        meta.statistics = statistics
        return EncodedChunk(bytes: output, meta: meta)
    }

    private func int32(_ value: Int) throws -> Int32 {
        guard let narrow = Int32(exactly: value) else { throw TableError("column \(column.name): a page of \(value) bytes or values exceeds Parquet's 2 GiB limit") }
        return narrow
    }

    private func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        switch options.compression {
        case .zstd: return try bytes.withUnsafeBytes { try Codec.zstdCompress($0, level: options.compressionLevel) }
        case .snappy: return try bytes.withUnsafeBytes { try Codec.snappyCompress($0) }
        default: return bytes
        }
    }

    /// Row ranges of at most `dataPageSize` estimated uncompressed bytes each.
    private func pageRanges() -> [Range<Int>] {
        guard !rows.isEmpty else { return [rows] }
        let leafRange = leafRange(for: rows)
        let itemSize = column.type.element == .string ? 8 : 4
        let bytes = max(1, leafRange.count * itemSize + rows.count)
        let rowsPerPage = max(1, Int(Double(rows.count) * Double(max(1, options.dataPageSize)) / Double(bytes)))
        return stride(from: rows.lowerBound, to: rows.upperBound, by: rowsPerPage).map { $0..<min(rows.upperBound, $0 + rowsPerPage) }
    }

    private func leafRange(for rows: Range<Int>) -> Range<Int> {
        var range = rows
        for offsets in column.listOffsets { range = offsets[range.lowerBound]..<offsets[range.upperBound] }
        return range
    }

    /// The chunk's non-null leaf values, in order, as one dense buffer.
    private func denseValues() -> ColumnValues {
        let range = leafRange(for: rows)
        let keep: [Bool]? = column.listOffsets.isEmpty ? column.validity.map { Array($0[range]) } : nil
        func gather<T>(_ v: [T]) -> [T] {
            guard let keep else { return Array(v[range]) }
            var result: [T] = []
            result.reserveCapacity(range.count)
            for (i, index) in range.enumerated() where keep[i] { result.append(v[index]) }
            return result
        }
        switch column.values {
        case .bool(let v): return .bool(gather(v))
        case .int32(let v): return .int32(gather(v))
        case .int64(let v): return .int64(gather(v))
        case .float32(let v): return .float32(gather(v))
        case .float64(let v): return .float64(gather(v))
        case .string(let bytes, let offsets):
            var outBytes: [UInt8] = []
            var outOffsets = [0]
            for (i, index) in range.enumerated() where keep?[i] ?? true {
                outBytes += bytes[offsets[index]..<offsets[index + 1]]
                outOffsets.append(outBytes.count)
            }
            return .string(bytes: outBytes, offsets: outOffsets)
        }
    }
}

/// Repetition and definition levels of a run of rows, computed from the column's offsets and
/// validity (see `LeafSchema` for the level numbering).
struct Levels {
    var definition: [UInt8] = []
    var repetition: [UInt8] = []
    var count: Int { definition.count }

    init(column: Column, rows: Range<Int>) {
        let depth = column.listOffsets.count
        let validity = column.validity
        if depth == 0 {
            definition = validity.map { v in rows.map { v[$0] ? 1 : 0 } } ?? [UInt8](repeating: 1, count: rows.count)
            return
        }
        let outer = column.listOffsets[0]
        let expected = (depth == 1 ? outer[rows.upperBound] - outer[rows.lowerBound] : column.listOffsets[1][outer[rows.upperBound]] - column.listOffsets[1][outer[rows.lowerBound]]) + rows.count
        definition.reserveCapacity(expected)
        repetition.reserveCapacity(expected)
        for row in rows {
            if let validity, !validity[row] {
                definition.append(0); repetition.append(0)
                continue
            }
            let items = outer[row]..<outer[row + 1]
            if items.isEmpty {
                definition.append(1); repetition.append(0)
                continue
            }
            if depth == 1 {
                definition.append(contentsOf: repeatElement(3, count: items.count))
                repetition.append(0)
                repetition.append(contentsOf: repeatElement(1, count: items.count - 1))
                continue
            }
            let inner = column.listOffsets[1]
            for item in items {
                let itemRepetition: UInt8 = item == items.lowerBound ? 0 : 1
                let leaves = inner[item]..<inner[item + 1]
                if leaves.isEmpty {
                    definition.append(3); repetition.append(itemRepetition)
                    continue
                }
                definition.append(contentsOf: repeatElement(5, count: leaves.count))
                repetition.append(itemRepetition)
                repetition.append(contentsOf: repeatElement(2, count: leaves.count - 1))
            }
        }
    }

    func presentCount(maxDefinition: Int) -> Int {
        let top = UInt8(maxDefinition)
        return definition.withUnsafeBufferPointer { $0.reduce(0) { $0 + ($1 == top ? 1 : 0) } }
    }

    func encodeDefinition(maxDefinition: Int) -> [UInt8] {
        var output: [UInt8] = []
        definition.withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: RLEHybrid.bitWidth(maxDefinition), into: &output) }
        return output
    }

    func encodeRepetition(maxRepetition: Int) -> [UInt8] {
        guard maxRepetition > 0 else { return [] }
        var output: [UInt8] = []
        repetition.withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: RLEHybrid.bitWidth(maxRepetition), into: &output) }
        return output
    }
}
