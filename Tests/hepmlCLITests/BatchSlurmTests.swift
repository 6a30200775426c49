import Foundation
import HEPMLColumnar
import HEPMLTestSupport
import Testing

/// `hepml batch` against a real Slurm that the test starts for itself (see `SlurmCluster`):
/// a sharded DQM fetch, a sweep, and a failed task resubmitted after its input is fixed.
@Suite(.serialized) struct BatchSlurmTests {
    @Test(.requiresSlurm, .timeLimit(.minutes(8)))
    func shardedFetchSweepAndResubmitThroughSlurm() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory("batch-slurm")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try SlurmCluster()
        defer { cluster.stop() }
        let path = directory.path

        func hepmlRun(_ arguments: [String]) throws -> String {
            let result = try TestEnvironment.run(hepml, arguments, environment: cluster.environment)
            try #require(result.status == 0, "hepml \(arguments.joined(separator: " ")) failed:\n\(result.output)")
            return result.output
        }
        /// Polls `batch status` until no task is pending or running; returns the last output.
        func waitForTasks(_ job: String) throws -> String {
            let deadline = Date().addingTimeInterval(150)
            while Date() < deadline {
                let status = try hepmlRun(["batch", "status", job])
                if !status.contains("pending") && !status.contains("running") { return status }
                usleep(500_000)
            }
            let final = try hepmlRun(["batch", "status", job, "--all"])
            Issue.record("tasks of \(job) did not finish in time:\n\(final)\n\(cluster.logs())")
            return ""
        }

        // 1. A sharded fetch in 4 array tasks, merged by `collect`, equals the single-process fetch.
        _ = try hepmlRun(["dqm", "generate", "--output-dir", "\(path)/data", "--runs", "10", "--seed", "5", "--quiet"])
        let fetch = ["dqm", "fetch", "--contents", "\(path)/data/contents.json", "--datasets", "\(path)/data/datasets.json", "--input", "\(path)/data", "--quiet"]
        _ = try hepmlRun(fetch + ["--output-dir", "\(path)/whole"])
        let dryRun = try hepmlRun(["batch", "submit", "--array", "4", "--output-dir", "\(path)/fetch-job", "--mem", "1G", "--time", "10", "--dry-run",
                                   "--", "hepml"] + fetch + ["--output-dir", "\(path)/parts", "--shard", "{task}/{N}"])
        #expect(dryRun.contains("#SBATCH --array=0-3") && !FileManager.default.fileExists(atPath: "\(path)/fetch-job"))
        let submitted = try hepmlRun(["batch", "submit", "--array", "4", "--output-dir", "\(path)/fetch-job", "--mem", "1G", "--time", "10",
                                      "--", "hepml"] + fetch + ["--output-dir", "\(path)/parts", "--shard", "{task}/{N}"])
        #expect(submitted.contains("submitted Slurm job"))
        #expect(try waitForTasks("\(path)/fetch-job").contains("4/4 succeeded"))
        let collected = try hepmlRun(["batch", "collect", "\(path)/fetch-job"])
        #expect(collected.contains("merged 4 parts: 10 runs"), "\(collected)")
        #expect(try Parquet.read(path: "\(path)/parts/ZeroBias.parquet") == Parquet.read(path: "\(path)/whole/ZeroBias.parquet"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(path)/fetch-job/logs").count == 8)  // %A_%a.out and .err per task

        // 2. A sweep of 4 points of a small model: 4 rows with their hyperparameters and metrics.
        let grid = #"{"parameters": [{"name": "lr", "log_range": [0.001, 0.1, 2]}, {"name": "epochs", "values": [1, 2]}]}"#
        try grid.write(toFile: "\(path)/grid.json", atomically: true, encoding: .utf8)
        _ = try hepmlRun(["batch", "sweep", "--grid", "\(path)/grid.json", "--output-dir", "\(path)/sweep", "--", "hepml", "train-example",
                          "--model", "dqm-ae", "--samples", "200", "--epochs", "{epochs}", "--learning-rate", "{lr}", "--history", "{run_dir}/history.json"])
        #expect(try waitForTasks("\(path)/sweep").contains("4/4 succeeded"))
        let sweep = try hepmlRun(["batch", "collect", "\(path)/sweep"])
        #expect(sweep.contains("4 points, 4 with results"), "\(sweep)")
        let table = try Parquet.read(path: "\(path)/sweep/sweep.parquet")
        #expect(table.rowCount == 4)
        #expect(table["lr"]?.float64Values == [0.001, 0.001, 0.1, 0.1])
        #expect(table["epochs"]?.float64Values == [1, 2, 1, 2])
        #expect(table["epochs_trained"]?.float64Values == [1, 2, 1, 2])
        #expect(table["best_validation_loss"]?.nullCount == 0)
        #expect(FileManager.default.fileExists(atPath: "\(path)/sweep/report/index.html"))

        // 3. A corrupt input fails its task under --fail-on-skip; status reports it; after the
        //    file is restored, resubmit runs only that task and collect merges all parts.
        _ = try hepmlRun(["dqm", "generate", "--output-dir", "\(path)/data2", "--runs", "4", "--seed", "6", "--quiet"])
        let victim = try #require(try FileManager.default.contentsOfDirectory(atPath: "\(path)/data2").filter { $0.hasSuffix(".root") }.sorted().last)
        let victimPath = "\(path)/data2/\(victim)"
        let original = try Data(contentsOf: URL(fileURLWithPath: victimPath))
        try Data("truncated".utf8).write(to: URL(fileURLWithPath: victimPath))
        let fetch2 = ["dqm", "fetch", "--contents", "\(path)/data2/contents.json", "--datasets", "\(path)/data2/datasets.json", "--input", "\(path)/data2",
                      "--quiet", "--fail-on-skip", "--output-dir", "\(path)/parts2", "--shard", "{task}/{N}"]
        _ = try hepmlRun(["batch", "submit", "--array", "2", "--output-dir", "\(path)/fail-job", "--", "hepml"] + fetch2)
        let failed = try waitForTasks("\(path)/fail-job")
        #expect(failed.contains("1/2 succeeded, 1 failed"), "\(failed)")
        #expect(failed.contains("task 1  failed") && failed.contains(victim), "\(failed)")
        let refused = try TestEnvironment.run(hepml, ["batch", "collect", "\(path)/fail-job"], environment: cluster.environment)
        #expect(refused.status != 0 && refused.output.contains("not every task succeeded"))

        try original.write(to: URL(fileURLWithPath: victimPath))
        let resubmitted = try hepmlRun(["batch", "resubmit", "\(path)/fail-job"])
        #expect(resubmitted.contains("resubmitted task(s) 1 as Slurm job"), "\(resubmitted)")
        #expect(try waitForTasks("\(path)/fail-job").contains("2/2 succeeded"))
        #expect(try hepmlRun(["batch", "collect", "\(path)/fail-job"]).contains("merged 2 parts: 4 runs"))
    }
}
