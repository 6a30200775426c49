import Foundation
import HEPMLColumnar
import HEPMLTestSupport
import Testing
@testable import HEPMLBatch

@Suite struct SweepGridTests {
    @Test func expandsListsRangesAndLogRangesInGridOrder() throws {
        let json = Data("""
            {"parameters": [{"name": "lr", "log_range": [1e-4, 1e-2, 3]},
                            {"name": "latent", "values": [2, 4]},
                            {"name": "mode", "values": ["a", "b"]},
                            {"name": "epochs", "range": [10, 30, 10]}]}
            """.utf8)
        let points = try SweepGrid(json: json, file: "grid.json").points()
        #expect(points.count == 3 * 2 * 2 * 3)
        #expect(points[0].values == ["lr": .number(1e-4), "latent": .number(2), "mode": .text("a"), "epochs": .number(10)])
        #expect(points[1].values["epochs"] == .number(20))  // the last parameter varies fastest
        #expect(points.map { $0.values["lr"]?.argument ?? "" }.uniqued() == ["0.0001", "0.001", "0.01"])
        #expect(points[2].values["epochs"]?.argument == "30")
    }

    @Test func aSeededSampleIsAReproducibleSubsetInGridOrder() throws {
        var grid = SweepGrid(parameters: [.init(name: "a", range: [0, 9, 1]), .init(name: "b", values: [.text("x"), .text("y")])])
        let all = try grid.points()
        grid.sample = .init(count: 5, seed: 3)
        let sample = try grid.points()
        #expect(try sample.count == 5 && sample == grid.points())
        let positions = sample.compactMap { point in all.firstIndex(of: point) }
        #expect(positions == positions.sorted() && Set(positions).count == 5)
        grid.sample = .init(count: 5, seed: 4)
        #expect(try grid.points() != sample)
    }

    @Test func refusesMalformedParameters() {
        let bad: [SweepGrid.Parameter] = [
            .init(name: "a", values: [.number(1)], range: [0, 1, 1]),
            .init(name: "a", range: [0, 1, -1]),
            .init(name: "a", logRange: [0, 1, 3]),
            .init(name: "task", values: [.number(1)]),
            .init(name: "a-b", values: [.number(1)]),
            .init(name: "a", values: []),
        ]
        for parameter in bad {
            #expect(throws: BatchError.self) { try SweepGrid(parameters: [parameter]).points() }
        }
        #expect(throws: BatchError.self) { try SweepGrid(parameters: [.init(name: "a", values: [.number(1)]), .init(name: "a", values: [.number(2)])]).points() }
    }
}

@Suite struct TaskCommandTests {
    @Test func substitutesPlaceholdersAndLeavesOtherBraces() {
        let command = ["hepml", "x", "--shard", "{task}/{N}", "--json", "{\"a\": 1}", "{unknown}", "{1}"]
        #expect(TaskCommand.substitute(command, values: ["task": "3", "N": "8"])
            == ["hepml", "x", "--shard", "3/8", "--json", "{\"a\": 1}", "{unknown}", "{1}"])
        #expect(TaskCommand.placeholders(in: command) == ["task", "N", "unknown"])
    }

    @Test func refusesCommandsWhoseTasksCannotDiffer() throws {
        #expect(throws: BatchError.self) { try TaskCommand.validate(["hepml", "dqm", "fetch"], parameters: [], sweep: false) }
        #expect(throws: BatchError.self) { try TaskCommand.validate(["x", "{task}", "{lr}"], parameters: [], sweep: false) }
        #expect(throws: BatchError.self) { try TaskCommand.validate(["x", "{lr}"], parameters: ["lr", "latent"], sweep: true) }
        try TaskCommand.validate(["x", "{lr}", "{latent}", "{run_dir}"], parameters: ["lr", "latent"], sweep: true)
    }
}

@Suite struct SchedulerScriptTests {
    func job(_ scheduler: Scheduler, time: String? = "2:00:00") throws -> BatchJob {
        try BatchJob(kind: .array, scheduler: scheduler, command: ["hepml", "dqm", "fetch", "--shard", "{task}/{N}"], taskCount: 4,
                     workingDirectory: "/work/study", executable: "/opt/hepml/bin/hepml",
                     resources: try BatchResources(partition: scheduler == .slurm ? "short" : nil, time: time, memory: "4G", cpus: 2, jobName: "fetch"))
    }

    @Test func slurmScriptAsksForTheResourcesAndRunsEachTask() throws {
        let script = SlurmScript.text(job: try job(.slurm), directory: BatchDirectory("/work/study/batch"), tasks: [0, 1, 2, 3])
        for line in ["#SBATCH --array=0-3", "#SBATCH --output=/work/study/batch/logs/%A_%a.out", "#SBATCH --cpus-per-task=2",
                     "#SBATCH --mem=4G", "#SBATCH --time=2:00:00", "#SBATCH --partition=short", "#SBATCH --chdir=/work/study",
                     "export HEPML_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"",
                     "exec '/opt/hepml/bin/hepml' batch run-task '/work/study/batch' \"$SLURM_ARRAY_TASK_ID\""] {
            #expect(script.contains(line + "\n"), "\(line)")
        }
        #expect(SlurmScript.text(job: try job(.slurm), directory: BatchDirectory("/b"), tasks: [3, 1, 0]).contains("--array=0-1,3\n"))
    }

    @Test func htcondorSubmitFileQueuesTheTasksWithAFlavour() throws {
        let directory = BatchDirectory("/work/study/batch")
        let text = try HTCondorSubmit.text(job: try job(.htcondor), directory: directory, tasks: [0, 1, 2, 3])
        for line in ["executable     = /opt/hepml/bin/hepml", "arguments      = \"batch run-task /work/study/batch $(task)\"",
                     "request_cpus   = 2", "request_memory = 4G", "+JobFlavour    = \"longlunch\"", "queue task from seq 0 3 |",
                     "environment    = \"HEPML_NUM_THREADS=2\"", "log            = /work/study/batch/logs/$(ClusterId).log"] {
            #expect(text.contains(line + "\n"), "\(line)")
        }
        #expect(try HTCondorSubmit.text(job: try job(.htcondor), directory: directory, tasks: [1, 3]).contains("queue task in (1, 3)\n"))
        #expect(try HTCondorSubmit.flavour(forTime: "20") == "espresso")
        #expect(try HTCondorSubmit.flavour(forTime: "1-00:00:00") == "tomorrow")
        #expect(throws: BatchError.self) { try HTCondorSubmit.flavour(forTime: "8-00") }
    }

    @Test func parsesSlurmTimesAndTaskLists() throws {
        #expect(try BatchResources.seconds(ofSlurmTime: "90") == 5400)
        #expect(try BatchResources.seconds(ofSlurmTime: "1:02:03") == 3723)
        #expect(try BatchResources.seconds(ofSlurmTime: "2-01") == 176_400)
        for bad in ["", "1:2:3:4", "a", "1-2-3", "-5"] {
            #expect(throws: BatchError.self) { try BatchResources.seconds(ofSlurmTime: bad) }
        }
        #expect(throws: BatchError.self) { try BatchResources(memory: "lots") }
        #expect(TaskList.compressed([5, 0, 1, 2, 9, 8]) == "0-2,5,8-9")
        #expect(SlurmClient.taskIDs("[4-6,9%2]") == [4, 5, 6, 9])
        #expect(SlurmClient.taskIDs("7") == [7])
    }
}

/// Tasks run by `TaskRunner` without a batch system (an HTCondor job is never queried), then
/// status and a sweep's collection.
@Suite struct TaskRunnerAndCollectionTests {
    @Test func recordsEachTaskAndCollectsASweep() throws {
        let directory = try TestEnvironment.temporaryDirectory("batch")
        defer { try? FileManager.default.removeItem(at: directory) }
        let grid = SweepGrid(parameters: [.init(name: "lr", values: [.number(0.5), .number(0.25), .number(2)])])
        let points = try grid.points()
        // A stand-in for a training command: writes a two-epoch history, or fails for lr = 2.
        let script = """
            if [ {lr} = 2 ]; then echo "diverged at lr {lr}" >&2; exit 3; fi
            printf '{"epochs":[{"epoch":1,"trainLoss":1,"validationLoss":{lr},"learningRate":{lr},"seconds":0},{"epoch":2,"trainLoss":{lr},"validationLoss":0.75,"learningRate":{lr},"seconds":0}],"stoppedEarly":false}' > {run_dir}/history.json
            """
        let batch = BatchDirectory(directory.appendingPathComponent("sweep").path)
        var job = try BatchJob(kind: .sweep, scheduler: .htcondor, command: ["sh", "-c", script], taskCount: points.count,
                               workingDirectory: directory.path, executable: "/unused", resources: try BatchResources(),
                               parameters: ["lr"], points: points)
        try BatchSubmission.submit(&job, in: batch, tasks: [0, 1, 2])
        #expect(FileManager.default.fileExists(atPath: batch.file("submit-1.sub")))
        #expect(try BatchStatus.tasks(of: job, in: batch).map(\.state) == [.pending, .pending, .pending])
        #expect(throws: BatchError.self) { try SweepCollection.collect(job, in: batch, statuses: try BatchStatus.tasks(of: job, in: batch)) }

        #expect(try (0..<3).map { try TaskRunner.run(directory: batch, task: $0) } == [0, 0, 3])
        let statuses = try BatchStatus.tasks(of: job, in: batch)
        #expect(statuses.map(\.state) == [.succeeded, .succeeded, .failed])
        #expect(statuses[2].detail.contains("diverged at lr 2"))
        #expect(BatchStatus.summary(statuses).contains("2/3 succeeded, 1 failed"))

        let result = try SweepCollection.collect(job, in: batch, statuses: statuses)
        #expect(result.objective == "best_validation_loss")
        let table = try Parquet.read(path: result.tablePath)
        #expect(table.rowCount == 3)
        #expect(table["lr"]?.float64Values == [0.5, 0.25, 2])
        #expect(table["best_validation_loss"]?.float64Values?.prefix(2) == [0.5, 0.25])
        #expect(table["final_train_loss"]?.float64Values?.prefix(2) == [0.5, 0.25])
        #expect(table["status"]?.values.string(at: 2) == "failed")
        #expect(table["error"]?.values.string(at: 2)?.contains("diverged") == true)
        #expect(table["best_validation_loss"]?.isNull(2) == true)
        let html = try String(contentsOfFile: result.reportPath, encoding: .utf8)
        #expect(html.contains("Failed points") && html.contains("diverged at lr 2"))
        #expect(FileManager.default.fileExists(atPath: batch.file("report/figures/objective-vs-parameters.png")))

        // Resubmitting writes a submit file for the failed task only and forgets its old record.
        let again = try BatchSubmission.resubmit(batch)
        #expect(again.tasks == [2] && again.script == "submit-2.sub")
        #expect(try batch.record(task: 2) == nil)
        #expect(try batch.load().submissions.count == 2)
    }
}

private extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
