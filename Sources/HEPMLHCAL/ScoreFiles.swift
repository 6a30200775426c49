import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLExperiment

extension HCALScorer {
    public struct ScoreSummary: Sendable {
        public var lumisections: Int
        public var flaggedLumisections: Int
        public var flaggedChannels: Int
    }

    /// Scores every LS of `dataset` in `range` (the test range by default), each as the last LS of
    /// the window of its T − 1 predecessors in the same run, and writes to `directory`:
    /// `scores.parquet` (run, ls, ieta, iphi, depth, score, flag; active channels),
    /// `lumisection_scores.parquet` (run, ls, num_events, max_score, flagged_channels) and
    /// `score_maps/Run<run>.npy` (float32 `[LS, 64, 72, depths]`).
    ///
    /// With a `shard` it scores only that part of the runs (a contiguous block of the data set's
    /// run order, a run never split) and writes `scores.part-K-of-N.parquet`,
    /// `lumisection_scores.part-K-of-N.parquet`, the part's score maps and the manifest
    /// `scores.part-K-of-N.manifest.json` instead, for `mergeScores`.
    public func scoreDataset(_ dataset: HCALDataset, range: HCALDataset.LumisectionRange? = nil, output directory: String,
                             shard: Shard? = nil, log: (String) -> Void = { _ in }) throws -> ScoreSummary {
        try requireTrainingScaling(of: dataset)
        let selection = range ?? dataset.description.testRange
        let steps = input.options.steps, channels = input.channels, depths = input.depths
        try FileManager.default.createDirectory(atPath: (directory as NSString).appendingPathComponent("score_maps"), withIntermediateDirectories: true)
        var channelColumns: (run: [Int32], ls: [Int32], ieta: [Int32], iphi: [Int32], depth: [Int32], score: [Float], flag: [Bool]) = ([], [], [], [], [], [], [])
        var lsColumns: (run: [Int64], ls: [Int64], events: [Int64], maximum: [Float], flagged: [Int64]) = ([], [], [], [], [])
        let activeChannels = (0..<channels).filter { input.mask.active[$0] }
        let allRuns = dataset.description.runs
        let runs = shard.map { shard in allRuns[shard.positions(among: allRuns.count)] } ?? allRuns[...]
        for run in runs {
            let data = try dataset.runData(run.run)
            let rows = dataset.rows(of: data, in: selection)
            guard !rows.isEmpty else { continue }
            var scaled = data.maps
            scaled.withUnsafeMutableBufferPointer { buffer in
                for row in 0..<data.lumisections.count { input.scale(UnsafeMutableBufferPointer(rebasing: buffer[(row * channels)..<((row + 1) * channels)])) }
            }
            // The window of a row: its predecessors in the run, the earliest repeated where there are fewer than T − 1.
            let windows = rows.map { row in (0..<steps).flatMap { step in
                let source = max(row - (steps - 1) + step, 0)
                return scaled[(source * channels)..<((source + 1) * channels)]
            } }
            let results = try scoreWindows(windows, run: run.run, lumisections: rows.map { data.lumisections[$0] })
            var maps = [Float](repeating: 0, count: results.count * channels)
            for (index, result) in results.enumerated() {
                maps.replaceSubrange((index * channels)..<((index + 1) * channels), with: result.scores)
                for channel in activeChannels {
                    let phi = (channel / depths) % HCALIndex.phiCount, eta = channel / (depths * HCALIndex.phiCount)
                    channelColumns.run.append(Int32(run.run)); channelColumns.ls.append(Int32(result.lumisection))
                    channelColumns.ieta.append(Int32(HCALIndex.ieta(ofIndex: eta))); channelColumns.iphi.append(Int32(phi + 1))
                    channelColumns.depth.append(Int32(channel % depths + 1))
                    channelColumns.score.append(result.scores[channel]); channelColumns.flag.append(result.flags[channel])
                }
                lsColumns.run.append(Int64(run.run)); lsColumns.ls.append(Int64(result.lumisection))
                lsColumns.events.append(Int64(data.numEvents[rows[index]])); lsColumns.maximum.append(result.maximumScore)
                lsColumns.flagged.append(Int64(result.flaggedCount))
            }
            try NPY.write(try NDArray(maps, shape: [results.count, HCALIndex.etaCount, HCALIndex.phiCount, depths]),
                          to: (directory as NSString).appendingPathComponent("score_maps/Run\(run.run).npy"))
            log("run \(run.run): \(results.count) LS scored, \(results.filter { $0.flaggedCount > 0 }.count) with flagged channels")
        }
        try TableFile.write(try Table(columns: [
            try Column(name: "run", int32: channelColumns.run), try Column(name: "ls", int32: channelColumns.ls),
            try Column(name: "ieta", int32: channelColumns.ieta), try Column(name: "iphi", int32: channelColumns.iphi),
            try Column(name: "depth", int32: channelColumns.depth), try Column(name: "score", float32: channelColumns.score),
            try Column(name: "flag", bool: channelColumns.flag),
        ]), to: (directory as NSString).appendingPathComponent(HCALScoreFiles.name(HCALScoreFiles.channelTable, shard: shard)))
        try TableFile.write(try Table(columns: [
            try Column(name: "run", int64: lsColumns.run), try Column(name: "ls", int64: lsColumns.ls), try Column(name: "num_events", int64: lsColumns.events),
            try Column(name: "max_score", float32: lsColumns.maximum), try Column(name: "flagged_channels", int64: lsColumns.flagged),
        ]), to: (directory as NSString).appendingPathComponent(HCALScoreFiles.name(HCALScoreFiles.lumisectionTable, shard: shard)))
        let summary = ScoreSummary(lumisections: lsColumns.ls.count, flaggedLumisections: lsColumns.flagged.filter { $0 > 0 }.count,
                                   flaggedChannels: Int(lsColumns.flagged.reduce(0, +)))
        if let shard {
            let part = HCALScoreFiles.name(HCALScoreFiles.channelTable, shard: shard)
            try ShardManifest(workflow: HCALScoreFiles.shardWorkflow, shard: shard, part: part,
                              fingerprints: try partFingerprints(dataset: dataset, selection: selection), inputs: runs.map(\.source),
                              counts: ["runs": runs.count, "lumisections scored": summary.lumisections, "flagged lumisections": summary.flaggedLumisections])
                .write(to: ShardManifest.path(forPart: (directory as NSString).appendingPathComponent(part)))
        }
        return summary
    }

    /// What every part of one scoring must share: the data set, the model and its scoring files,
    /// the score, the threshold and the LS range.
    private func partFingerprints(dataset: HCALDataset, selection: HCALDataset.LumisectionRange) throws -> [String: String] {
        func content(_ path: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: path) else { throw HCALError("cannot read \(path)") }
            return ShardManifest.fingerprint(data)
        }
        return [
            "data set": try content(HCALDataset.file("dataset.json", in: dataset.directory)),
            "model": try content(runDirectory.weightsFile) + content(runDirectory.file(HCALRunFiles.scoring)),
            "score": scoreKind.rawValue,
            "threshold": "\(threshold)",
            "LS range": "\(selection.first):\(selection.last)",
        ]
    }
}

/// The files of `hepml hcal score` and the merge of a sharded scoring (`hepml hcal merge`).
public enum HCALScoreFiles {
    public static let shardWorkflow = "hcal score"
    public static let channelTable = "scores"
    public static let lumisectionTable = "lumisection_scores"

    /// `scores.parquet`, or `scores.part-K-of-N.parquet` for a part.
    public static func name(_ table: String, shard: Shard?) -> String {
        (shard.map { $0.partName(table) } ?? table) + ".parquet"
    }

    /// Combines the parts of one sharded scoring (the `scores.part-K-of-N.parquet` files, each with
    /// its lumisection table and manifest beside it) into exactly the `scores.parquet` and
    /// `lumisection_scores.parquet` an unsharded scoring writes to `directory`, and copies the
    /// parts' score maps there when they lie elsewhere. Refuses parts of different scorings and
    /// names missing or duplicated shards.
    public static func mergeScores(parts: [String], output directory: String, log: (String) -> Void = { _ in }) throws -> HCALScorer.ScoreSummary {
        let ordered = try ShardSet.manifests(ofParts: parts)
        if let other = ordered.first(where: { $0.manifest.workflow != shardWorkflow }) {
            throw ShardError("\(other.part) was written by `\(other.manifest.workflow)`, not `\(shardWorkflow)`")
        }
        try FileManager.default.createDirectory(atPath: (directory as NSString).appendingPathComponent("score_maps"), withIntermediateDirectories: true)
        var channelTables: [Table] = [], lumisectionTables: [Table] = []
        for (part, manifest) in ordered {
            let partDirectory = (part as NSString).deletingLastPathComponent
            channelTables.append(try TableFile.read(path: part))
            let lumisections = try TableFile.read(path: (partDirectory as NSString).appendingPathComponent(name(lumisectionTable, shard: manifest.shard)))
            lumisectionTables.append(lumisections)
            guard URL(fileURLWithPath: partDirectory).standardizedFileURL != URL(fileURLWithPath: directory).standardizedFileURL,
                  case .int64(let runs)? = lumisections["run"]?.values else { continue }
            for run in Set(runs).sorted() {
                let map = "score_maps/Run\(run).npy"
                let target = (directory as NSString).appendingPathComponent(map)
                if FileManager.default.fileExists(atPath: target) { try FileManager.default.removeItem(atPath: target) }
                try FileManager.default.copyItem(atPath: (partDirectory as NSString).appendingPathComponent(map), toPath: target)
            }
        }
        func concatenated(_ tables: [Table], file: String) throws -> Table {
            let names = tables[0].columnNames
            if let index = tables.firstIndex(where: { $0.columnNames != names }) {
                throw ShardError("\(ordered[index].part): its \(file) has columns \(tables[index].columnNames), the first part's \(names)")
            }
            return try Table(columns: names.map { name in try Column.concatenate(tables.map { try $0.column(name) }) })
        }
        let lumisections = try concatenated(lumisectionTables, file: lumisectionTable)
        try TableFile.write(try concatenated(channelTables, file: channelTable), to: (directory as NSString).appendingPathComponent(name(channelTable, shard: nil)))
        try TableFile.write(lumisections, to: (directory as NSString).appendingPathComponent(name(lumisectionTable, shard: nil)))
        guard case .int64(let flagged)? = lumisections["flagged_channels"]?.values else {
            throw ShardError("the lumisection tables of \(ordered[0].part) have no flagged_channels column")
        }
        log("merged \(ordered.count) parts: \(lumisections.rowCount) LS → \(directory)")
        return HCALScorer.ScoreSummary(lumisections: lumisections.rowCount, flaggedLumisections: flagged.filter { $0 > 0 }.count,
                                       flaggedChannels: Int(flagged.reduce(0, +)))
    }
}
