import Foundation
import Testing

/// Headless Chromium for the tests that open pages as a reader would (the Debian package
/// `chromium`, installed by `scripts/install-deps.sh --with-browser`).
public enum Chromium {
    public static let executable: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs Chromium headless with a private profile and returns what it printed; output goes to
    /// a file in `directory` (a full pipe would stall the browser) and a stuck browser is killed
    /// after `timeout` seconds (recorded as an issue).
    public static func run(_ arguments: [String], in directory: URL, timeout: Double = 90) throws -> String {
        let chromium = try #require(executable)
        let profile = try TestEnvironment.temporaryDirectory("hepml-chromium-profile")
        defer { try? FileManager.default.removeItem(at: profile) }
        let outputPath = directory.appendingPathComponent("chromium-\(UUID().uuidString).out")
        guard FileManager.default.createFile(atPath: outputPath.path, contents: nil) else {
            Issue.record("cannot create \(outputPath.path)")
            return ""
        }
        defer { try? FileManager.default.removeItem(at: outputPath) }
        let output = try FileHandle(forWritingTo: outputPath)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                             "--hide-scrollbars", "--user-data-dir=\(profile.path)"] + arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("chromium did not finish within \(timeout) s")
        }
        process.waitUntilExit()
        try output.close()
        return try String(contentsOf: outputPath, encoding: .utf8)
    }
}

extension Trait where Self == ConditionTrait {
    /// The test opens pages in headless Chromium.
    public static var requiresChromium: Self {
        .enabled(if: Chromium.executable != nil, "chromium is not installed (Debian package chromium: scripts/install-deps.sh --with-browser)")
    }
}
