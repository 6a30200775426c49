import Foundation
import HEPMLTestSupport
import Testing

/// Real servers on loopback, started by the tests (Debian's `xrootd-server` and `nginx`,
/// installed by scripts/install-deps.sh), stopped by PID.
enum LoopbackServers {
    static let xrootdExecutable: String? = ["/usr/bin/xrootd", "/usr/local/bin/xrootd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let nginxExecutable: String? = ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// xrootd refuses to run as root: as root the server runs as `nobody` (`-R nobody`); as
    /// another user it runs as that user.
    static var unprivilegedUser: (name: String, uid: uid_t, gid: gid_t)? {
        guard geteuid() == 0 else { return (String(cString: getpwuid(geteuid()).pointee.pw_name), geteuid(), getegid()) }
        guard let entry = getpwnam("nobody") else { return nil }
        return ("nobody", entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    /// Waits until something accepts connections on the port.
    static func waitForPort(_ port: Int, seconds: Double = 15) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let connection = LoopbackSocket.connect(port: port) {
                close(connection)
                return true
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    enum ServerError: Error, CustomStringConvertible {
        case failed(String)
        var description: String { if case .failed(let text) = self { return text }; return "" }
    }

    /// Makes `directory` and everything in it readable by the server's user.
    static func shareReadable(_ directory: URL) throws {
        guard let user = unprivilegedUser else { return }
        let walker = FileManager.default.enumerator(atPath: directory.path)
        var paths = [directory.path]
        while let relative = walker?.nextObject() as? String { paths.append(directory.appendingPathComponent(relative).path) }
        for path in paths {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            chmod(path, isDirectory.boolValue ? 0o755 : 0o644)
            chown(path, user.uid, user.gid)
        }
    }
}

/// One xrootd process serving `exported` on a free loopback port.
final class XRootDServerProcess {
    let port: Int
    let process: Process
    let workDirectory: URL

    /// `extraConfiguration` lines go into the configuration file (security, redirects).
    init(exporting exported: String, extraConfiguration: [String] = []) throws {
        guard let executable = LoopbackServers.xrootdExecutable, let user = LoopbackServers.unprivilegedUser else {
            throw LoopbackServers.ServerError.failed("xrootd or an unprivileged user is missing")
        }
        workDirectory = try TestEnvironment.temporaryDirectory("xrootd-server")
        port = try TestEnvironment.freeLoopbackPort()
        let configuration = (["all.export \(exported)", "all.adminpath \(workDirectory.path)", "all.pidpath \(workDirectory.path)"]
            + extraConfiguration).joined(separator: "\n") + "\n"
        let configurationFile = workDirectory.appendingPathComponent("xrootd.cfg")
        try configuration.write(to: configurationFile, atomically: true, encoding: .utf8)
        try LoopbackServers.shareReadable(workDirectory)
        chmod(workDirectory.path, 0o777)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        var arguments = ["-p", String(port), "-c", configurationFile.path, "-l", workDirectory.appendingPathComponent("log").path, "-n", "hepml"]
        if geteuid() == 0 { arguments += ["-R", user.name] }
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard LoopbackServers.waitForPort(port) else {
            stop()
            throw LoopbackServers.ServerError.failed("xrootd did not start on port \(port) (log in \(workDirectory.path))")
        }
    }

    /// The URL of a path on this server.
    func url(_ path: String) -> String { "root://127.0.0.1:\(port)/\(path.hasPrefix("/") ? path : "/" + path)" }

    /// Kills the server at once (a crash, as far as clients can tell).
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGKILL: xrootd keeps serving for a while after SIGTERM, and it holds nothing to save here.
    func stop() {
        kill()
        try? FileManager.default.removeItem(at: workDirectory)
    }

    deinit { stop() }
}

/// nginx serving `root` on a free loopback port: `/ranges/…` honours Range requests,
/// `/noranges/…` answers every request with the whole file (`max_ranges 0`).
final class NginxProcess {
    let port: Int
    let process: Process
    let workDirectory: URL

    init(serving root: URL) throws {
        guard let executable = LoopbackServers.nginxExecutable else { throw LoopbackServers.ServerError.failed("nginx is missing") }
        workDirectory = try TestEnvironment.temporaryDirectory("nginx-server")
        port = try TestEnvironment.freeLoopbackPort()
        let work = workDirectory.path
        var user = ""
        if geteuid() == 0, let account = LoopbackServers.unprivilegedUser, let group = getgrgid(account.gid) {
            user = "user \(account.name) \(String(cString: group.pointee.gr_name));"
        }
        let configuration = """
            \(user)
            daemon off;
            worker_processes 1;
            pid \(work)/nginx.pid;
            error_log \(work)/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(work)/body;
                proxy_temp_path \(work)/proxy;
                fastcgi_temp_path \(work)/fastcgi;
                uwsgi_temp_path \(work)/uwsgi;
                scgi_temp_path \(work)/scgi;
                server {
                    listen 127.0.0.1:\(port);
                    location /ranges/ { alias \(root.path)/; }
                    location /noranges/ { alias \(root.path)/; max_ranges 0; }
                }
            }
            """
        let configurationFile = workDirectory.appendingPathComponent("nginx.conf")
        try configuration.write(to: configurationFile, atomically: true, encoding: .utf8)
        try LoopbackServers.shareReadable(root)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-c", configurationFile.path, "-p", work, "-e", "\(work)/error.log"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard LoopbackServers.waitForPort(port) else {
            stop()
            throw LoopbackServers.ServerError.failed("nginx did not start on port \(port)")
        }
    }

    func url(_ location: String, _ name: String) -> String { "http://127.0.0.1:\(port)/\(location)/\(name)" }

    func stop() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: workDirectory)
    }

    deinit { stop() }
}

extension Trait where Self == ConditionTrait {
    /// The test starts Debian's xrootd on loopback.
    static var requiresXRootD: Self {
        .enabled(if: LoopbackServers.xrootdExecutable != nil && LoopbackServers.unprivilegedUser != nil,
                 "xrootd is not installed (Debian package xrootd-server; scripts/install-deps.sh installs it)")
    }

    /// The test starts Debian's nginx on loopback.
    static var requiresNginx: Self {
        .enabled(if: LoopbackServers.nginxExecutable != nil, "nginx is not installed (Debian package nginx; scripts/install-deps.sh installs it)")
    }
}
