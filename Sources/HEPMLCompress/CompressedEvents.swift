import Foundation
import HEPMLColumnar
import HEPMLCompression
import HEPMLCore
import HEPMLExperiment
import HEPMLNN
import HEPMLONNX
import HEPMLTensor

/// A per-variable error bound of the error-bounded mode: every decompressed value lies within
/// ε·|x| (relative) or ε (absolute) of the original x.
public struct ErrorBound: Codable, Equatable, Sendable {
    public var variable: String
    public var epsilon: Double
    public var relative: Bool

    public init(variable: String, epsilon: Double, relative: Bool) {
        self.variable = variable
        self.epsilon = epsilon
        self.relative = relative
    }

    /// `NAME=EPS` (relative for pT, E and m, absolute for the others, as the residuals are
    /// compared), `NAME=rel:EPS` or `NAME=abs:EPS`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else { throw ModelZooError("--max-error '\(text)': expected NAME=EPS, NAME=rel:EPS or NAME=abs:EPS") }
        var value = parts[1]
        var relative = VariableKind(parts[0]).comparesRelatively
        if value.hasPrefix("rel:") { relative = true; value.removeFirst(4) } else if value.hasPrefix("abs:") { relative = false; value.removeFirst(4) }
        guard let epsilon = Double(value), epsilon >= 0, epsilon.isFinite else { throw ModelZooError("--max-error '\(text)': ε must be a finite number ≥ 0") }
        self.init(variable: parts[0], epsilon: epsilon, relative: relative)
    }

    /// The largest allowed |decoded − x|.
    @inline(__always)
    public func allowed(_ x: Double) -> Double { relative ? epsilon * abs(x) : epsilon }

    public var text: String { "\(relative ? "relative" : "absolute") \(epsilon)" }
}

/// The self-describing compressed file, a Parquet file (docs/compress.md, "The compressed file"):
/// one row per event, so the event structure is the list structure of the latent columns;
/// `latent_<k>` (float32, or int32 codes), the kept columns under their own names, and per bounded
/// variable `exact_index_<v>`/`exact_value_<v>` (object index within the event, exact value in the stored type) for
/// the objects the decoder misses by more than the bound. The key-value metadata holds the header
/// (JSON), the decoder as safetensors (what HEPML runs) and as ONNX (what Python runs), base64.
public struct CompressedHeader: Codable, Equatable, Sendable {
    public struct VariableHeader: Codable, Equatable, Sendable {
        public var name: String
        public var type: StoredType
        public var transform: VariableTransform
        public var bound: ErrorBound?
        public var corrections: Int
    }

    public var format = CompressedHeader.formatName
    public var version = 1
    public var source: ObjectSource
    /// The tree a decompressed ROOT file gets.
    public var tree: String
    public var counterName: String?
    public var jagged: Bool
    public var events: Int
    public var objects: Int
    public var variables: [VariableHeader]
    public var normalization: NormalizationScheme
    public var latentWidth: Int
    public var encoding: LatentEncoding
    public var latentRanges: [[Double]]?
    public var model: String
    public var decoder: ModelSpec
    public var decoderWeightsCRC32: UInt32
    public var decoderONNXCRC32: UInt32
    public var kept: [String]
    /// The fraction of ε kept free: values are corrected when they miss by more than (1 − margin)·ε,
    /// which leaves room for decoders that round float32 differently (ONNX Runtime).
    public var boundMargin: Double
    public var originalRawBytes: Int
    public var originalStoredBytes: Int

    public static let formatName = "hepml-compressed-events"
    public static let headerKey = "hepml.compress.header"
    public static let weightsKey = "hepml.compress.decoder.safetensors"
    public static let onnxKey = "hepml.compress.decoder.onnx"

    /// The header as the file's metadata holds it (sorted keys, so equal headers give equal bytes).
    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// How compression and merging write the file: float32 latents are a network's outputs,
    /// nearly all distinct, so they are stored PLAIN without a dictionary attempt.
    var parquetOptions: ParquetWriteOptions {
        var options = ParquetWriteOptions()
        if encoding == .float32 { options.plainColumns = Set((0..<latentWidth).map(Self.latentColumn)) }
        return options
    }

    static func latentColumn(_ k: Int) -> String { "latent_\(k)" }
    static func exactIndexColumn(_ v: Int) -> String { "exact_index_\(v)" }
    static func exactValueColumn(_ v: Int) -> String { "exact_value_\(v)" }
}

public struct CompressionOptions: Sendable {
    public var encoding: LatentEncoding = .float32
    public var bounds: [ErrorBound] = []
    public var boundMargin = 0.01
    /// The tree name of decompressed ROOT files (the source's tree by default).
    public var tree: String?

    public init() {}
}

public struct CompressionResult: Sendable {
    public var header: CompressedHeader
    public var seconds: Double
    /// Decoded values per variable, as decompression gives them, when an error bound made the
    /// compressor decode (to find the values that need exact corrections); nil otherwise, since
    /// decoding costs as much as encoding and the file does not need it.
    public var decoded: ObjectData?
}

/// Decoding shared by compression (to find the values that need corrections) and decompression,
/// so both see the same numbers: fixed batches through the decoder, the inverse normalization
/// in Double, then the stored type's rounding.
struct VariableDecoder {
    static let batchSize = 65_536

    static func run(_ module: Module<Float>, inputs: [Float], width: Int, outputWidth: Int) throws -> [Float] {
        let rows = width == 0 ? 0 : inputs.count / width
        var output = [Float]()
        output.reserveCapacity(rows * outputWidth)
        module.setTraining(false)
        for start in stride(from: 0, to: rows, by: batchSize) {
            let count = min(batchSize, rows - start)
            let batch = try Tensor(shape: [count, width], scalars: Array(inputs[(start * width)..<((start + count) * width)]))
            let result = try module(Variable(batch)).value
            guard result.shape == [count, outputWidth] else {
                throw ShapeError(operation: "decode", "gives \(result.shape) for \(count) latents, not [\(count), \(outputWidth)]", shapes: [result.shape])
            }
            output += result.scalars
        }
        return output
    }

    /// Per variable, physical values from the normalized row-major output.
    static func physical(_ normalized: [Float], variables: [(type: StoredType, transform: VariableTransform)]) -> [[Double]] {
        let width = variables.count, rows = width == 0 ? 0 : normalized.count / width
        return variables.enumerated().map { column, variable in
            var values = [Double](repeating: 0, count: rows)
            normalized.withUnsafeBufferPointer { source in
                values.withUnsafeMutableBufferPointer { values in
                    guard let source = source.baseAddress, let values = values.baseAddress else { return }
                    // Elementwise (a power of ten per value for log transforms): split over cores.
                    Parallel.forEachChunk(rows, minimumChunk: 1 << 15) { range in
                        for row in range { values[row] = variable.type.representable(variable.transform.inverse(Double(source[row * width + column]))) }
                    }
                }
            }
            return values
        }
    }
}

/// A trained compression model ready to encode: its card (variables, normalization) and its
/// encoder block, checked against the variables to encode.
public struct ObjectEncoder {
    public let card: CompressionModelCard
    public let model: GraphModel<Float>
    public let latentWidth: Int
    let encoder: Module<Float>

    /// Loads the model of `run`; `variables` that are not the ones it was trained on are an error naming `file`.
    public init(run: RunDirectory, variables: [String], file: String) throws {
        card = try CompressionModelCard.load(from: run)
        guard variables == card.variables.map(\.name) else {
            throw NormalizationError(file: file, variable: variables.joined(separator: ","),
                                     reason: "are not the variables the model was trained on (\(card.variables.map(\.name).joined(separator: ",")))")
        }
        model = try run.loadModel()
        guard let encoder = model.block(named: "encoder") else { throw ModelZooError("\(run.path): the model has no encoder block") }
        self.encoder = encoder
        latentWidth = model.summary.shapes["encoder"]?.first ?? 0
    }

    /// Row-major latents (`latentWidth` per object): the card's normalization, then the encoder in eval mode.
    public func latents(of data: ObjectData, file: String) throws -> [Float] {
        let normalized = try card.normalization.normalized(data, file: file)
        return try VariableDecoder.run(encoder, inputs: normalized, width: data.variables.count, outputWidth: latentWidth)
    }
}

public enum EventCompressor {
    /// Compresses `reading` with the model in `run` into the Parquet file `path` (atomically).
    public static func compress(_ reading: ObjectSource.Reading, source: ObjectSource, model run: RunDirectory, to path: String,
                                options: CompressionOptions = CompressionOptions()) throws -> CompressionResult {
        let started = Date()
        let data = reading.data
        let objectEncoder = try ObjectEncoder(run: run, variables: data.variableNames, file: source.path)
        for bound in options.bounds where !data.variableNames.contains(bound.variable) {
            throw NormalizationError(file: source.path, variable: bound.variable, reason: "has a --max-error bound but is not compressed (\(data.variableNames.joined(separator: ", ")))")
        }
        let card = objectEncoder.card, model = objectEncoder.model, latentWidth = objectEncoder.latentWidth
        let width = data.variables.count
        let latents = try objectEncoder.latents(of: data, file: source.path)

        let ranges = options.encoding.ranges(of: latents, width: latentWidth)
        let codes = options.encoding.codes(latents, width: latentWidth, ranges: ranges)
        let stored = try options.encoding == .float32 ? latents : options.encoding.values(codes: codes, width: latentWidth, ranges: ranges, file: path)

        // The decoder as the file carries it, run exactly as decompression runs it.
        let decoderSpec = try ModelZoo.decoderSpec(of: model.spec)
        let decoderWeights = model.stateDictionary().filter { $0.0.hasPrefix("decoder.") }
        let weightBytes = try SafeTensors.encode(decoderWeights, metadata: ["producer": "hepml", "model": model.spec.name])
        let decoder = try CompressedEventFile.decoderModel(spec: decoderSpec, weights: weightBytes, file: path)
        let onnx = try ONNXExporter.export(decoder, inputNames: ["latent"], outputNames: ["decoded"], name: "decoder",
                                           documentation: "HEPML event compression decoder: latent → normalized variables").serialized()
        var decodedValues: [[Double]] = []
        if !options.bounds.isEmpty {
            let normalizedOutput = try VariableDecoder.run(decoder, inputs: stored, width: latentWidth, outputWidth: width)
            decodedValues = VariableDecoder.physical(normalizedOutput, variables: zip(data.variables, card.normalization.transforms).map { (type: $0.type, transform: $1) })
        }

        // Corrections: the exact value of every object the decoder misses by more than the bound.
        let offsets = data.eventOffsets ?? Array(0...data.objectCount)
        let eventOf = data.eventOfObject
        var columns: [Column] = []
        for k in 0..<latentWidth {
            let name = CompressedHeader.latentColumn(k)
            let levels = data.eventOffsets.map { [$0] } ?? []
            if options.encoding == .float32 {
                columns.append(try Column(name: name, values: .float32(stride(from: k, to: latents.count, by: latentWidth).map { latents[$0] }), listOffsets: levels))
            } else {
                columns.append(try Column(name: name, values: .int32(stride(from: k, to: codes.count, by: latentWidth).map { codes[$0] }), listOffsets: levels))
            }
        }
        var headers: [CompressedHeader.VariableHeader] = []
        for (v, variable) in data.variables.enumerated() {
            let bound = options.bounds.last { $0.variable == variable.name }
            var corrected = 0
            if let bound {
                var indices: [Int32] = [], values: [Double] = [], listOffsets = [0]
                var event = 0
                for object in 0..<data.objectCount {
                    while event < eventOf[object] { listOffsets.append(indices.count); event += 1 }
                    let x = variable.values[object]
                    if abs(decodedValues[v][object] - x) > bound.allowed(x) * (1 - options.boundMargin) {
                        indices.append(Int32(object - offsets[eventOf[object]]))
                        values.append(x)
                        decodedValues[v][object] = x
                    }
                }
                while listOffsets.count < data.eventCount + 1 { listOffsets.append(indices.count) }
                corrected = indices.count
                columns.append(try Column(name: CompressedHeader.exactIndexColumn(v), values: .int32(indices), listOffsets: [listOffsets]))
                let exact: ColumnValues
                switch variable.type {
                case .float32: exact = .float32(values.map { Float($0) })
                case .float64: exact = .float64(values)
                case .int32: exact = .int32(values.map { Int32($0) })
                case .int64: exact = .int64(values.map { Int64($0) })
                }
                columns.append(try Column(name: CompressedHeader.exactValueColumn(v), values: exact, listOffsets: [listOffsets]))
            }
            headers.append(.init(name: variable.name, type: variable.type, transform: card.normalization.transforms[v], bound: bound, corrections: corrected))
        }
        let reserved = Set(columns.map(\.name))
        for column in data.kept {
            guard !reserved.contains(column.name) else { throw NormalizationError(file: source.path, variable: column.name, reason: "clashes with a column of the compressed file") }
            columns.append(column)
        }
        let raw = data.variables.reduce(0) { $0 + $1.type.byteCount * $1.values.count } + (data.eventOffsets == nil ? 0 : 4 * data.eventCount)
        let header = CompressedHeader(source: source, tree: options.tree ?? source.tree ?? "events", counterName: data.counterName,
                                      jagged: data.eventOffsets != nil, events: data.eventCount, objects: data.objectCount, variables: headers,
                                      normalization: card.normalization.scheme, latentWidth: latentWidth, encoding: options.encoding,
                                      latentRanges: ranges, model: model.spec.name, decoder: decoderSpec,
                                      decoderWeightsCRC32: weightBytes.withUnsafeBytes { Codec.crc32($0) },
                                      decoderONNXCRC32: onnx.withUnsafeBytes { Codec.crc32($0) }, kept: data.kept.map(\.name),
                                      boundMargin: options.boundMargin, originalRawBytes: raw, originalStoredBytes: reading.storedBytes)
        let metadata = [CompressedHeader.headerKey: try header.json(),
                        CompressedHeader.weightsKey: Data(weightBytes).base64EncodedString(),
                        CompressedHeader.onnxKey: Data(onnx).base64EncodedString()]
        try Parquet.write(try Table(columns: columns, metadata: metadata), to: path, options: header.parquetOptions)
        var decoded: ObjectData?
        if !decodedValues.isEmpty {
            var values = data
            for v in values.variables.indices { values.variables[v].values = decodedValues[v] }
            decoded = values
        }
        return CompressionResult(header: header, seconds: Date().timeIntervalSince(started), decoded: decoded)
    }
}

/// A compressed file opened for decompression: header checked, decoder rebuilt and verified.
public struct CompressedEventFile {
    public let path: String
    public let header: CompressedHeader
    public let table: Table
    public let decoder: GraphModel<Float>
    public let parquet: ParquetFile

    public init(path: String) throws {
        self.path = path
        parquet = try ParquetFile(path: path)
        func fail(_ reason: String) -> CompressedFileError { CompressedFileError(file: path, reason: reason) }
        guard let json = parquet.metadata[CompressedHeader.headerKey] else {
            throw fail("not a HEPML compressed event file (no \(CompressedHeader.headerKey) metadata)")
        }
        do { header = try JSONDecoder().decode(CompressedHeader.self, from: Data(json.utf8)) } catch {
            throw fail("the header is damaged: \(error)")
        }
        guard header.format == CompressedHeader.formatName, header.version == 1 else {
            throw fail("format \(header.format) version \(header.version) is not \(CompressedHeader.formatName) version 1")
        }
        guard let encoded = parquet.metadata[CompressedHeader.weightsKey], let weights = Data(base64Encoded: encoded).map({ [UInt8]($0) }) else {
            throw fail("the decoder weights are missing or not base64")
        }
        guard weights.withUnsafeBytes({ Codec.crc32($0) }) == header.decoderWeightsCRC32 else {
            throw fail("the decoder weights are damaged (CRC-32 differs from the header's)")
        }
        decoder = try Self.decoderModel(spec: header.decoder, weights: weights, file: path)
        let summary = decoder.summary
        guard header.decoder.inputs.first?.shape == [header.latentWidth], summary.shapes["decoder"] == [header.variables.count] else {
            throw fail("the decoder maps \(header.decoder.inputs.first?.shape ?? []) to \(summary.shapes["decoder"] ?? []), not \(header.latentWidth) latents to \(header.variables.count) variables")
        }
        table = try parquet.read()
        guard table.rowCount == header.events else { throw fail("holds \(table.rowCount) events, the header says \(header.events)") }
    }

    /// The decoder from its description and safetensors bytes; weights that do not fit the
    /// description are an error naming `file`.
    static func decoderModel(spec: ModelSpec, weights: [UInt8], file: String) throws -> GraphModel<Float> {
        let model: GraphModel<Float> = try spec.build(seed: 0)
        let tensors = try SafeTensors.decode(weights, file: "\(file) decoder weights", as: Float.self).tensors
        do { try model.loadStateDictionary(tensors) } catch {
            throw CompressedFileError(file: file, reason: "the decoder weights do not fit the decoder description \(spec.name): \(error)")
        }
        model.setTraining(false)
        return model
    }

    /// The event structure: per-event offsets of the latent lists (nil for flat data).
    func eventOffsets() throws -> [Int]? {
        guard header.jagged else { return nil }
        let column = try table.column(CompressedHeader.latentColumn(0))
        guard let offsets = column.listOffsets.first, column.listOffsets.count == 1, offsets.last == header.objects else {
            throw CompressedFileError(file: path, reason: "the latent lists do not hold the header's \(header.objects) objects")
        }
        return offsets
    }

    /// Decodes every object and applies the exact corrections.
    public func decompress() throws -> ObjectData {
        func fail(_ reason: String) -> CompressedFileError { CompressedFileError(file: path, reason: reason) }
        let width = header.latentWidth, objects = header.objects
        let offsets = try eventOffsets()
        var latents = [Float](repeating: 0, count: objects * width)
        var codes = [Int32](repeating: 0, count: header.encoding == .float32 ? 0 : objects * width)
        for k in 0..<width {
            let column = try table.column(CompressedHeader.latentColumn(k))
            guard column.listOffsets.first == offsets, column.values.count == objects else {
                throw fail("latent column \(k) does not have the structure of latent column 0")
            }
            switch (header.encoding, column.values) {
            case (.float32, .float32(let values)): for (i, value) in values.enumerated() { latents[i * width + k] = value }
            case (.float32, _): throw fail("latent column \(k) is \(column.type), float32 latents expected")
            case (_, .int32(let values)): for (i, value) in values.enumerated() { codes[i * width + k] = value }
            default: throw fail("latent column \(k) is \(column.type), int32 codes expected")
            }
        }
        if header.encoding != .float32 { latents = try header.encoding.values(codes: codes, width: width, ranges: header.latentRanges, file: path) }
        let normalized = try VariableDecoder.run(decoder, inputs: latents, width: width, outputWidth: header.variables.count)
        var values = VariableDecoder.physical(normalized, variables: header.variables.map { (type: $0.type, transform: $0.transform) })
        let eventStarts = offsets ?? Array(0...objects)
        for (v, variable) in header.variables.enumerated() where variable.bound != nil {
            let indexColumn = try table.column(CompressedHeader.exactIndexColumn(v)), valueColumn = try table.column(CompressedHeader.exactValueColumn(v))
            guard case .int32(let indices) = indexColumn.values, let exact = valueColumn.values.doubles, valueColumn.values.scalarType.rawValue == variable.type.rawValue,
                  let listOffsets = indexColumn.listOffsets.first, valueColumn.listOffsets.first == listOffsets,
                  listOffsets.count == eventStarts.count, indices.count == exact.count else {
                throw fail("the corrections of \(variable.name) are damaged")
            }
            for event in 0..<(listOffsets.count - 1) {
                let first = eventStarts[event], count = eventStarts[event + 1] - first
                for item in listOffsets[event]..<listOffsets[event + 1] {
                    let index = Int(indices[item])
                    guard index >= 0, index < count else { throw fail("correction \(item) of \(variable.name) points at object \(index) of event \(event), which has \(count)") }
                    values[v][first + index] = exact[item]
                }
            }
        }
        let kept = try header.kept.map { try table.column($0) }
        return ObjectData(variables: zip(header.variables, values).map { ObjectVariable(name: $0.name, type: $0.type, values: $1) },
                          eventOffsets: offsets, counterName: header.counterName, kept: kept)
    }
}

extension ColumnValues {
    /// Numeric leaf values as Double (exact for every stored type here); nil for bools and strings.
    var doubles: [Double]? {
        switch self {
        case .float32(let v): return v.map(Double.init)
        case .float64(let v): return v
        case .int32(let v): return v.map(Double.init)
        case .int64(let v): return v.map(Double.init)
        case .bool, .string: return nil
        }
    }
}
