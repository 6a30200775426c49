import ArgumentParser
import Foundation
import HEPMLBatch
import HEPMLExperiment

/// `hepml batch …`: job arrays and hyperparameter sweeps of hepml commands on Slurm (submitted and
/// followed here) or HTCondor (submit description written for `condor_submit`).
struct BatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Run hepml commands as Slurm/HTCondor job arrays: submit, sweep, status, resubmit, collect.",
        subcommands: [BatchSubmitCommand.self, BatchSweepCommand.self, BatchStatusCommand.self, BatchResubmitCommand.self,
                      BatchCollectCommand.self, BatchRunTaskCommand.self]
    )
}

extension Scheduler: ExpressibleByArgument {}

/// What `submit` and `sweep` share: the scheduler, the state directory and the resources per task.
struct BatchJobOptions: ParsableArguments {
    @Option(help: "slurm (submitted with sbatch) or htcondor (a submit file for condor_submit is written).") var scheduler: Scheduler = .slurm
    @Option(help: "State directory: batch.json, scripts, logs/, tasks/, runs/ (sweeps), collected results.") var outputDir = "batch"
    @Option(help: "Slurm partition.") var partition: String?
    @Option(help: "Time limit per task in Slurm's format (MM, HH:MM:SS, D-HH:MM); HTCondor gets the matching +JobFlavour.") var time: String?
    @Option(help: "Memory per task, e.g. 4G.") var mem: String?
    @Option(help: "CPUs per task (HEPML_NUM_THREADS follows the allocation).") var cpus = 1
    @Option(help: "Job name in the queue.") var jobName = "hepml"
    @Flag(help: "Print the script (or submit file) without writing or submitting anything.") var dryRun = false

    /// Submits all tasks of a job of `command` (run by this very hepml from the current
    /// directory), or prints its script with --dry-run.
    func submit(_ kind: BatchJob.Kind, command: [String], taskCount: Int, parameters: [String] = [], points: [SweepPoint] = []) throws {
        if scheduler == .htcondor, partition != nil { throw ValidationError("--partition is a Slurm option; HTCondor has job flavours (from --time)") }
        var job = try BatchJob(kind: kind, scheduler: scheduler, command: command, taskCount: taskCount,
                               workingDirectory: FileManager.default.currentDirectoryPath, executable: currentExecutable(),
                               resources: try BatchResources(partition: partition, time: time, memory: mem, cpus: cpus, jobName: jobName),
                               parameters: parameters, points: points)
        let directory = BatchDirectory(outputDir)
        let tasks = Array(0..<job.taskCount)
        if dryRun {
            switch scheduler {
            case .slurm: print(SlurmScript.text(job: job, directory: directory, tasks: tasks), terminator: "")
            case .htcondor: print(try HTCondorSubmit.text(job: job, directory: directory, tasks: tasks), terminator: "")
            }
            return
        }
        guard !FileManager.default.fileExists(atPath: directory.stateFile) else {
            throw ValidationError("\(outputDir) already holds a batch job; follow it with `hepml batch status \(outputDir)` or choose another --output-dir")
        }
        let submission = try BatchSubmission.submit(&job, in: directory, tasks: tasks)
        if let jobID = submission.jobID {
            print("submitted Slurm job \(jobID): \(job.taskCount) task(s); follow with `hepml batch status \(outputDir)`")
        } else {
            print("wrote \(directory.file(submission.script)) (\(job.taskCount) task(s)); submit it with `condor_submit \(directory.file(submission.script))`, "
                + "then follow with `hepml batch status \(outputDir)`")
        }
    }
}

/// The `hepml` binary the tasks run: this very executable.
private func currentExecutable() -> String {
    let link = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    if link != "/proc/self/exe", FileManager.default.isExecutableFile(atPath: link) { return link }
    return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
}

struct BatchSubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit N tasks of a command (placeholders {task} and {N}), e.g. -- hepml dqm fetch … --shard {task}/{N}.")

    @OptionGroup var options: BatchJobOptions
    @Option(help: "Number of array tasks.") var array: Int
    @Argument(parsing: .postTerminator, help: "The command after `--`.") var command: [String] = []

    func run() throws {
        try options.submit(.array, command: command, taskCount: array)
    }
}

struct BatchSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "One task per grid point, each with its own {run_dir}, e.g. -- hepml train-example --learning-rate {lr} --history {run_dir}/history.json.")

    @OptionGroup var options: BatchJobOptions
    @Option(help: "Grid JSON: {\"parameters\": [{\"name\": …, \"values\" | \"range\" | \"log_range\": …}], \"sample\": {\"count\": …, \"seed\": …}}.") var grid: String
    @Argument(parsing: .postTerminator, help: "The command after `--`.") var command: [String] = []

    func run() throws {
        let sweep = try SweepGrid(json: try readFile(grid), file: grid)
        let points = try sweep.points()
        try options.submit(.sweep, command: command, taskCount: points.count, parameters: sweep.parameters.map(\.name), points: points)
    }
}

struct BatchStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Per-task state of a submitted job, with a progress bar.")

    @Argument(help: "The job's state directory.") var directory: String
    @Flag(help: "List every task, not only those that have not succeeded.") var all = false

    func run() throws {
        let batch = BatchDirectory(directory)
        let job = try batch.load()
        let statuses = try BatchStatus.tasks(of: job, in: batch)
        print(BatchStatus.summary(statuses))
        for status in statuses where all || status.state != .succeeded {
            print("  task \(status.task)  \(status.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0))  \(status.detail)")
        }
    }
}

struct BatchResubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resubmit", abstract: "Submit the failed and missing tasks again.")

    @Argument(help: "The job's state directory.") var directory: String

    func run() throws {
        let batch = BatchDirectory(directory)
        let submission = try BatchSubmission.resubmit(batch)
        let tasks = TaskList.compressed(submission.tasks)
        if let jobID = submission.jobID {
            print("resubmitted task(s) \(tasks) as Slurm job \(jobID)")
        } else {
            print("wrote \(batch.file(submission.script)) for task(s) \(tasks); submit it with `condor_submit \(batch.file(submission.script))`")
        }
    }
}

struct BatchCollectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "When every task is done: merge a sharded command's parts, or gather a sweep's metrics into sweep.parquet and an HTML report.")

    @Argument(help: "The job's state directory.") var directory: String

    func run() throws {
        let batch = BatchDirectory(directory)
        let job = try batch.load()
        let statuses = try BatchStatus.tasks(of: job, in: batch)
        switch job.kind {
        case .sweep:
            let result = try SweepCollection.collect(job, in: batch, statuses: statuses)
            let withResults = result.points.filter { $0.metrics[result.objective] != nil }
            print("\(result.points.count) points, \(withResults.count) with results → \(result.tablePath)")
            if let best = withResults.min(by: { ($0.metrics[result.objective] ?? 0) < ($1.metrics[result.objective] ?? 0) }) {
                let values = job.parameters.map { "\($0)=\(best.point.values[$0]?.argument ?? "")" }.joined(separator: " ")
                print("best: task \(best.task) (\(values)) \(result.objective) \(best.metrics[result.objective] ?? .nan)")
            }
            print("report: \(result.reportPath)")
        case .array:
            try BatchSubmission.requireAllSucceeded(statuses)
            try mergeParts(job, batch)
        }
    }

    /// The merge of a command that writes shards (`shardedCommands`); other commands have nothing to merge.
    private func mergeParts(_ job: BatchJob, _ batch: BatchDirectory) throws {
        let arguments = try job.arguments(task: 0, directory: batch)
        guard let command = try shardedCommands.compactMap({ try $0.parsing(arguments) }).first else {
            print("all \(job.taskCount) task(s) succeeded; `\(arguments.prefix(3).joined(separator: " "))` writes no parts to merge")
            return
        }
        guard let shard = command.shard else {
            print("all \(job.taskCount) task(s) succeeded; the command has no --shard, so there is nothing to merge")
            return
        }
        try command.mergeParts(of: shard, workingDirectory: URL(fileURLWithPath: job.workingDirectory, isDirectory: true))
    }
}

struct BatchRunTaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-task",
        abstract: "Run one task of a submitted job (what the batch script runs on the worker).",
        shouldDisplay: false)

    @Argument(help: "The job's state directory.") var directory: String
    @Argument(help: "The task number (SLURM_ARRAY_TASK_ID, HTCondor's $(task)).") var task: Int

    func run() throws {
        let status = try TaskRunner.run(directory: BatchDirectory(directory), task: task)
        if status != 0 { throw ExitCode(status) }
    }
}
