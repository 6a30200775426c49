import Foundation
import HEPMLCore

/// The one way to open a file by what a user typed: a local path, `root://…`, `https://…`,
/// `http://…` or `davs://…`. Every reader that takes a file name (ROOT files above all) opens it
/// here, so every command accepts URLs.
public enum RemoteFiles {
    public static func open(_ location: String) throws -> any ByteSource {
        switch try RemoteLocation(location) {
        case .local(let path): return try FileSource(path: path)
        case .xrootd(let url): return try XRootDSource(url: url, path: location)
        case .http(let url): return try HTTPRangeSource(url: url, path: location)
        }
    }

    /// The files below a remote directory, recursively, as URLs (XRootD only: plain web servers
    /// have no listing HEPML reads).
    public static func listFiles(in directory: String) throws -> [String] {
        switch try RemoteLocation(directory) {
        case .xrootd(let url):
            return try XRootDClient.shared.listFilesRecursively(url).map(\.description)
        case .http:
            throw RemoteError.listingNotSupported(url: directory)
        case .local:
            throw RemoteError.badURL(url: directory, reason: "not a remote directory")
        }
    }

    /// Whether a remote location is a directory (XRootD stat); URLs of other schemes are files.
    public static func isDirectory(_ location: String) throws -> Bool {
        guard case .xrootd(let url) = try RemoteLocation(location) else { return false }
        return try XRootDClient.shared.stat(url).isDirectory
    }
}

extension RemoteFiles {
    /// The server a location is read from (`host:port`), nil for a local path.
    public static func host(of location: String) -> String? {
        switch try? RemoteLocation(location) {
        case .xrootd(let url): return url.server.description
        case .http(let url): return URL(string: url).map { "\($0.host ?? ""):\($0.port ?? 0)" }
        case .local, nil: return nil
        }
    }

    /// Runs `body(i)` for each of `locations` and returns the results in order. Local files go to
    /// the worker pool (`Parallel.map`, one per core); as soon as one location is remote the work
    /// mostly waits on the network, so it runs on threads of its own, at most `filesPerHost`
    /// files at once per host.
    public static func map<T: Sendable>(_ locations: [String], settings: RemoteSettings = .fromEnvironment(),
                                        _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        let hosts = locations.map(host(of:))
        let distinctHosts = Set(hosts.compactMap { $0 })
        guard !distinctHosts.isEmpty else { return try Parallel.map(locations.count, body) }
        let slots = Dictionary(uniqueKeysWithValues: distinctHosts.map { ($0, DispatchSemaphore(value: settings.filesPerHost)) })
        let threads = settings.filesPerHost * distinctHosts.count + (hosts.contains(nil) ? Parallel.threadCount : 0)
        return try Parallel.mapOnThreads(locations.count, threads: threads) { index in
            let slot = hosts[index].flatMap { slots[$0] }
            slot?.wait()
            defer { slot?.signal() }
            return try body(index)
        }
    }
}
