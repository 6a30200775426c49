import ArgumentParser
import Foundation
import HEPMLCompress
import HEPMLDQM
import HEPMLExperiment
import HEPMLHCAL

/// A command whose `--shard K/N` tasks write parts that one merge combines (docs/batch.md,
/// "Sharding and merging"). `hepml batch collect` looks a job's command up in `shardedCommands`
/// and runs its merge.
protocol ShardedCommand: ParsableCommand {
    /// The words after `hepml`, e.g. `dqm fetch`.
    static var words: [String] { get }
    var shard: Shard? { get }
    /// Merges the parts of all `shard.count` tasks as the command's own merge would; relative
    /// paths of the command are relative to `workingDirectory` (the job's).
    func mergeParts(of shard: Shard, workingDirectory: URL) throws
}

/// Every command with parts to merge, and so every merge `batch collect` can run.
var shardedCommands: [any ShardedCommand.Type] { [DQMFetchCommand.self, HCALScoreCommand.self, CompressCompressCommand.self] }

extension ShardedCommand {
    /// Parses `arguments` (`hepml <words> …`) if they run this command.
    static func parsing(_ arguments: [String]) throws -> (any ShardedCommand)? {
        guard arguments.starts(with: ["hepml"] + words) else { return nil }
        return try parse(Array(arguments.dropFirst(1 + words.count)))
    }

    func path(_ path: String, in workingDirectory: URL) -> String {
        URL(fileURLWithPath: path, relativeTo: workingDirectory).path
    }
}

extension DQMFetchCommand: ShardedCommand {
    static let words = ["dqm", "fetch"]

    /// `dqm merge` of every primary dataset's parts (`<PD>.part-K-of-N.parquet`) in the output directory.
    func mergeParts(of shard: Shard, workingDirectory: URL) throws {
        let outputDirectory = path(outputDir, in: workingDirectory)
        let suffix = ".part-" // <PD>.part-K-of-N.parquet, as Shard.partName writes it
        let names = try FileManager.default.contentsOfDirectory(atPath: outputDirectory)
            .filter { $0.hasSuffix("-of-\(shard.count).parquet") && $0.contains(suffix) }.sorted()
        let byDataset = Dictionary(grouping: names) { name in String(name[..<(name.range(of: suffix, options: .backwards)?.lowerBound ?? name.endIndex)]) }
        guard !byDataset.isEmpty else { throw ValidationError("no parts of \(shard.count) in \(outputDirectory)") }
        for (dataset, parts) in byDataset.sorted(by: { $0.key < $1.key }) {
            let output = (outputDirectory as NSString).appendingPathComponent("\(dataset).parquet")
            _ = try DQMFetch.mergeToParquet(parts: parts.map { (outputDirectory as NSString).appendingPathComponent($0) }, output: output,
                                            log: { print($0) }, warn: warn)
        }
    }
}

extension HCALScoreCommand: ShardedCommand {
    static let words = ["hcal", "score"]

    /// `hcal merge` of the N parts in the output directory, into that directory.
    func mergeParts(of shard: Shard, workingDirectory: URL) throws {
        let directory = path(output, in: workingDirectory)
        let parts = try (0..<shard.count).map { index in
            (directory as NSString).appendingPathComponent(HCALScoreFiles.name(HCALScoreFiles.channelTable, shard: try Shard(index: index, count: shard.count)))
        }
        let summary = try HCALScoreFiles.mergeScores(parts: parts, output: directory) { print($0) }
        print("\(summary.lumisections) LS, \(summary.flaggedLumisections) with flagged channels; results in \(directory)")
    }
}

extension CompressCompressCommand: ShardedCommand {
    static let words = ["compress", "compress"]

    /// `compress merge` of the N parts into the output file.
    func mergeParts(of shard: Shard, workingDirectory: URL) throws {
        let file = path(output, in: workingDirectory)
        let parts = try (0..<shard.count).map { ShardedCompression.partPath(output: file, shard: try Shard(index: $0, count: shard.count)) }
        let header = try ShardedCompression.merge(parts: parts, output: file)
        print("merged \(parts.count) parts: \(header.objects) objects of \(header.events) events → \(file)")
    }
}
