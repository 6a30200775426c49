import Foundation
import HEPMLCore
import HEPMLExperiment
import HEPMLHCAL

/// `hepml bench hcal-serve`: a bounded loopback load test of the live monitor. It starts the
/// server as a child process, sends a fixed number of lumisections of one long run at a fixed
/// rate (maps cycled from a synthetic run), and measures for each the time from its POST until
/// its flags are queryable through the API; it stops by itself after the count or the time limit.
public enum HCALServeBenchmark {
    public struct Options: Sendable {
        /// `hepml` to start the server with.
        public var executable: String
        /// A trained run directory; nil trains the production-like model on a small synthetic set first.
        public var model: String?
        public var count = 1000
        public var rate = 50.0
        public var parallel = 4
        public var maximumSeconds = 600.0
        public var seed: UInt64 = 1
        public init(executable: String) { self.executable = executable }
    }

    public struct Report: Sendable {
        public var model: String
        public var sent = 0
        public var seconds = 0.0
        /// Seconds from each POST to the answer of the GET of its flags.
        public var latencies: [Double] = []
        /// Server resident set size (MiB) after each tenth of the count (and at the start and the
        /// end), with the LS sent by then: flat over a long soak when nothing leaks.
        public var residentMiB: [(lumisections: Int, mebibytes: Double)] = []
        public var peakResidentMiB = 0.0

        public var rate: Double { Double(sent) / max(seconds, 1e-9) }

        public func percentile(_ fraction: Double) -> Double {
            let sorted = latencies.sorted()
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, Int(fraction * Double(sorted.count)))]
        }
    }

    public static func run(options: Options, log: @escaping @Sendable (String) -> Void) async throws -> Report {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hepml-bench-hcal-serve-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

        var generation = HCALSyntheticData.Options()
        generation.runs = 1
        generation.lumisections = 200
        generation.eventsPerLumisection = 200
        generation.seed = options.seed
        let files = try HCALSyntheticData(options: generation).write(to: path("raw"))
        let model: String
        if let given = options.model {
            model = given
        } else {
            log("training \(HCALModelOptions.productionName) (HE, one epoch on 40 synthetic LS) for the benchmark")
            let dataset = try HCALDataset.prepare(files: files, output: path("dataset"), subdetector: .he,
                                                  trainingRange: .init(first: 1, last: 40), testRange: .init(first: 41, last: -1))
            var settings = HCALTrainingSettings(model: HCALModelOptions.productionName,
                                                options: try HCALModelOptions.named(HCALModelOptions.productionName, subdetector: .he), dataset: dataset)
            settings.epochs = 1
            settings.seed = options.seed
            try HCALTraining.train(dataset: dataset, directory: RunDirectory(path("model")), settings: settings, showProgress: false, log: { _ in })
            model = path("model")
        }

        let server = try ServerChild(executable: options.executable, arguments: ["hcal", "serve", "--model", model, "--listen", "127.0.0.1:0", "--data", path("data")])
        defer { server.stop() }
        let client = HCALServeClient(url: server.url, token: nil)
        let health = try await client.get("/healthz", as: HCALHealth.self)
        guard let subdetector = HCALSubdetector(rawValue: health.subdetector) else { throw HCALError("the server scores '\(health.subdetector)'") }
        let maps = try HCALReplay.maps(file: files[0], subdetector: subdetector)
        let width = maps.channelCount, depths = subdetector.depthCount, run = maps.run
        var report = Report(model: "\(health.model) (\(health.subdetector.uppercased()))")

        // One LS outside the measurement: the first scoring allocates the network's buffers.
        _ = try await client.post(run: run + 1, ls: 1, map: maps.occupancy[0..<width], depths: depths, numEvents: maps.numEvents[0])
        report.residentMiB.append((0, server.residentMiB().current))
        let sampleEvery = max(options.count / 10, 1)
        let start = Date()
        try await withThrowingTaskGroup(of: Double.self) { group in
            var inFlight = 0
            for index in 0..<options.count {
                let due = start.addingTimeInterval(Double(index) / options.rate).timeIntervalSinceNow
                if due > 0 { try await Task.sleep(for: .seconds(due)) }
                if Date().timeIntervalSince(start) > options.maximumSeconds {
                    log("time limit of \(options.maximumSeconds) s reached after \(index) LS")
                    break
                }
                while inFlight >= options.parallel, let latency = try await group.next() {
                    inFlight -= 1
                    report.latencies.append(latency)
                }
                if index > 0 && index % sampleEvery == 0 { report.residentMiB.append((index, server.residentMiB().current)) }
                let row = index % maps.lumisections.count, ls = index + 1
                let map = maps.occupancy[(row * width)..<((row + 1) * width)], numEvents = maps.numEvents[row]
                group.addTask {
                    let sent = Date()
                    _ = try await client.post(run: run, ls: ls, map: map, depths: depths, numEvents: numEvents)
                    let (status, _) = try await client.get("/api/runs/\(run)/lumisections/\(ls)/flags")
                    guard status == 200 else { throw HCALServeError(status, "run \(run) LS \(ls) acknowledged but not queryable") }
                    return Date().timeIntervalSince(sent)
                }
                inFlight += 1
                report.sent += 1
            }
            for try await latency in group { report.latencies.append(latency) }
        }
        report.seconds = Date().timeIntervalSince(start)
        let memory = server.residentMiB()
        report.residentMiB.append((report.sent, memory.current))
        report.peakResidentMiB = memory.peak
        try await client.shutdown()
        return report
    }
}

/// The server under test as a child process: started with `--listen 127.0.0.1:0`, its port read
/// from the line it prints, its memory read from /proc, stopped with SIGTERM.
final class ServerChild {
    let process = Process()
    let url: String

    init(executable: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let prefix = "listening on "
        var text = ""
        let reader = output.fileHandleForReading
        while !text.contains("\n") || !text.contains(prefix) {
            let chunk = reader.availableData
            guard !chunk.isEmpty else { throw HCALError("the server exited before listening: \(text)") }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = text.range(of: prefix), let end = text[range.upperBound...].firstIndex(where: \.isWhitespace) else {
            throw HCALError("unexpected server output: \(text)")
        }
        url = String(text[range.upperBound..<end])
    }

    /// VmRSS and VmHWM of the server in MiB.
    func residentMiB() -> (current: Double, peak: Double) {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Double {
            let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
            return (line?.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0) / 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
    }
}
