import Foundation
import HEPMLColumnar
import HEPMLExperiment
import HEPMLTestSupport
import Testing
@testable import HEPMLDQM

/// `dqm fetch --shard K/N` + `dqm merge` against one unsharded fetch of the same files.
@Suite struct ShardedFetchTests {
    /// A generated data set written as ROOT files; returns the data directory and JSON paths.
    static func writtenDataset(runs: Int, in directory: URL) throws -> (data: String, contents: String, datasets: String) {
        var configuration = SyntheticDQMConfiguration()
        configuration.runCount = runs
        configuration.seed = 16
        let dataset = try SyntheticDQMDataset.generate(configuration)
        let data = directory.appendingPathComponent("data").path
        let json = try dataset.write(to: data, quiet: true)
        return (data, json.contents, json.datasets)
    }

    static func fetch(_ input: (data: String, contents: String, datasets: String), to output: String, shard: Shard?) throws -> [String] {
        try DQMFetch.fetchToParquet(contentsFile: input.contents, datasetsFile: input.datasets, inputs: [input.data], outputDirectory: output,
                                    shard: shard, quiet: true, log: { _ in }, warn: { _ in })
    }

    @Test func mergedPartsEqualTheUnshardedTable() throws {
        let directory = try TestEnvironment.temporaryDirectory("dqm-shards")
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = try Self.writtenDataset(runs: 11, in: directory)
        let whole = try Self.fetch(input, to: directory.appendingPathComponent("whole").path, shard: nil)
        let expected = try Parquet.read(path: try #require(whole.first))

        let partsDirectory = directory.appendingPathComponent("parts").path
        var parts: [String] = []
        for index in 0..<3 { parts += try Self.fetch(input, to: partsDirectory, shard: try Shard(index: index, count: 3)) }
        #expect(parts.map { ($0 as NSString).lastPathComponent } == ["ZeroBias.part-0-of-3.parquet", "ZeroBias.part-1-of-3.parquet", "ZeroBias.part-2-of-3.parquet"])
        let rowsPerPart = try parts.map { try Parquet.read(path: $0).rowCount }
        #expect(rowsPerPart == [4, 4, 3])
        let manifest = try ShardManifest.read(path: ShardManifest.path(forPart: parts[1]))
        #expect(try manifest.shard == Shard(index: 1, count: 3) && manifest.inputs.count == 4 && manifest.counts["runs read"] == 4)

        // Merged in any order of the arguments, the table is the unsharded one, row for row.
        let merged = try DQMFetch.merge(parts: parts.reversed())
        #expect(merged.table == expected)
        #expect(merged.parts == 3 && merged.skipped.isEmpty)
    }

    @Test func mergeRefusesMissingDuplicatedAndForeignParts() throws {
        let directory = try TestEnvironment.temporaryDirectory("dqm-shards")
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = try Self.writtenDataset(runs: 6, in: directory)
        let partsDirectory = directory.appendingPathComponent("parts").path
        let first = try Self.fetch(input, to: partsDirectory, shard: try Shard(index: 0, count: 3))[0]
        let third = try Self.fetch(input, to: partsDirectory, shard: try Shard(index: 2, count: 3))[0]
        #expect(throws: ShardError.self) { try DQMFetch.merge(parts: [first, third]) }
        do {
            _ = try DQMFetch.merge(parts: [first, third, third])
            Issue.record("a missing and a duplicated shard were merged")
        } catch let error as ShardError {
            #expect(error.description.contains("missing shard 1 of 3"))
            #expect(error.description.contains("shard 2/3 given 2 times"))
        }

        // A part fetched with another contents JSON (one histogram fewer) belongs to another fetch.
        var contents = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: input.contents))) as? [String: [String]] ?? [:]
        let subsystem = try #require(contents.keys.sorted().first)
        contents[subsystem] = Array(contents[subsystem, default: []].dropFirst())
        let otherContents = directory.appendingPathComponent("other-contents.json").path
        try JSONSerialization.data(withJSONObject: contents).write(to: URL(fileURLWithPath: otherContents))
        let foreign = try Self.fetch((input.data, otherContents, input.datasets), to: directory.appendingPathComponent("foreign").path,
                                     shard: try Shard(index: 1, count: 3))[0]
        do {
            _ = try DQMFetch.merge(parts: [first, foreign, third])
            Issue.record("parts of different contents JSON were merged")
        } catch let error as ShardError {
            #expect(error.description.contains("contents JSON"))
        }
    }

    @Test func failOnSkipWritesNothingWhenAFileIsCorrupt() throws {
        let directory = try TestEnvironment.temporaryDirectory("dqm-shards")
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = try Self.writtenDataset(runs: 4, in: directory)
        let victim = try #require(try FileManager.default.contentsOfDirectory(atPath: input.data).filter { $0.hasSuffix(".root") }.sorted().first)
        try Data("not a ROOT file".utf8).write(to: URL(fileURLWithPath: input.data).appendingPathComponent(victim))
        let output = directory.appendingPathComponent("out").path
        do {
            _ = try DQMFetch.fetchToParquet(contentsFile: input.contents, datasetsFile: input.datasets, inputs: [input.data], outputDirectory: output,
                                            failOnSkip: true, quiet: true, log: { _ in }, warn: { _ in })
            Issue.record("a corrupt file did not fail the fetch")
        } catch {
            #expect("\(error)".contains(victim))
        }
        #expect(!FileManager.default.fileExists(atPath: output))
        // Without the flag the file is skipped and the other runs are fetched.
        let written = try Self.fetch(input, to: output, shard: nil)
        #expect(try Parquet.read(path: written[0]).rowCount == 3)
    }
}
