import Foundation
import HEPMLTestSupport
import Testing

/// `hepml batch collect` runs a sharded command's merge: three tasks of `compress compress --shard`
/// (HTCondor job, tasks run directly with `batch run-task`) collect into the unsharded file.
@Suite struct ShardedCommandTests {
    @Test func batchCollectMergesShardedCompression() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory("sharded-commands")
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        func hepmlRun(_ arguments: [String]) throws -> String {
            let result = try TestEnvironment.run(hepml, arguments)
            #expect(result.status == 0, "\(arguments.joined(separator: " ")): \(result.output)")
            return result.output
        }
        _ = try hepmlRun(["compress", "generate", "-o", path("jets.root"), "--events", "400", "--seed", "3"])
        let source = ["-i", path("jets.root"), "--tree", "Events", "--branches", "Jet_*"]
        _ = try hepmlRun(["compress", "train"] + source + ["--model", "AE_bn_LeakyReLU:4,8,3,8,4", "--epochs", "1", "--batch-size", "256", "-o", path("model")])
        let compress = ["hepml", "compress", "compress"] + source + ["--model", path("model"), "--max-error", "Jet_pt=1e-3"]
        _ = try hepmlRun(Array(compress.dropFirst()) + ["-o", path("whole.parquet")])

        _ = try hepmlRun(["batch", "submit", "--scheduler", "htcondor", "--array", "3", "--output-dir", path("job"), "--"]
                         + compress + ["-o", path("sharded.parquet"), "--shard", "{task}/{N}"])
        for task in 0..<3 { _ = try hepmlRun(["batch", "run-task", path("job"), "\(task)"]) }
        #expect(FileManager.default.fileExists(atPath: path("sharded.part-2-of-3.manifest.json")))
        let collected = try hepmlRun(["batch", "collect", path("job")])
        #expect(collected.contains("merged 3 parts"), "\(collected)")
        let info = try hepmlRun(["compress", "info", path("sharded.parquet")])
        let events = try hepmlRun(["compress", "info", path("whole.parquet")]).split(separator: ":")[1].split(separator: ",")[0]
        #expect(info.contains(":\(events),") && info.contains("400 events"), "\(info)")
    }
}
