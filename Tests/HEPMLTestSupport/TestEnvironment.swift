import Foundation

/// Locations and external tools that tests need, found the same way in every test target.
public enum TestEnvironment {
    /// The package root (the directory holding Package.swift), found from this source file.
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url = url.deletingLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// The shared specs and test data: `HEPML_SHARED_DIR` when set (a copy elsewhere), else
    /// `../shared` beside the checkout; nil when that directory does not exist, as in a user's clone.
    public static let sharedDirectoryIfPresent: URL? = {
        let shared = ProcessInfo.processInfo.environment["HEPML_SHARED_DIR"].map { URL(fileURLWithPath: $0) }
            ?? packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
        return FileManager.default.fileExists(atPath: shared.path) ? shared : nil
    }()

    /// The interop virtual environment's interpreter: `HEPML_PYTHON` (set by `make test`), else
    /// the checkout's `.venv-interop`; nil when neither is there.
    public static let pythonIfPresent: String? = {
        if let path = ProcessInfo.processInfo.environment["HEPML_PYTHON"], FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        let venv = packageRoot.appendingPathComponent(".venv-interop/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }()

    /// The Python of the C++ ROOT test environment (the PyPI package `root`, kept apart from the
    /// interop environment because of its size): `HEPML_ROOT_PYTHON` (set by `make test`), else the
    /// checkout's `.venv-root`; nil when neither is there.
    public static let cppROOTPythonIfPresent: String? = {
        if let path = ProcessInfo.processInfo.environment["HEPML_ROOT_PYTHON"], FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        let venv = packageRoot.appendingPathComponent(".venv-root/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }()

    /// What a test needs and this run lacks: the reason `swift test` prints beside a test that
    /// the `.requiresShared` / `.requiresPython` traits skip, and the error of the accessors
    /// below when a test uses them without the trait.
    public enum Missing: Error, CustomStringConvertible {
        case shared, python, cppROOT

        public var description: String {
            switch self {
            case .shared: return "../shared is absent (set HEPML_SHARED_DIR to use a copy elsewhere)"
            case .python: return "no interop Python environment (set HEPML_PYTHON or run `make interop-venv`)"
            case .cppROOT: return "no C++ ROOT environment (set HEPML_ROOT_PYTHON or run `make interop-venv`, which installs `root` into .venv-root)"
            }
        }
    }

    /// The shared directory, in tests marked `.requiresShared`.
    public static func sharedDirectory() throws -> URL {
        guard let sharedDirectoryIfPresent else { throw Missing.shared }
        return sharedDirectoryIfPresent
    }

    /// A real ROOT file written by C++ ROOT, in tests marked `.requiresShared`.
    public static func rootTestFile(_ name: String) throws -> URL {
        try sharedDirectory().appendingPathComponent("testdata/root/\(name)")
    }

    /// The interpreter that imports C++ ROOT, in tests marked `.requiresCppROOT`.
    public static func cppROOTPython() throws -> String {
        guard let cppROOTPythonIfPresent else { throw Missing.cppROOT }
        return cppROOTPythonIfPresent
    }

    /// The interop interpreter, in tests marked `.requiresPython`.
    public static func python() throws -> String {
        guard let pythonIfPresent else { throw Missing.python }
        return pythonIfPresent
    }

    /// A fresh temporary directory, removed by the caller when it is done and in any case when
    /// the test process exits (fixtures shared by a whole process have no caller to remove them).
    public static func temporaryDirectory(_ label: String = "hepml-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        TemporaryDirectories.shared.removeAtExit(url)
        return url
    }

    /// Runs a program and returns its exit status and combined output.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs a Python script text with the interop interpreter.
    public static func runPython(_ python: String, script: String, arguments: [String] = []) throws -> (status: Int32, output: String) {
        try run(python, ["-c", script] + arguments)
    }

    /// Why this machine cannot run a private Slurm for the batch tests, nil when it can: the
    /// daemons must run as root (slurmd starts jobs as their users) and the binaries of the
    /// Debian packages slurm-wlm and munge must be installed.
    public static let slurmMissingReason: String? = {
        guard geteuid() == 0 else { return "starting slurmctld/slurmd needs root (run the tests as root to include the Slurm tests)" }
        let missing = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo"].filter { executable(named: $0) == nil }
        return missing.isEmpty ? nil : "Slurm is not installed (missing \(missing.joined(separator: ", ")); `make test` installs slurm-wlm and munge)"
    }()

    /// A program on the PATH or in /usr/sbin (where Debian puts the daemons).
    public static func executable(named name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        return directories.map { ($0 as NSString).appendingPathComponent(name) }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A TCP port on 127.0.0.1 that nobody listens on now (bound to port 0, read back, released),
    /// for the servers and daemons the tests start on loopback.
    public static func freeLoopbackPort() throws -> Int {
        struct NoFreePort: Error, CustomStringConvertible { var description: String }
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw NoFreePort(description: "socket() failed: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw NoFreePort(description: "cannot bind a free port on 127.0.0.1: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The built `hepml` executable next to the test bundle (same build folder).
    public static var hepmlExecutable: String? {
        let bundle = Bundle.main.bundleURL
        let candidates = [
            bundle.deletingLastPathComponent().appendingPathComponent("hepml").path,
            bundle.appendingPathComponent("hepml").path,
        ]
        for directory in [bundle, bundle.deletingLastPathComponent()] {
            let candidate = directory.appendingPathComponent("hepml").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// The directories `TestEnvironment.temporaryDirectory` made, removed by an `atexit` handler.
final class TemporaryDirectories: @unchecked Sendable {
    static let shared = TemporaryDirectories()
    private let lock = NSLock()
    private var urls: [URL] = []

    private init() {
        atexit { TemporaryDirectories.shared.removeAll() }
    }

    func removeAtExit(_ url: URL) {
        lock.lock()
        urls.append(url)
        lock.unlock()
    }

    private func removeAll() {
        lock.lock()
        let made = urls
        lock.unlock()
        for url in made { try? FileManager.default.removeItem(at: url) }
    }
}
