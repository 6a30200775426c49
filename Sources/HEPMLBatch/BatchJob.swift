import Foundation
import HEPMLCore

/// A job array on a batch system, as `hepml batch submit` / `sweep` records it in its state
/// directory: the command every task runs (with placeholders), the resources asked for, the
/// sweep points, and every submission with its job ID. Everything `status`, `resubmit` and
/// `collect` need later is in this file, so they take only the directory.
public struct BatchJob: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// N tasks of one command, told apart by `{task}` (e.g. `--shard {task}/{N}`).
        case array
        /// One task per grid point, each in its own run directory.
        case sweep
    }

    public var kind: Kind
    public var scheduler: Scheduler
    /// The task command with its placeholders (`{task}`, `{N}`, `{run_dir}`, sweep parameters).
    public var command: [String]
    public var taskCount: Int
    /// Where the tasks run, so that relative paths in the command mean what they meant at submission.
    public var workingDirectory: String
    /// The `hepml` executable the tasks run (`hepml` at the start of the command means this one).
    public var executable: String
    public var resources: BatchResources
    /// The grid parameters of a sweep, in grid order.
    public var parameters: [String]
    /// The grid point of every task of a sweep (task K runs `points[K]`).
    public var points: [SweepPoint]
    public var submissions: [Submission]

    public struct Submission: Codable, Equatable, Sendable {
        /// The batch system's job ID (Slurm's array job ID); nil for a submit file written for the
        /// user to submit (HTCondor).
        public var jobID: String?
        public var tasks: [Int]
        /// The script or submit-description file, in the state directory.
        public var script: String
        public var date: Date
    }

    public init(kind: Kind, scheduler: Scheduler, command: [String], taskCount: Int, workingDirectory: String, executable: String,
                resources: BatchResources, parameters: [String] = [], points: [SweepPoint] = []) throws {
        guard taskCount >= 1 else { throw BatchError("a job array needs at least one task") }
        guard !command.isEmpty else { throw BatchError("no command given after `--`") }
        self.kind = kind
        self.scheduler = scheduler
        self.command = command
        self.taskCount = taskCount
        self.workingDirectory = workingDirectory
        self.executable = executable
        self.resources = resources
        self.parameters = parameters
        self.points = points
        self.submissions = []
        guard kind == .array || points.count == taskCount else { throw BatchError("a sweep needs one point per task") }
        try TaskCommand.validate(command, parameters: parameters, sweep: kind == .sweep)
    }

    /// The command of task `task` with every placeholder replaced.
    public func arguments(task: Int, directory: BatchDirectory) throws -> [String] {
        guard (0..<taskCount).contains(task) else { throw BatchError("task \(task) does not exist: the job has tasks 0 to \(taskCount - 1)") }
        var values = ["task": String(task), "N": String(taskCount)]
        if kind == .sweep {
            values["run_dir"] = directory.runDirectory(task: task)
            for (name, value) in points[task].values { values[name] = value.argument }
        }
        return TaskCommand.substitute(command, values: values)
    }

    /// The latest submission that included `task`.
    public func lastSubmission(of task: Int) -> Submission? {
        submissions.last { $0.tasks.contains(task) }
    }
}

public enum Scheduler: String, Codable, Sendable, CaseIterable {
    case slurm
    case htcondor
}

/// What every task asks the batch system for; nil leaves the site's default.
public struct BatchResources: Codable, Equatable, Sendable {
    public var partition: String?
    /// Slurm's time format (`MM`, `HH:MM:SS`, `D-HH:MM`, …); HTCondor gets the matching `+JobFlavour`.
    public var time: String?
    /// Memory per task with a unit (`4G`, `500M`).
    public var memory: String?
    public var cpus: Int
    public var jobName: String

    public init(partition: String? = nil, time: String? = nil, memory: String? = nil, cpus: Int = 1, jobName: String = "hepml") throws {
        guard cpus >= 1 else { throw BatchError("--cpus must be at least 1") }
        if let time { _ = try BatchResources.seconds(ofSlurmTime: time) }
        if let memory, memory.range(of: #"^[0-9]+[KMGT]?$"#, options: .regularExpression) == nil {
            throw BatchError("--mem '\(memory)' is not a size such as 4G or 500M")
        }
        self.partition = partition
        self.time = time
        self.memory = memory
        self.cpus = cpus
        self.jobName = jobName
    }

    /// Seconds of a Slurm time limit: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`.
    public static func seconds(ofSlurmTime text: String) throws -> Int {
        let invalid = BatchError("--time '\(text)' is not a Slurm time (M, M:S, H:M:S, D-H, D-H:M or D-H:M:S)")
        let dayFields = text.split(separator: "-", omittingEmptySubsequences: false)
        guard dayFields.count <= 2 else { throw invalid }
        let clock = try dayFields.last.map { try $0.split(separator: ":", omittingEmptySubsequences: false).map { field -> Int in
            guard let value = Int(field), value >= 0, value < 100_000 else { throw invalid }
            return value
        } } ?? []
        guard (1...3).contains(clock.count) else { throw invalid }
        if dayFields.count == 2 {
            guard let days = Int(dayFields[0]), days >= 0, days < 1000 else { throw invalid }
            let hours = clock[0], minutes = clock.count > 1 ? clock[1] : 0, seconds = clock.count > 2 ? clock[2] : 0
            return ((days * 24 + hours) * 60 + minutes) * 60 + seconds
        }
        switch clock.count {
        case 1: return clock[0] * 60
        case 2: return clock[0] * 60 + clock[1]
        default: return (clock[0] * 60 + clock[1]) * 60 + clock[2]
        }
    }
}

public struct BatchError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The state directory of one batch job.
public struct BatchDirectory: Sendable {
    public let path: String

    public init(_ path: String) {
        self.path = URL(fileURLWithPath: path).standardizedFileURL.path
    }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
    /// The job: `batch.json`.
    public var stateFile: String { file("batch.json") }
    /// The batch system's stdout/stderr of every task (`<job>_<task>.out/.err`).
    public var logDirectory: String { file("logs") }
    /// One `<task>.json` per task, written by the task itself (`TaskRecord`).
    public var taskDirectory: String { file("tasks") }
    public func taskRecordFile(task: Int) -> String { (taskDirectory as NSString).appendingPathComponent("\(task).json") }
    /// A sweep point's own run directory, `runs/point-<task>`.
    public func runDirectory(task: Int) -> String { file("runs/point-\(task)") }

    public func load() throws -> BatchJob {
        guard let data = FileManager.default.contents(atPath: stateFile) else {
            throw BatchError("\(path) is not a batch directory (no batch.json)")
        }
        return try Self.decode(BatchJob.self, from: data, file: stateFile, what: "a batch state file")
    }

    public func save(_ job: BatchJob) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try AtomicFile.write(try Self.encoder.encode(job), to: stateFile)
    }

    public func record(task: Int) throws -> TaskRecord? {
        let file = taskRecordFile(task: task)
        guard let data = FileManager.default.contents(atPath: file) else { return nil }
        return try Self.decode(TaskRecord.self, from: data, file: file, what: "a task record")
    }

    private static func decode<Value: Decodable>(_ type: Value.Type, from data: Data, file: String, what: String) throws -> Value {
        do {
            return try decoder.decode(type, from: data)
        } catch {
            throw FileFormatError(file: file, reason: "not \(what): \(error)")
        }
    }

    public func write(_ record: TaskRecord) throws {
        try FileManager.default.createDirectory(atPath: taskDirectory, withIntermediateDirectories: true)
        try AtomicFile.write(try Self.encoder.encode(record), to: taskRecordFile(task: record.task))
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

/// What a task writes about itself (`tasks/<task>.json`): when it started and how it ended. The
/// status comes from these when the batch system keeps no accounting, and a failed task's error
/// is kept for the sweep report.
public struct TaskRecord: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable { case started, succeeded, failed }
    public var task: Int
    public var state: State
    public var host: String
    /// The batch system's ID of this attempt (`SLURM_ARRAY_JOB_ID`, HTCondor's cluster).
    public var jobID: String?
    public var started: Date
    public var finished: Date?
    public var exitCode: Int32?
    /// The last lines the command wrote to standard error, for a failed task.
    public var errorTail: String?
}
