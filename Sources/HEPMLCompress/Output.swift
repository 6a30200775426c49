import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLROOT

extension ObjectData {
    /// One row per event: each variable in its stored type (a list column when jagged) and the
    /// kept columns.
    public func table() throws -> Table {
        let levels = eventOffsets.map { [$0] } ?? []
        var columns = try variables.map { variable -> Column in
            let values: HEPMLColumnar.ColumnValues
            switch variable.type {
            case .float32: values = .float32(variable.values.map { Float($0) })
            case .float64: values = .float64(variable.values)
            case .int32: values = .int32(variable.values.map { Int32(variable.type.representable($0)) })
            case .int64: values = .int64(variable.values.map { Int64(variable.type.representable($0)) })
            }
            return try Column(name: variable.name, values: values, listOffsets: levels)
        }
        columns += kept
        return try Table(columns: columns)
    }

    /// A ROOT file with one tree: the variables under their names and stored types, jagged ones
    /// sharing the counter branch `counterName` (`nJet`), and the kept columns; baskets compressed
    /// with `compression` (zlib level 1 unless asked otherwise).
    public func writeROOT(to path: String, tree: String, compression: ROOTWriter.Compression = .zlib(level: 1)) throws {
        let writer = ROOTWriter(path: path, compression: compression)
        try writer.writeTree(table: try table(), to: tree, sharedCounter: counterName ?? "nObject")
        try writer.close()
    }

    /// Writes `.root` (tree `tree`) or a table format by the extension of `path`. Parquet stores
    /// the floating-point variables PLAIN: decoded by a network, they are nearly all distinct, so
    /// a dictionary would not be kept.
    public func write(to path: String, tree: String, compression: ROOTWriter.Compression = .zlib(level: 1)) throws {
        if path.lowercased().hasSuffix(".root") {
            try writeROOT(to: path, tree: tree, compression: compression)
        } else if try TableFile.format(of: path) == .parquet {
            var options = ParquetWriteOptions()
            options.plainColumns = Set(variables.filter { $0.type == .float32 || $0.type == .float64 }.map(\.name))
            try Parquet.write(try table(), to: path, options: options)
        } else {
            try TableFile.write(try table(), to: path)
        }
    }
}

/// What `CompressedEventFile.decompress(_:to:tree:compression:)` did: the objects and events
/// written, and the seconds of decoding (open, latents, decoder, inverse normalization,
/// corrections) and of the whole call (with writing the output).
public struct DecompressionOutcome: Sendable {
    public var objects: Int
    public var events: Int
    public var decodeSeconds: Double
    public var totalSeconds: Double
}

extension CompressedEventFile {
    /// `hepml compress decompress`: decodes `file` and writes `.root` (tree `tree`, default the
    /// one recorded at compression; baskets with `compression`) or a table format by the extension
    /// of `output`.
    public static func decompress(_ file: String, to output: String, tree: String? = nil,
                                  compression: ROOTWriter.Compression = .zlib(level: 1)) throws -> DecompressionOutcome {
        let started = ResourceUsage.now()
        let compressed = try CompressedEventFile(path: file)
        let data = try compressed.decompress()
        let decoded = ResourceUsage.now()
        try data.write(to: output, tree: tree ?? compressed.header.tree, compression: compression)
        return DecompressionOutcome(objects: data.objectCount, events: data.eventCount, decodeSeconds: decoded - started,
                                    totalSeconds: ResourceUsage.now() - started)
    }
}

/// The honest size accounting of a compressed file (`hepml compress info`).
public struct CompressedFileSizes: Sendable {
    public var file: Int
    public var latents: Int
    public var corrections: Int
    public var kept: Int
    /// Footer: schema and row-group metadata, with the header, decoder weights and ONNX decoder.
    public var footer: Int
    public var headerJSON: Int
    public var decoderWeights: Int
    public var decoderONNX: Int
    public var originalRaw: Int
    public var originalStored: Int

    /// The model as stored: both forms of the decoder.
    public var model: Int { decoderWeights + decoderONNX }
    public var withoutModel: Int { file - model }

    public init(_ file: CompressedEventFile) throws {
        self.init(path: file.path, header: file.header, parquet: file.parquet)
    }

    /// From the header and the Parquet footer alone (what `compress compress` prints about the
    /// file it has just written, without reading it back).
    public init(path: String, header: CompressedHeader, parquet: ParquetFile) {
        self.file = ObjectSource.fileSize(path)
        func bytes(_ names: Set<String>) -> Int { parquet.columns.filter { names.contains($0.name) }.reduce(0) { $0 + $1.storedBytes } }
        latents = bytes(Set((0..<header.latentWidth).map(CompressedHeader.latentColumn)))
        corrections = bytes(Set(header.variables.indices.flatMap { [CompressedHeader.exactIndexColumn($0), CompressedHeader.exactValueColumn($0)] }))
        kept = bytes(Set(header.kept))
        footer = parquet.footerBytes
        headerJSON = parquet.metadata[CompressedHeader.headerKey]?.utf8.count ?? 0
        decoderWeights = parquet.metadata[CompressedHeader.weightsKey]?.utf8.count ?? 0
        decoderONNX = parquet.metadata[CompressedHeader.onnxKey]?.utf8.count ?? 0
        originalRaw = header.originalRawBytes
        originalStored = header.originalStoredBytes
    }
}
