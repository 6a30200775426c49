import HEPMLCore

/// Parquet physical types (parquet.thrift `Type`).
enum PhysicalType: Int32 {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7
}

enum Repetition: Int32 { case required = 0, optional = 1, repeated = 2 }

/// Parquet encodings (parquet.thrift `Encoding`).
enum Encoding: Int32 {
    case plain = 0, plainDictionary = 2, rle = 3, bitPacked = 4, deltaBinaryPacked = 5
    case deltaLengthByteArray = 6, deltaByteArray = 7, rleDictionary = 8, byteStreamSplit = 9

    /// The parquet.thrift spelling, used in messages and `table show`.
    var name: String {
        switch self {
        case .plain: return "PLAIN"
        case .plainDictionary: return "PLAIN_DICTIONARY"
        case .rle: return "RLE"
        case .bitPacked: return "BIT_PACKED"
        case .deltaBinaryPacked: return "DELTA_BINARY_PACKED"
        case .deltaLengthByteArray: return "DELTA_LENGTH_BYTE_ARRAY"
        case .deltaByteArray: return "DELTA_BYTE_ARRAY"
        case .rleDictionary: return "RLE_DICTIONARY"
        case .byteStreamSplit: return "BYTE_STREAM_SPLIT"
        }
    }
}

/// Column chunk compression (parquet.thrift `CompressionCodec`).
public enum ParquetCompression: Int32, Sendable, CaseIterable {
    case none = 0, snappy = 1, gzip = 2, lzo = 3, brotli = 4, lz4 = 5, zstd = 6, lz4Raw = 7

    public var name: String {
        switch self {
        case .none: return "none"
        case .snappy: return "snappy"
        case .gzip: return "gzip"
        case .lzo: return "lzo"
        case .brotli: return "brotli"
        case .lz4: return "lz4"
        case .zstd: return "zstd"
        case .lz4Raw: return "lz4_raw"
        }
    }
}

enum PageType: Int32 { case dataPage = 0, indexPage = 1, dictionaryPage = 2, dataPageV2 = 3 }

/// `ConvertedType` values this module reads or writes.
enum ConvertedType {
    static let utf8: Int32 = 0
    static let list: Int32 = 3
}

struct SchemaElement {
    var type: Int32?
    var repetition: Int32?
    var name = ""
    var numChildren: Int32?
    var convertedType: Int32?
    /// LogicalType union member id (1 STRING, 3 LIST, 10 INTEGER, ...), with INTEGER's width and sign.
    var logicalType: Int16?
    var integerBitWidth: Int8?
    var integerSigned: Bool?

    func encode(_ w: inout ThriftWriter) {
        if let type { w.field(1, i32: type) }
        if let repetition { w.field(3, i32: repetition) }
        w.field(4, string: name)
        if let numChildren { w.field(5, i32: numChildren) }
        if let convertedType { w.field(6, i32: convertedType) }
        if let logicalType { w.field(10) { union in union.field(logicalType) { _ in } } }
    }

    static func decode(_ t: inout ThriftReader) throws -> SchemaElement {
        var element = SchemaElement()
        try t.readStruct { t, id, type in
            switch id {
            case 1: element.type = try t.i32()
            case 3: element.repetition = try t.i32()
            case 4: element.name = try t.string()
            case 5: element.numChildren = try t.i32()
            case 6: element.convertedType = try t.i32()
            case 10:
                try t.readStruct { t, member, memberType in
                    element.logicalType = member
                    guard member == 10 else { try t.skip(memberType); return }
                    try t.readStruct { t, field, fieldType in
                        switch field {
                        case 1: element.integerBitWidth = Int8(truncatingIfNeeded: try t.zigzag())
                        case 2: element.integerSigned = t.bool(fieldType)
                        default: try t.skip(fieldType)
                        }
                    }
                }
            default: try t.skip(type)
            }
        }
        return element
    }
}

struct Statistics {
    var nullCount: Int64?
    var minValue: [UInt8]?
    var maxValue: [UInt8]?

    func encode(_ w: inout ThriftWriter) {
        if let nullCount { w.field(3, i64: nullCount) }
        if let maxValue { w.field(5, binary: maxValue) }
        if let minValue { w.field(6, binary: minValue) }
    }

    static func decode(_ t: inout ThriftReader) throws -> Statistics {
        var stats = Statistics()
        try t.readStruct { t, id, type in
            switch id {
            case 1: if stats.maxValue == nil { stats.maxValue = try t.binary() } else { try t.skip(type) }
            case 2: if stats.minValue == nil { stats.minValue = try t.binary() } else { try t.skip(type) }
            case 3: stats.nullCount = try t.zigzag()
            case 5: stats.maxValue = try t.binary()
            case 6: stats.minValue = try t.binary()
            default: try t.skip(type)
            }
        }
        return stats
    }
}

struct ColumnChunkMeta {
    var type: Int32 = 0
    var encodings: [Int32] = []
    var path: [String] = []
    var codec: Int32 = 0
    var numValues: Int64 = 0
    var totalUncompressedSize: Int64 = 0
    var totalCompressedSize: Int64 = 0
    var dataPageOffset: Int64 = 0
    var dictionaryPageOffset: Int64?
    var statistics: Statistics?

    func encode(_ w: inout ThriftWriter) {
        w.field(1, i32: type)
        w.field(2, i32List: encodings)
        w.field(3, stringList: path)
        w.field(4, i32: codec)
        w.field(5, i64: numValues)
        w.field(6, i64: totalUncompressedSize)
        w.field(7, i64: totalCompressedSize)
        w.field(9, i64: dataPageOffset)
        if let dictionaryPageOffset { w.field(11, i64: dictionaryPageOffset) }
        if let statistics { w.field(12) { statistics.encode(&$0) } }
    }

    static func decode(_ t: inout ThriftReader) throws -> ColumnChunkMeta {
        var meta = ColumnChunkMeta()
        try t.readStruct { t, id, type in
            switch id {
            case 1: meta.type = try t.i32()
            case 2:
                let (count, _) = try t.listHeader()
                for _ in 0..<count { meta.encodings.append(try t.i32()) }
            case 3:
                let (count, _) = try t.listHeader()
                for _ in 0..<count { meta.path.append(try t.string()) }
            case 4: meta.codec = try t.i32()
            case 5: meta.numValues = try t.zigzag()
            case 6: meta.totalUncompressedSize = try t.zigzag()
            case 7: meta.totalCompressedSize = try t.zigzag()
            case 9: meta.dataPageOffset = try t.zigzag()
            case 11: meta.dictionaryPageOffset = try t.zigzag()
            case 12: meta.statistics = try Statistics.decode(&t)
            default: try t.skip(type)
            }
        }
        return meta
    }
}

struct RowGroupMeta {
    var columns: [ColumnChunkMeta] = []
    var totalByteSize: Int64 = 0
    var numRows: Int64 = 0
    var fileOffset: Int64?
    var totalCompressedSize: Int64?

    func encode(_ w: inout ThriftWriter) {
        w.field(1, structList: columns) { w, column in
            w.field(2, i64: column.dictionaryPageOffset ?? column.dataPageOffset)
            w.field(3) { column.encode(&$0) }
        }
        w.field(2, i64: totalByteSize)
        w.field(3, i64: numRows)
        if let fileOffset { w.field(5, i64: fileOffset) }
        if let totalCompressedSize { w.field(6, i64: totalCompressedSize) }
    }

    static func decode(_ t: inout ThriftReader) throws -> RowGroupMeta {
        var group = RowGroupMeta()
        try t.readStruct { t, id, type in
            switch id {
            case 1:
                let (count, _) = try t.listHeader()
                for _ in 0..<count {
                    var meta: ColumnChunkMeta?
                    let start = t.reader.position
                    try t.readStruct { t, id, type in
                        switch id {
                        case 1: _ = try t.string()
                        case 3: meta = try ColumnChunkMeta.decode(&t)
                        default: try t.skip(type)
                        }
                    }
                    guard let meta else { throw t.reader.error("column chunk without metadata (external column files are not supported)", at: start) }
                    group.columns.append(meta)
                }
            case 2: group.totalByteSize = try t.zigzag()
            case 3: group.numRows = try t.zigzag()
            default: try t.skip(type)
            }
        }
        return group
    }
}

struct FileMeta {
    var version: Int32 = 2
    var schema: [SchemaElement] = []
    var numRows: Int64 = 0
    var rowGroups: [RowGroupMeta] = []
    var keyValues: [(String, String)] = []
    var createdBy: String?
    /// Number of leaf columns, each declared TYPE_DEFINED_ORDER so readers trust min_value/max_value.
    var typeDefinedOrderCount = 0

    func encode() -> [UInt8] {
        var w = ThriftWriter()
        w.beginStruct()
        w.field(1, i32: version)
        w.field(2, structList: schema) { w, element in element.encode(&w) }
        w.field(3, i64: numRows)
        w.field(4, structList: rowGroups) { w, group in group.encode(&w) }
        if !keyValues.isEmpty {
            w.field(5, structList: keyValues) { w, pair in
                w.field(1, string: pair.0)
                w.field(2, string: pair.1)
            }
        }
        if let createdBy { w.field(6, string: createdBy) }
        if typeDefinedOrderCount > 0 {
            w.field(7, structList: Array(repeating: 0, count: typeDefinedOrderCount)) { w, _ in w.field(1) { _ in } }
        }
        w.endStruct()
        return w.bytes
    }

    static func decode(_ t: inout ThriftReader) throws -> FileMeta {
        var meta = FileMeta()
        try t.readStruct { t, id, type in
            switch id {
            case 1: meta.version = try t.i32()
            case 2:
                let (count, _) = try t.listHeader()
                for _ in 0..<count { meta.schema.append(try SchemaElement.decode(&t)) }
            case 3: meta.numRows = try t.zigzag()
            case 4:
                let (count, _) = try t.listHeader()
                for _ in 0..<count { meta.rowGroups.append(try RowGroupMeta.decode(&t)) }
            case 5:
                let (count, _) = try t.listHeader()
                for _ in 0..<count {
                    var key = "", value = ""
                    try t.readStruct { t, id, type in
                        switch id {
                        case 1: key = try t.string()
                        case 2: value = try t.string()
                        default: try t.skip(type)
                        }
                    }
                    meta.keyValues.append((key, value))
                }
            case 6: meta.createdBy = try t.string()
            default: try t.skip(type)
            }
        }
        return meta
    }
}

struct PageHeader {
    var type: Int32 = 0
    var uncompressedSize: Int32 = 0
    var compressedSize: Int32 = 0
    /// Data page (v1 and v2) and dictionary page fields, flattened.
    var numValues: Int32 = 0
    var encoding: Int32 = 0
    var definitionLevelEncoding: Int32 = Encoding.rle.rawValue
    var repetitionLevelEncoding: Int32 = Encoding.rle.rawValue
    var numNulls: Int32 = 0
    var numRows: Int32 = 0
    var definitionLevelsByteLength: Int32 = 0
    var repetitionLevelsByteLength: Int32 = 0
    var isCompressed = true

    func encode() -> [UInt8] {
        var w = ThriftWriter()
        w.beginStruct()
        w.field(1, i32: type)
        w.field(2, i32: uncompressedSize)
        w.field(3, i32: compressedSize)
        switch PageType(rawValue: type) {
        case .dataPage:
            w.field(5) { w in
                w.field(1, i32: numValues)
                w.field(2, i32: encoding)
                w.field(3, i32: definitionLevelEncoding)
                w.field(4, i32: repetitionLevelEncoding)
            }
        case .dictionaryPage:
            w.field(7) { w in
                w.field(1, i32: numValues)
                w.field(2, i32: encoding)
            }
        case .dataPageV2:
            w.field(8) { w in
                w.field(1, i32: numValues)
                w.field(2, i32: numNulls)
                w.field(3, i32: numRows)
                w.field(4, i32: encoding)
                w.field(5, i32: definitionLevelsByteLength)
                w.field(6, i32: repetitionLevelsByteLength)
                w.field(7, bool: isCompressed)
            }
        default: break
        }
        w.endStruct()
        return w.bytes
    }

    static func decode(_ t: inout ThriftReader) throws -> PageHeader {
        var header = PageHeader()
        try t.readStruct { t, id, type in
            switch id {
            case 1: header.type = try t.i32()
            case 2: header.uncompressedSize = try t.i32()
            case 3: header.compressedSize = try t.i32()
            case 5:
                try t.readStruct { t, id, type in
                    switch id {
                    case 1: header.numValues = try t.i32()
                    case 2: header.encoding = try t.i32()
                    case 3: header.definitionLevelEncoding = try t.i32()
                    case 4: header.repetitionLevelEncoding = try t.i32()
                    default: try t.skip(type)
                    }
                }
            case 7:
                try t.readStruct { t, id, type in
                    switch id {
                    case 1: header.numValues = try t.i32()
                    case 2: header.encoding = try t.i32()
                    default: try t.skip(type)
                    }
                }
            case 8:
                try t.readStruct { t, id, type in
                    switch id {
                    case 1: header.numValues = try t.i32()
                    case 2: header.numNulls = try t.i32()
                    case 3: header.numRows = try t.i32()
                    case 4: header.encoding = try t.i32()
                    case 5: header.definitionLevelsByteLength = try t.i32()
                    case 6: header.repetitionLevelsByteLength = try t.i32()
                    case 7: header.isCompressed = t.bool(type)
                    default: try t.skip(type)
                    }
                }
            default: try t.skip(type)
            }
        }
        return header
    }
}
