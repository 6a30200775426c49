import Foundation
import HEPMLCore

/// Where one task stands.
public struct TaskStatus: Equatable, Sendable {
    public enum State: String, Sendable, CaseIterable {
        case pending, running, succeeded, failed
        /// Neither in the queue nor finished: never ran, cancelled, or lost with its node.
        case missing
    }

    public var task: Int
    public var state: State
    /// The exit status and error of a failed task, the batch system's state or reason otherwise.
    public var detail: String
}

/// Per-task state of a job: the tasks' own records decide for finished tasks; Slurm's queue for
/// pending and running ones; Slurm's accounting, when the cluster keeps one, names why a task
/// ended without a record (time limit, memory, cancellation).
public enum BatchStatus {
    public static func tasks(of job: BatchJob, in directory: BatchDirectory) throws -> [TaskStatus] {
        let jobIDs = Array(Set(job.submissions.compactMap(\.jobID))).sorted()
        let queue = job.scheduler == .slurm ? try SlurmClient.queue(jobIDs: jobIDs) : [:]
        var accounting: [String: [Int: (state: String, exitCode: String)]]?
        var accountingQueried = false
        var statuses: [TaskStatus] = []
        for task in 0..<job.taskCount {
            let record = try directory.record(task: task)
            let submission = job.lastSubmission(of: task)
            if let record, record.state != .started {
                let detail = record.state == .succeeded ? "exit 0 on \(record.host)"
                    : "exit \(record.exitCode.map(String.init) ?? "?") on \(record.host)" + (record.errorTail.map { ": \(lastLine($0))" } ?? "")
                statuses.append(TaskStatus(task: task, state: record.state == .succeeded ? .succeeded : .failed, detail: detail))
                continue
            }
            guard job.scheduler == .slurm, let jobID = submission?.jobID else {
                // HTCondor's queue is not queried: without a record the task has not started yet.
                statuses.append(record.map { TaskStatus(task: task, state: .running, detail: "started on \($0.host)") }
                    ?? TaskStatus(task: task, state: .pending, detail: "no output yet (see condor_q)"))
                continue
            }
            if let state = queue[jobID]?[task] {
                let running = ["RUNNING", "COMPLETING", "CONFIGURING", "STAGE_OUT"].contains(state)
                statuses.append(TaskStatus(task: task, state: running ? .running : .pending, detail: "Slurm \(state) (job \(jobID)_\(task))"))
                continue
            }
            if !accountingQueried {
                accounting = SlurmClient.accounting(jobIDs: jobIDs)
                accountingQueried = true
            }
            let accounted = accounting?[jobID]?[task].map { " (Slurm: \($0.state), exit \($0.exitCode))" } ?? ""
            if let record {
                statuses.append(TaskStatus(task: task, state: .failed,
                                           detail: "started on \(record.host) but ended without an exit status (time limit, memory or node failure?)" + accounted))
            } else {
                statuses.append(TaskStatus(task: task, state: .missing, detail: "not in the queue and no output (job \(jobID)_\(task))" + accounted))
            }
        }
        return statuses
    }

    private static func lastLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
    }

    /// `[#########···········]  9/20 succeeded, 3 running, 6 pending, 2 failed`.
    public static func summary(_ statuses: [TaskStatus], width: Int = 40) -> String {
        let counts = Dictionary(grouping: statuses, by: \.state).mapValues(\.count)
        let done = counts[.succeeded] ?? 0
        let filled = statuses.isEmpty ? 0 : done * width / statuses.count
        let bar = "[" + String(repeating: "#", count: filled) + String(repeating: "·", count: width - filled) + "]"
        let others = TaskStatus.State.allCases.filter { $0 != .succeeded }.compactMap { state in
            counts[state].map { "\($0) \(state.rawValue)" }
        }
        return "\(bar) \(done)/\(statuses.count) succeeded" + (others.isEmpty ? "" : ", " + others.joined(separator: ", "))
    }
}

/// Submitting and resubmitting a job's tasks.
public enum BatchSubmission {
    /// Writes the script of `tasks` into the state directory, submits it (Slurm) and records the
    /// submission in `batch.json`. For HTCondor the submit description is written for the user
    /// to pass to `condor_submit`.
    @discardableResult
    public static func submit(_ job: inout BatchJob, in directory: BatchDirectory, tasks: [Int]) throws -> BatchJob.Submission {
        try FileManager.default.createDirectory(atPath: directory.logDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory.taskDirectory, withIntermediateDirectories: true)
        let number = job.submissions.count + 1
        let submission: BatchJob.Submission
        switch job.scheduler {
        case .slurm:
            let script = directory.file("submit-\(number).sbatch")
            try AtomicFile.write(SlurmScript.text(job: job, directory: directory, tasks: tasks), to: script)
            let jobID = try SlurmClient.submit(script: script, tasks: tasks)
            submission = BatchJob.Submission(jobID: jobID, tasks: tasks, script: (script as NSString).lastPathComponent, date: Date())
        case .htcondor:
            let file = directory.file("submit-\(number).sub")
            try AtomicFile.write(try HTCondorSubmit.text(job: job, directory: directory, tasks: tasks), to: file)
            submission = BatchJob.Submission(jobID: nil, tasks: tasks, script: (file as NSString).lastPathComponent, date: Date())
        }
        job.submissions.append(submission)
        try directory.save(job)
        return submission
    }

    /// Resubmits the failed and missing tasks (their old records are removed, their logs kept).
    public static func resubmit(_ directory: BatchDirectory) throws -> BatchJob.Submission {
        var job = try directory.load()
        let statuses = try BatchStatus.tasks(of: job, in: directory)
        let tasks = statuses.filter { $0.state == .failed || $0.state == .missing }.map(\.task)
        guard !tasks.isEmpty else { throw BatchError("no failed or missing task to resubmit: \(BatchStatus.summary(statuses))") }
        for task in tasks where FileManager.default.fileExists(atPath: directory.taskRecordFile(task: task)) {
            try FileManager.default.removeItem(atPath: directory.taskRecordFile(task: task))
        }
        return try submit(&job, in: directory, tasks: tasks)
    }

    /// Fails unless every task succeeded, naming those that did not.
    public static func requireAllSucceeded(_ statuses: [TaskStatus]) throws {
        let unfinished = statuses.filter { $0.state != .succeeded }
        guard unfinished.isEmpty else {
            throw BatchError("not every task succeeded: \(BatchStatus.summary(statuses)); "
                + unfinished.prefix(10).map { "task \($0.task) \($0.state.rawValue)" }.joined(separator: ", ")
                + (unfinished.count > 10 ? ", …" : ""))
        }
    }
}
