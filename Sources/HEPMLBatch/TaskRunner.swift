import Foundation

/// What every array task runs (`hepml batch run-task DIR TASK`, from the Slurm script or the
/// HTCondor submit file): the job's command with this task's placeholders filled in, run in the
/// submission's working directory, with its start and end written to `tasks/<task>.json`, so
/// that `status` works without the batch system's accounting and a sweep report can show a
/// failed point's error.
public enum TaskRunner {
    /// The lines of standard error kept for a failed task's record.
    static let errorTailLines = 20

    /// Runs the task and returns its command's exit status (128 + signal when it was killed).
    public static func run(directory: BatchDirectory, task: Int) throws -> Int32 {
        let job = try directory.load()
        let arguments = try job.arguments(task: task, directory: directory)
        if job.kind == .sweep {
            try FileManager.default.createDirectory(atPath: directory.runDirectory(task: task), withIntermediateDirectories: true)
        }
        let environment = ProcessInfo.processInfo.environment
        var record = TaskRecord(task: task, state: .started, host: ProcessInfo.processInfo.hostName,
                                jobID: environment["SLURM_ARRAY_JOB_ID"] ?? environment["CONDOR_CLUSTER_ID"], started: Date())
        try directory.write(record)

        let process = Process()
        if arguments.first == "hepml" {
            process.executableURL = URL(fileURLWithPath: job.executable)
            process.arguments = Array(arguments.dropFirst())
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
        }
        process.currentDirectoryURL = URL(fileURLWithPath: job.workingDirectory)
        let errorPipe = Pipe()
        process.standardError = errorPipe
        var status: Int32
        var errorTail = Data()
        do {
            try process.run()
            // Standard error goes on to the task's log and its end is kept for the record.
            while true {
                let chunk = errorPipe.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                FileHandle.standardError.write(chunk)
                errorTail.append(chunk)
                if errorTail.count > 16384 { errorTail = errorTail.suffix(8192) }
            }
            process.waitUntilExit()
            status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        } catch {
            status = 127
            errorTail = Data("cannot start \(arguments.first ?? ""): \(error)\n".utf8)
        }
        record.state = status == 0 ? .succeeded : .failed
        record.exitCode = status
        record.finished = Date()
        if status != 0 {
            let lines = String(decoding: errorTail, as: UTF8.self).split(whereSeparator: \.isNewline)
            record.errorTail = lines.suffix(errorTailLines).joined(separator: "\n")
        }
        try directory.write(record)
        return status
    }
}
