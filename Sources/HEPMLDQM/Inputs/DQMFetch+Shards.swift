import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLExperiment

/// Sharded fetch (`dqm fetch --shard K/N`) and `dqm merge`: N batch tasks each fetch one part of
/// the runs, and the merge rebuilds exactly the table one unsharded fetch writes.
extension DQMFetch {
    public static let shardWorkflow = "dqm fetch"

    /// What every part of one fetch must share: the contents and datasets JSON (by content), the
    /// complete list of input files (tasks that saw different files split the runs differently)
    /// and the primary dataset of the table.
    static func partFingerprints(contents: Data, datasets: Data, files: [String], primaryDataset: String) -> [String: String] {
        [
            "contents JSON": ShardManifest.fingerprint(contents),
            "datasets JSON": ShardManifest.fingerprint(datasets),
            "input file list": ShardManifest.fingerprint(files.joined(separator: "\n").utf8),
            "primary dataset": primaryDataset,
        ]
    }

    /// The summary of a merge: the merged table and what the parts reported.
    public struct MergeSummary: Sendable {
        public var table: Table
        public var parts: Int
        public var skipped: [ShardManifest.Skipped]
        public var nulls: [ShardManifest.Null]
        /// Findings about the whole fetch (e.g. requested runs without a file), once each.
        public var notes: [String]
    }

    /// Combines the parts of one sharded fetch of one primary dataset (part Parquet files, each
    /// with its manifest beside it) into the table an unsharded fetch writes: rows ordered by
    /// year and run, and each histogram's binning fixed by the first run that has it, as in
    /// `outcome`. Refuses parts of different fetches and names missing or duplicated shards.
    public static func merge(parts: [String]) throws -> MergeSummary {
        let ordered = try ShardSet.manifests(ofParts: parts)
        if let other = ordered.first(where: { $0.manifest.workflow != shardWorkflow }) {
            throw ShardError("\(other.part) was written by `\(other.manifest.workflow)`, not `\(shardWorkflow)`")
        }
        let tables = try ordered.map { try Parquet.read(path: $0.part) }
        let names = tables[0].columnNames
        if let index = tables.firstIndex(where: { $0.columnNames != names }) {
            throw ShardError("\(ordered[index].part) has columns \(tables[index].columnNames), \(ordered[0].part) has \(names)")
        }

        // Every row as (part, row), in the unsharded order: the datasets-JSON year key, then the run.
        var rows: [(part: Int, row: Int, year: String, run: Int, label: Int64)] = []
        for (part, table) in tables.enumerated() {
            let runs = try DQMTable.runNumbers(table)
            let years = try table.column(DQMTable.yearColumn)
            let labels = try DQMTable.labels(table)
            for row in 0..<table.rowCount {
                guard let year = years.values.string(at: row) else {
                    throw FileFormatError(file: ordered[part].part, reason: "row \(row) has no year")
                }
                rows.append((part, row, year, runs[row], Int64(labels[row].rawValue)))
            }
        }
        rows.sort { ($0.year, $0.run) < ($1.year, $1.run) }
        for (earlier, later) in zip(rows, rows.dropFirst()) where earlier.year == later.year && earlier.run == later.run {
            throw ShardError("run \(later.run) (\(later.year)) is in both \(ordered[earlier.part].part) and \(ordered[later.part].part)")
        }

        var nulls = ordered.flatMap { $0.manifest.nulls }
        var columns: [Column] = []
        for name in names {
            switch name {
            case DQMTable.runColumn: columns.append(try Column(name: name, int64: rows.map { Int64($0.run) }))
            case DQMTable.yearColumn: columns.append(try Column(name: name, strings: rows.map(\.year)))
            case DQMTable.labelColumn: columns.append(try Column(name: name, int64: rows.map(\.label)))
            default:
                let merged = try mergeHistogramColumn(name, parts: ordered, tables: tables, rows: rows.map { (part: $0.part, row: $0.row, run: $0.run) })
                columns.append(merged.column)
                nulls += merged.binningNulls
            }
        }
        let notes = ordered.flatMap { $0.manifest.notes }.reduce(into: [String]()) { unique, note in
            if !unique.contains(note) { unique.append(note) }
        }
        return MergeSummary(table: try Table(columns: columns), parts: ordered.count, skipped: ordered.flatMap { $0.manifest.skipped },
                            nulls: nulls, notes: notes)
    }

    /// One histogram column of the merged table. A part whose runs have another binning than the
    /// first run of the whole data set gets nulls there, as the unsharded fetch would give; a part
    /// that itself nulled runs for their binning cannot be merged exactly (those runs may match
    /// the data set's binning), which is an error rather than a silently different table.
    private static func mergeHistogramColumn(_ name: String, parts: [(part: String, manifest: ShardManifest)], tables: [Table],
                                             rows: [(part: Int, row: Int, run: Int)]) throws -> (column: Column, binningNulls: [ShardManifest.Null]) {
        var blocks: [DQMTable.HistogramColumn?] = []
        var float64: [Bool] = []
        for (index, table) in tables.enumerated() {
            let column = try table.column(name)
            float64.append(column.float64Values != nil)
            guard column.nullCount < column.rowCount else { blocks.append(nil); continue }
            let block = try DQMTable.histogramColumn(column)
            guard block.contents.present.filter({ $0 }).count == column.rowCount - column.nullCount else {
                throw FileFormatError(file: parts[index].part, object: name, reason: "rows of different binning in one part")
            }
            blocks.append(block)
        }
        let reference = rows.lazy.compactMap { row in blocks[row.part].flatMap { $0.contents.present[row.row] ? $0.shape : nil } }.first
        var binningNulls: [ShardManifest.Null] = []
        var contents: [[Double]?] = []
        contents.reserveCapacity(rows.count)
        for (part, row, run) in rows {
            guard let block = blocks[part], let values = block.contents.row(row) else { contents.append(nil); continue }
            guard block.shape == reference else {
                if parts[part].manifest.nulls.contains(where: { $0.column == name && $0.reason.hasPrefix("binning") }) {
                    throw ShardError("\(parts[part].part): its first run's binning of \(name) \(block.shape) differs from the data set's "
                        + "\(reference ?? []), and it dropped runs of other binnings; fetch this data set unsharded")
                }
                contents.append(nil)
                binningNulls.append(ShardManifest.Null(item: "run \(run)", column: name, reason: "binning \(block.shape) differs from \(reference ?? [])"))
                continue
            }
            contents.append(Array(values))
        }
        let double = blocks.indices.contains { blocks[$0]?.shape == reference && float64[$0] }
        let column = try DQMTable.listColumn(name: name, shape: reference ?? [0], runs: contents, float64: double)
        return (column, binningNulls)
    }

    /// Merges parts and writes the table to `output` (Parquet); skipped files, nulls and notes
    /// of the parts go to `warn`, once each.
    public static func mergeToParquet(parts: [String], output: String, log: (String) -> Void, warn: (String) -> Void) throws -> MergeSummary {
        let summary = try merge(parts: parts)
        for skipped in summary.skipped { warn("skipped \(skipped.path): \(skipped.reason)") }
        for null in summary.nulls { warn("\(null.item): \(null.column): \(null.reason); stored as null") }
        for note in summary.notes { warn(note) }
        try Parquet.write(summary.table, to: output)
        log("merged \(summary.parts) parts: \(summary.table.rowCount) runs, \(summary.skipped.count) files skipped → \(output)")
        return summary
    }
}

extension DQMFetch.Outcome {
    /// The manifest of this outcome written as part `part` of a sharded fetch.
    func manifest(shard: Shard, part: String, fingerprints: [String: String]) -> ShardManifest {
        var nulls: [ShardManifest.Null] = []
        for (run, problems) in incompleteRuns {
            for (column, reason) in problems { nulls.append(ShardManifest.Null(item: "run \(run)", column: column, reason: reason)) }
        }
        let notes = missingRuns.isEmpty ? [] : ["\(primaryDataset): no file for requested runs \(missingRuns.map(String.init).joined(separator: ", "))"]
        return ShardManifest(workflow: DQMFetch.shardWorkflow, shard: shard, part: (part as NSString).lastPathComponent, fingerprints: fingerprints,
                             inputs: files.map(\.path), skipped: skippedFiles.map { ShardManifest.Skipped(path: $0.path, reason: $0.reason) },
                             nulls: nulls, counts: ["runs read": runsRead, "files skipped": skippedFiles.count, "runs incomplete": incompleteRuns.count],
                             notes: notes)
    }
}
