import ArgumentParser
import Foundation
import HEPMLCore
import HEPMLHCAL
import HEPMLHCALServe

struct HCALServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve",
        abstract: "Live HCAL monitor: score lumisections as they arrive (HTTP POST or --watch), store results in SQLite, serve the API and the dashboard.",
        discussion: "See docs/hcal-serve.md. Stops gracefully on SIGINT/SIGTERM (queued lumisections are committed first).")
    @Option(name: .shortAndLong, help: "Run directory of the trained model.") var model: String
    @Option(help: "Address to listen on, host:port (localhost unless told otherwise).") var listen = "127.0.0.1:8080"
    @Option(help: "Data directory: the SQLite results (the only place the server writes).") var data = "hcal-serve-data"
    @Option(help: "Directory of Hcal4DQMAnalyzer ROOT files to ingest as they appear or grow.") var watch: String?
    @Option(help: "File whose first line is the bearer token that ingestion needs.") var tokenFile: String?
    @Option(help: "Raw and score maps kept per run, newest LS (at least the window length − 1).") var keepMaps = 50
    @Option(help: "Largest accepted request body in bytes.") var maxBody = 4 << 20
    @Option(help: "Flag threshold on |e|/σ.") var threshold = Double(HCALScorer.defaultThreshold)

    func run() throws {
        let (host, port) = try Self.address(listen)
        var options = HCALServer.Options(modelDirectory: model)
        options.host = host
        options.port = port
        options.dataDirectory = data
        options.watchDirectory = watch
        options.token = try tokenFile.map(HCALServer.token(fromFile:))
        options.keepMaps = keepMaps
        options.maximumBody = maxBody
        options.threshold = Float(threshold)
        guard keepMaps >= 1, maxBody >= 1024 else { throw ValidationError("--keep-maps must be ≥ 1 and --max-body ≥ 1024") }
        setvbuf(stdout, nil, _IOLBF, 0)
        let server = try HCALServer(options: options)
        try AsyncBridge.blocking { try await server.run() }
        print("hepml hcal serve: stopped")
    }

    /// `host:port` (`[v6]:port` for IPv6).
    static func address(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen must be host:port, got '\(text)'")
        }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !host.isEmpty else { throw ValidationError("--listen must name a host, got '\(text)'") }
        return (host, port)
    }
}

struct HCALReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replay",
        abstract: "Send the lumisections of an Hcal4DQMAnalyzer ROOT file to a running `hepml hcal serve` at a chosen rate.")
    @Argument(help: "Analyzer ROOT file.") var file: String
    @Option(help: "Server URL.") var url = "http://127.0.0.1:8080"
    @Option(help: "Lumisections per second (default: as fast as the server answers).") var rate: Double?
    @Option(help: "Requests in flight at once.") var parallel = 1
    @Option(help: "File whose first line is the server's bearer token.") var tokenFile: String?
    @Option(help: "Order: ls (ascending) or shuffled.") var order = "ls"
    @Option(help: "Seed of the shuffled order.") var seed: UInt64 = 1
    @Option(help: "First LS to send (default: the file's first).") var firstLs: Int?
    @Option(help: "Last LS to send (default: the file's last).") var lastLs: Int?
    @Flag(help: "Print only the summary, not one line per acknowledged lumisection.") var quiet = false

    func run() throws {
        guard order == "ls" || order == "shuffled" else { throw ValidationError("--order must be ls or shuffled") }
        guard parallel >= 1 else { throw ValidationError("--parallel must be ≥ 1") }
        let first = firstLs ?? Int.min, last = lastLs ?? Int.max
        guard first <= last else { throw ValidationError("--first-ls \(first) is after --last-ls \(last)") }
        var options = HCALReplay.Options()
        options.lumisections = first...last
        options.rate = rate
        options.parallel = parallel
        options.shuffleSeed = order == "shuffled" ? seed : nil
        let token = try tokenFile.map(HCALServer.token(fromFile:))
        setvbuf(stdout, nil, _IOLBF, 0)
        let quiet = quiet, file = file, url = url, replayOptions = options
        let summary = try AsyncBridge.blocking { () async throws -> HCALReplay.Summary in
            let client = HCALServeClient(url: url, token: token)
            do {
                let health = try await client.get("/healthz", as: HCALHealth.self)
                guard let subdetector = HCALSubdetector(rawValue: health.subdetector) else { throw HCALError("the server scores an unknown subdetector '\(health.subdetector)'") }
                let maps = try HCALReplay.maps(file: file, subdetector: subdetector)
                let summary = try await HCALReplay.send(maps, to: client, options: replayOptions) { reply, created in
                    if !quiet { print("acknowledged run \(reply.run) LS \(reply.ls) \(created ? "stored" : "already stored") flagged \(reply.flagged)") }
                }
                try await client.shutdown()
                return summary
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
        let sorted = summary.latencies.sorted()
        func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(p * Double(sorted.count)))] * 1000 }
        print(String(format: "replayed %d LS (%d stored, %d already stored) in %.2f s: %.1f LS/s, latency p50 %.1f ms p99 %.1f ms",
                     summary.created + summary.repeated, summary.created, summary.repeated, summary.seconds,
                     Double(summary.created + summary.repeated) / max(summary.seconds, 1e-9), percentile(0.5), percentile(0.99)))
    }
}

/// `hepml bench hcal-serve`: the live monitor under a bounded loopback load (docs/hcal-serve.md, "Measurements").
struct BenchHCALServe: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hcal-serve",
        abstract: "Load test of `hepml hcal serve` on loopback: sustained LS/s, POST-to-queryable latency percentiles, server RSS over the run and its peak.")
    @Option(help: "Trained run directory (default: train the production-like model rin-dc-cnnrnnae HE on a small synthetic set first).") var model: String?
    @Option(help: "Lumisections to send (10000 for the memory soak).") var count = 1000
    @Option(help: "Lumisections per second offered.") var rate = 50.0
    @Option(help: "Requests in flight at once.") var parallel = 4
    @Option(help: "Stop sending after this many seconds whatever the count.") var maxSeconds = 600.0
    @Option(help: "Seed of the synthetic data (and of the model trained for the benchmark).") var seed: UInt64 = 1

    func run() throws {
        guard count >= 1, rate > 0, parallel >= 1, maxSeconds > 0 else { throw ValidationError("--count, --rate, --parallel and --max-seconds must be positive") }
        var options = HCALServeBenchmark.Options(executable: try Self.ownExecutable())
        options.model = model
        options.count = count
        options.rate = rate
        options.parallel = parallel
        options.maximumSeconds = maxSeconds
        options.seed = seed
        setvbuf(stdout, nil, _IOLBF, 0)
        let benchmarkOptions = options
        let report = try AsyncBridge.blocking { try await HCALServeBenchmark.run(options: benchmarkOptions) { print($0) } }
        print("# hepml bench hcal-serve: \(report.model), \(count) LS offered at \(rate) LS/s, \(parallel) in flight, loopback")
        print(String(format: "sent %d LS in %.1f s: %.1f LS/s sustained", report.sent, report.seconds, report.rate))
        print(String(format: "POST→queryable latency ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f", report.percentile(0.5) * 1000, report.percentile(0.9) * 1000,
                     report.percentile(0.99) * 1000, (report.latencies.max() ?? 0) * 1000))
        print("server RSS MiB after N LS: " + report.residentMiB.map { "\($0.lumisections): " + String(format: "%.0f", $0.mebibytes) }.joined(separator: "  ")
              + String(format: "  (peak %.0f)", report.peakResidentMiB))
    }

    /// This process's executable (the server is started from the same binary).
    static func ownExecutable() throws -> String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        guard FileManager.default.isExecutableFile(atPath: path) else { throw ValidationError("cannot find the hepml executable (\(path))") }
        return path
    }
}
