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

    /// `../shared` beside the checkout, or nil (after printing a visible "skipped: …" line for
    /// `what`) when a user's clone does not have it.
    public static func sharedDirectory(for what: String) -> URL? {
        let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
        if FileManager.default.fileExists(atPath: shared.path) { return shared }
        print("skipped: \(what) (../shared is absent)")
        return nil
    }

    /// Real ROOT files written by C++ ROOT, or nil with a "skipped" line.
    public static func rootTestFile(_ name: String, for what: String) -> URL? {
        sharedDirectory(for: what)?.appendingPathComponent("testdata/root/\(name)")
    }

    /// The interop virtual environment's interpreter (`HEPML_PYTHON`, set by `make test`), or nil
    /// with a "skipped" line when it is not set up.
    public static func python(for what: String) -> String? {
        if let path = ProcessInfo.processInfo.environment["HEPML_PYTHON"], FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        let venv = packageRoot.appendingPathComponent(".venv-interop/bin/python").path
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        print("skipped: \(what) (no interop Python environment; run `make interop-venv`)")
        return nil
    }

    /// A fresh temporary directory, removed by the caller when it is done.
    public static func temporaryDirectory(_ label: String = "hepml-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
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
