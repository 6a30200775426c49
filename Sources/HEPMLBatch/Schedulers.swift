import Foundation

/// Task lists as batch systems write them: `0-3,7,9-10`.
public enum TaskList {
    public static func compressed(_ tasks: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        let sorted = Array(Set(tasks)).sorted()
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count, sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts.append(end == index ? String(sorted[index]) : "\(sorted[index])-\(sorted[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}

/// The `sbatch` script of a job array: every task runs `hepml batch run-task DIR $SLURM_ARRAY_TASK_ID`,
/// which substitutes the placeholders, runs the command and records how it ended.
public enum SlurmScript {
    public static func text(job: BatchJob, directory: BatchDirectory, tasks: [Int]) -> String {
        var lines = [
            "#!/bin/bash",
            "# Written by `hepml batch` for \(job.taskCount) task(s) of: \(job.command.joined(separator: " "))",
            "#SBATCH --job-name=\(job.resources.jobName)",
            "#SBATCH --array=\(TaskList.compressed(tasks))",
            "#SBATCH --output=\(directory.logDirectory)/%A_%a.out",
            "#SBATCH --error=\(directory.logDirectory)/%A_%a.err",
            "#SBATCH --chdir=\(job.workingDirectory)",
            "#SBATCH --cpus-per-task=\(job.resources.cpus)",
        ]
        if let memory = job.resources.memory { lines.append("#SBATCH --mem=\(memory)") }
        if let time = job.resources.time { lines.append("#SBATCH --time=\(time)") }
        if let partition = job.resources.partition { lines.append("#SBATCH --partition=\(partition)") }
        lines += [
            "# HEPML's worker threads: the CPUs Slurm allocated to this task.",
            "export HEPML_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"",
            "exec \(shellQuoted(job.executable)) batch run-task \(shellQuoted(directory.path)) \"$SLURM_ARRAY_TASK_ID\"",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// The HTCondor submit description of a job array, for CERN's batch service (`condor_submit FILE`).
/// Generated to match the Slurm script; not tested against an HTCondor pool here.
public enum HTCondorSubmit {
    /// CERN's job flavours and their maximum run times in seconds.
    public static let flavours: [(name: String, seconds: Int)] = [
        ("espresso", 20 * 60), ("microcentury", 3600), ("longlunch", 2 * 3600), ("workday", 8 * 3600),
        ("tomorrow", 86400), ("testmatch", 3 * 86400), ("nextweek", 7 * 86400),
    ]

    /// The shortest flavour that allows `seconds`; `workday` (the service's default) without a time.
    public static func flavour(forTime time: String?) throws -> String {
        guard let time else { return "workday" }
        let seconds = try BatchResources.seconds(ofSlurmTime: time)
        guard let flavour = flavours.first(where: { $0.seconds >= seconds }) else {
            throw BatchError("--time \(time) is longer than HTCondor's longest job flavour (nextweek, one week)")
        }
        return flavour.name
    }

    public static func text(job: BatchJob, directory: BatchDirectory, tasks: [Int]) throws -> String {
        var lines = [
            "# Written by `hepml batch` for \(job.taskCount) task(s) of: \(job.command.joined(separator: " "))",
            "universe       = vanilla",
            "executable     = \(job.executable)",
            "arguments      = \"batch run-task \(argumentQuoted(directory.path)) $(task)\"",
            "initialdir     = \(job.workingDirectory)",
            "output         = \(directory.logDirectory)/$(ClusterId)_$(task).out",
            "error          = \(directory.logDirectory)/$(ClusterId)_$(task).err",
            "log            = \(directory.logDirectory)/$(ClusterId).log",
            "request_cpus   = \(job.resources.cpus)",
        ]
        if let memory = job.resources.memory { lines.append("request_memory = \(memory)") }
        lines += [
            "environment    = \"HEPML_NUM_THREADS=\(job.resources.cpus)\"",
            "+JobFlavour    = \"\(try flavour(forTime: job.resources.time))\"",
            "batch_name     = \(job.resources.jobName)",
        ]
        let sorted = Array(Set(tasks)).sorted()
        if sorted == Array(0..<job.taskCount) {
            lines.append("queue task from seq 0 \(job.taskCount - 1) |")
        } else {
            lines.append("queue task in (\(sorted.map(String.init).joined(separator: ", ")))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// HTCondor's argument syntax: whitespace separates, single quotes group, '' is a quote.
    static func argumentQuoted(_ text: String) -> String {
        guard text.contains(where: { $0 == " " || $0 == "'" || $0 == "\"" }) else { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "''").replacingOccurrences(of: "\"", with: "\"\"") + "'"
    }
}

/// Slurm's command-line tools (`sbatch`, `squeue`, `sacct`), found on the PATH.
public enum SlurmClient {
    /// Submits `script` and returns the array job ID.
    public static func submit(script: String, tasks: [Int]) throws -> String {
        let result = try ExternalCommand.run("sbatch", ["--parsable", "--array=\(TaskList.compressed(tasks))", script])
        guard result.status == 0 else { throw BatchError("sbatch failed (exit \(result.status)): \(result.standardError)") }
        guard let id = result.standardOutput.split(separator: ";").first?.trimmingCharacters(in: .whitespacesAndNewlines),
              !id.isEmpty, id.allSatisfy(\.isNumber)
        else { throw BatchError("sbatch printed no job ID: \(result.standardOutput)") }
        return id
    }

    /// Tasks of `jobIDs` that Slurm still holds (pending, running, completing), as
    /// `[jobID: [task: state]]`.
    public static func queue(jobIDs: [String]) throws -> [String: [Int: String]] {
        guard !jobIDs.isEmpty else { return [:] }
        let result = try ExternalCommand.run("squeue", ["--noheader", "--array", "--me", "--format=%F|%K|%T"])
        guard result.status == 0 else { throw BatchError("squeue failed (exit \(result.status)): \(result.standardError)") }
        let wanted = Set(jobIDs)
        var states: [String: [Int: String]] = [:]
        for line in result.standardOutput.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "|").map(String.init)
            guard fields.count == 3, wanted.contains(fields[0]) else { continue }
            for task in taskIDs(fields[1]) { states[fields[0], default: [:]][task] = fields[2] }
        }
        return states
    }

    /// Final states from Slurm's accounting (`sacct`) as `[jobID: [task: (state, exit code)]]`,
    /// or nil when the cluster keeps no accounting.
    public static func accounting(jobIDs: [String]) -> [String: [Int: (state: String, exitCode: String)]]? {
        guard !jobIDs.isEmpty,
              let result = try? ExternalCommand.run("sacct", ["--noheader", "--parsable2", "--allocations", "--jobs=\(jobIDs.joined(separator: ","))",
                                                               "--format=JobID,State,ExitCode"]),
              result.status == 0
        else { return nil }
        var states: [String: [Int: (state: String, exitCode: String)]] = [:]
        for line in result.standardOutput.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "|").map(String.init)
            let id = fields.first?.split(separator: "_", maxSplits: 1).map(String.init) ?? []
            guard fields.count == 3, id.count == 2 else { continue }
            let state = fields[1].split(separator: " ").first.map(String.init) ?? fields[1]
            for task in taskIDs(id[1]) { states[id[0], default: [:]][task] = (state: state, exitCode: fields[2]) }
        }
        return states
    }

    /// `7`, or `[4-6,9]` / `4-6,9%2` as Slurm prints a pending array's tasks.
    static func taskIDs(_ text: String) -> [Int] {
        let list = text.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: "%").first ?? ""
        return list.split(separator: ",").flatMap { range -> [Int] in
            let bounds = range.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 2, bounds[0] <= bounds[1], bounds[1] - bounds[0] < 1_000_000 { return Array(bounds[0]...bounds[1]) }
            return bounds.count == 1 ? bounds : []
        }
    }
}

/// Runs a program found on the PATH and collects its output.
enum ExternalCommand {
    static func run(_ name: String, _ arguments: [String]) throws -> (status: Int32, standardOutput: String, standardError: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [name] + arguments
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Read both pipes while the program runs, so that neither can fill up and block it.
        let errorData = ReadResult()
        let errorRead = DispatchGroup()
        DispatchQueue.global().async(group: errorRead) { errorData.data = error.fileHandleForReading.readDataToEndOfFile() }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        errorRead.wait()
        process.waitUntilExit()
        if process.terminationStatus == 127 {
            throw BatchError("\(name) is not installed on this machine (not found on the PATH)")
        }
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData.data, as: UTF8.self))
    }
}

/// The bytes one reader thread hands to the waiting one; the dispatch group's wait orders the accesses.
private final class ReadResult: @unchecked Sendable {
    var data = Data()
}
