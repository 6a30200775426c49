import Foundation
import HEPMLColumnar
import HEPMLCore

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
    public func scoreDataset(_ dataset: HCALDataset, range: HCALDataset.LumisectionRange? = nil, output directory: String,
                             log: (String) -> Void = { _ in }) throws -> ScoreSummary {
        try requireTrainingScaling(of: dataset)
        let selection = range ?? dataset.description.testRange
        let steps = input.options.steps, channels = input.channels, depths = input.depths
        try FileManager.default.createDirectory(atPath: (directory as NSString).appendingPathComponent("score_maps"), withIntermediateDirectories: true)
        var channelColumns: (run: [Int32], ls: [Int32], ieta: [Int32], iphi: [Int32], depth: [Int32], score: [Float], flag: [Bool]) = ([], [], [], [], [], [], [])
        var lsColumns: (run: [Int64], ls: [Int64], events: [Int64], maximum: [Float], flagged: [Int64]) = ([], [], [], [], [])
        let activeChannels = (0..<channels).filter { input.mask.active[$0] }
        for run in dataset.description.runs {
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
        ]), to: (directory as NSString).appendingPathComponent("scores.parquet"))
        try TableFile.write(try Table(columns: [
            try Column(name: "run", int64: lsColumns.run), try Column(name: "ls", int64: lsColumns.ls), try Column(name: "num_events", int64: lsColumns.events),
            try Column(name: "max_score", float32: lsColumns.maximum), try Column(name: "flagged_channels", int64: lsColumns.flagged),
        ]), to: (directory as NSString).appendingPathComponent("lumisection_scores.parquet"))
        return ScoreSummary(lumisections: lsColumns.ls.count, flaggedLumisections: lsColumns.flagged.filter { $0 > 0 }.count,
                            flaggedChannels: Int(lsColumns.flagged.reduce(0, +)))
    }
}
