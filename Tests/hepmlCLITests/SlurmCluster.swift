import Foundation
import HEPMLTestSupport

/// A private single-node Slurm on localhost for the batch tests: `munged` with a fresh key,
/// `slurmctld` and `slurmd` from a `slurm.conf` in a temporary directory (free ports, own state,
/// spool, PID and log files; the node's real CPU count and memory; process tracking and task
/// launch that need no cgroups, so that it runs in a container). Commands reach it through
/// `environment` (`SLURM_CONF`). `stop()` ends exactly the daemons it started, by PID.
///
/// The daemons are started with `posix_spawn`, not `Process`: a test thread blocks every signal
/// and children inherit that mask (slurmd and munged would then ignore SIGTERM), and Foundation's
/// `Process` takes a daemon that closes its inherited descriptors for exited and waits on it.
final class SlurmCluster {
    let directory: URL
    let configuration: String
    private var daemons: [(name: String, pid: pid_t)] = []

    var environment: [String: String] { ["SLURM_CONF": configuration] }

    /// Starts the daemons and waits (up to 60 s) for the node to be idle.
    init() throws {
        // Unix socket paths are limited to 107 bytes: stay short, under /tmp.
        directory = URL(fileURLWithPath: "/tmp/hepml-slurm-\(UUID().uuidString.prefix(8))")
        configuration = directory.appendingPathComponent("slurm.conf").path
        for sub in ["state", "spool", "log"] {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        // munged refuses a socket directory others can write to and a key others can read.
        try FileManager.default.setAttributes([.posixPermissions: 0o711], ofItemAtPath: directory.path)
        let key = directory.appendingPathComponent("munge.key").path
        guard let random = FileHandle(forReadingAtPath: "/dev/urandom") else { throw ClusterError("cannot read /dev/urandom for the munge key") }
        let keyBytes = random.readData(ofLength: 1024)
        try random.close()
        guard FileManager.default.createFile(atPath: key, contents: keyBytes, attributes: [.posixPermissions: 0o400]) else {
            throw ClusterError("cannot write \(key)")
        }
        let socket = directory.appendingPathComponent("munge.socket").path
        let path = directory.path
        let memoryMiB = Int(Double(ProcessInfo.processInfo.physicalMemory) / 1_048_576 * 0.99)
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        let controllerPort = try TestEnvironment.freeLoopbackPort(), nodePort = try TestEnvironment.freeLoopbackPort()
        let conf = """
            ClusterName=hepmltest
            SlurmctldHost=localhost(127.0.0.1)
            SlurmctldPort=\(controllerPort)
            SlurmdPort=\(nodePort)
            SlurmUser=root
            SlurmdUser=root
            AuthType=auth/munge
            CredType=cred/munge
            AuthInfo=socket=\(socket)
            StateSaveLocation=\(path)/state
            SlurmdSpoolDir=\(path)/spool
            SlurmctldPidFile=\(path)/slurmctld.pid
            SlurmdPidFile=\(path)/slurmd.pid
            SlurmctldLogFile=\(path)/log/slurmctld.log
            SlurmdLogFile=\(path)/log/slurmd.log
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            JobAcctGatherType=jobacct_gather/none
            AccountingStorageType=accounting_storage/none
            SchedulerType=sched/backfill
            SelectType=select/cons_tres
            SelectTypeParameters=CR_Core_Memory
            MpiDefault=none
            ReturnToService=2
            InactiveLimit=0
            KillWait=5
            MinJobAge=600
            NodeName=hepmlnode NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=\(cpus) RealMemory=\(memoryMiB) State=UNKNOWN
            PartitionName=hepml Nodes=hepmlnode Default=YES MaxTime=INFINITE State=UP

            """
        try conf.write(toFile: configuration, atomically: true, encoding: .utf8)
        do {
            try start("munged", ["--foreground", "--force", "--socket=\(socket)", "--key-file=\(key)", "--pid-file=\(path)/munged.pid",
                                 "--seed-file=\(path)/munged.seed", "--log-file=\(path)/log/munged.log"])
            try waitFor("the munge socket", seconds: 20) { FileManager.default.fileExists(atPath: socket) }
            try start("slurmctld", ["-D", "-i", "-f", configuration])
            try start("slurmd", ["-D", "-f", configuration, "-N", "hepmlnode"])
            try waitFor("the node to be idle", seconds: 60) {
                let state = try? TestEnvironment.run(TestEnvironment.executable(named: "sinfo") ?? "sinfo", ["--noheader", "--format=%T"], environment: environment)
                return state?.output.trimmingCharacters(in: .whitespacesAndNewlines) == "idle"
            }
        } catch {
            stop()
            throw error
        }
    }

    /// Spawns a daemon in the foreground with an empty signal mask, default signal actions,
    /// stdin from /dev/null, stdout and stderr to `log/<name>.out`, and none of this process's
    /// other descriptors.
    private func start(_ name: String, _ arguments: [String]) throws {
        guard let executable = TestEnvironment.executable(named: name) else { throw ClusterError("\(name) is not installed") }
        let log = directory.appendingPathComponent("log/\(name).out").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor in 3..<max(3, getdtablesize()) {
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0 && flags & FD_CLOEXEC == 0 { posix_spawn_file_actions_addclose(&actions, descriptor) }
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t(), defaults = sigset_t()
        sigemptyset(&mask)
        sigfillset(&defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let status = argv.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.map { posix_spawn(&pid, executable, &actions, &attributes, $0, environ) } ?? EINVAL
        }
        guard status == 0 else { throw ClusterError("cannot start \(name): \(String(cString: strerror(status)))") }
        daemons.append((name, pid))
    }

    /// Whether the daemon `pid` is still running (reaping it if it has exited).
    private static func isRunning(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    private func waitFor(_ what: String, seconds: Double, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            if let dead = daemons.first(where: { !Self.isRunning($0.pid) }) {
                throw ClusterError("\(dead.name) exited while waiting for \(what):\n\(logs())")
            }
            usleep(250_000)
        }
        throw ClusterError("timed out after \(Int(seconds)) s waiting for \(what):\n\(logs())")
    }

    /// The end of every daemon's log, for a failure message.
    func logs() -> String {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("log").path)) ?? []
        return files.sorted().map { name in
            let text = (try? String(contentsOfFile: directory.appendingPathComponent("log/\(name)").path, encoding: .utf8)) ?? ""
            return "--- \(name)\n" + text.split(whereSeparator: \.isNewline).suffix(15).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// Stops the daemons it started (slurmd, slurmctld, then munged), each by its PID, and
    /// removes the directory.
    func stop() {
        for (_, pid) in daemons.reversed() where Self.isRunning(pid) {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(15)
            while Self.isRunning(pid) && Date() < deadline { usleep(100_000) }
            if Self.isRunning(pid) {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
        }
        daemons = []
        try? FileManager.default.removeItem(at: directory)
    }

    struct ClusterError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
