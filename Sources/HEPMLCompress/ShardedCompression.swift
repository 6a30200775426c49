import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLExperiment

extension ObjectData {
    /// The events `range` alone: their objects, offsets rebased to 0, and their rows of the kept columns.
    public func events(_ range: Range<Int>) -> ObjectData {
        let objects = eventOffsets.map { $0[range.lowerBound]..<$0[range.upperBound] } ?? range
        return ObjectData(variables: variables.map { ObjectVariable(name: $0.name, type: $0.type, values: Array($0.values[objects])) },
                          eventOffsets: eventOffsets.map { offsets in offsets[range.lowerBound...range.upperBound].map { $0 - objects.lowerBound } },
                          counterName: counterName, kept: kept.map { $0.slice(range) })
    }
}

/// Sharded compression (`compress compress --shard K/N`) and its merge (`compress merge`): N
/// batch tasks each compress one contiguous block of the events, and the merge concatenates the
/// blocks into the file one unsharded compression writes. Every object is compressed on its own
/// (latents, corrections), so the blocks hold the unsharded values up to the float32 rounding of
/// the encoder's batched products; `bits:N` latents are refused (their grid comes from all
/// latents of the file).
public enum ShardedCompression {
    public static let shardWorkflow = "compress compress"

    /// `DIR/NAME.parquet` → `DIR/NAME.part-K-of-N.parquet`.
    public static func partPath(output: String, shard: Shard) -> String {
        shard.partName((output as NSString).deletingPathExtension) + ".parquet"
    }

    /// Compresses part `shard` of the events of `reading` into `partPath(output:shard:)` and writes
    /// its manifest beside it. The part's header counts its own events, objects and corrections,
    /// and the share of the source's stored bytes in proportion to its objects; the manifest keeps
    /// the source's total for the merge.
    public static func compressPart(_ reading: ObjectSource.Reading, shard: Shard, source: ObjectSource, model run: RunDirectory, output: String,
                                    options: CompressionOptions = CompressionOptions()) throws -> (result: CompressionResult, part: String) {
        if case .bits = options.encoding {
            throw ShardError("--latent \(options.encoding) quantizes on the range of all latents of the file, which no part sees; compress unsharded or use float32, float16 or bfloat16")
        }
        let events = shard.positions(among: reading.data.eventCount)
        let data = reading.data.events(events)
        let share = reading.data.objectCount == 0 ? 0 : Int((Double(reading.storedBytes) * Double(data.objectCount) / Double(reading.data.objectCount)).rounded())
        let part = partPath(output: output, shard: shard)
        let result = try EventCompressor.compress(ObjectSource.Reading(data: data, storedBytes: share), source: source, model: run, to: part, options: options)
        try ShardManifest(workflow: shardWorkflow, shard: shard, part: (part as NSString).lastPathComponent,
                          fingerprints: ["settings": ShardManifest.fingerprint(try wholeHeader(result.header).json().utf8),
                                         "source events": "\(reading.data.eventCount)"],
                          inputs: [source.path],
                          counts: ["first event": events.lowerBound, "events": data.eventCount, "objects": data.objectCount,
                                   "source stored bytes": reading.storedBytes])
            .write(to: ShardManifest.path(forPart: part))
        return (result, part)
    }

    /// The header without what differs from part to part (the counts): equal for the parts of one compression.
    static func wholeHeader(_ header: CompressedHeader) -> CompressedHeader {
        var whole = header
        whole.events = 0
        whole.objects = 0
        whole.originalRawBytes = 0
        whole.originalStoredBytes = 0
        for v in whole.variables.indices { whole.variables[v].corrections = 0 }
        return whole
    }

    /// Concatenates the parts (`NAME.part-K-of-N.parquet`, each with its manifest beside it) of one
    /// sharded compression into `output`, the file an unsharded compression writes: same columns,
    /// events, values and header. Refuses parts of different compressions and names missing or
    /// duplicated shards.
    public static func merge(parts: [String], output: String) throws -> CompressedHeader {
        let ordered = try ShardSet.manifests(ofParts: parts)
        if let other = ordered.first(where: { $0.manifest.workflow != shardWorkflow }) {
            throw ShardError("\(other.part) was written by `\(other.manifest.workflow)`, not `\(shardWorkflow)`")
        }
        let files = try ordered.map { try CompressedEventFile(path: $0.part) }
        var header = files[0].header
        let names = files[0].table.columnNames
        for (index, file) in files.enumerated() {
            guard file.table.columnNames == names else {
                throw ShardError("\(file.path) has columns \(file.table.columnNames), \(files[0].path) has \(names)")
            }
            guard ordered[index].manifest.counts["first event"] == files[..<index].reduce(0, { $0 + $1.header.events }) else {
                throw ShardError("\(file.path) does not start where the parts before it end")
            }
            if index > 0 {
                header.events += file.header.events
                header.objects += file.header.objects
                header.originalRawBytes += file.header.originalRawBytes
                for v in header.variables.indices { header.variables[v].corrections += file.header.variables[v].corrections }
            }
        }
        guard let sourceEvents = ordered[0].manifest.fingerprints["source events"], sourceEvents == "\(header.events)",
              let storedBytes = ordered[0].manifest.counts["source stored bytes"] else {
            throw ShardError("the parts hold \(header.events) events, not the \(ordered[0].manifest.fingerprints["source events"] ?? "?") of the source")
        }
        header.originalStoredBytes = storedBytes
        let columns = try names.map { name in try Column.concatenate(files.map { try $0.table.column(name) }) }
        var metadata = [CompressedHeader.headerKey: try header.json()]
        for key in [CompressedHeader.weightsKey, CompressedHeader.onnxKey] { metadata[key] = files[0].parquet.metadata[key] }
        try Parquet.write(try Table(columns: columns, metadata: metadata), to: output, options: header.parquetOptions)
        return header
    }
}
