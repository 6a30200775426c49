import Foundation
import HEPMLExperiment
import HEPMLHCAL
@testable import HEPMLHCALServe
import HEPMLTestSupport
import Testing

/// A tiny trained temporal model (the production architecture, latent 2, window 3, one epoch on
/// 14 LS) and one synthetic run of 16 LS with a channel that turns hot at LS 12, made once per
/// test process.
struct ServeFixture: Sendable {
    static let run = 355_456
    static let lumisections = 16
    /// The hot channel (ieta, iphi, depth), hot from `hotLumisection` on.
    static let hotChannel = (ieta: 20, iphi: 5, depth: 1)
    static let hotLumisection = 12

    let directory: URL
    let model: String
    let file: String
    let maps: HCALRunMaps

    static let shared: Result<ServeFixture, any Error> = Result { try ServeFixture() }

    static func get() throws -> ServeFixture { try shared.get() }

    private init() throws {
        directory = try TestEnvironment.temporaryDirectory("hcal-serve-fixture")
        var generation = HCALSyntheticData.Options()
        generation.runs = 1
        generation.lumisections = Self.lumisections
        generation.eventsPerLumisection = 40
        let files = try HCALSyntheticData(options: generation).write(to: directory.appendingPathComponent("raw").path)
        let dataset = try HCALDataset.prepare(files: files, output: directory.appendingPathComponent("dataset").path, subdetector: .he,
                                              trainingRange: .init(first: 1, last: 14), testRange: .init(first: 15, last: -1))
        var options = try HCALModelOptions.named(HCALModelOptions.productionName, subdetector: .he)
        options.latent = 2
        options.window = 3
        var settings = HCALTrainingSettings(model: HCALModelOptions.productionName, options: options, dataset: dataset)
        settings.epochs = 1
        settings.batchSize = 2
        let run = RunDirectory(directory.appendingPathComponent("model").path)
        try HCALTraining.train(dataset: dataset, directory: run, settings: settings, showProgress: false, log: { _ in })
        model = run.path
        // The run as replay reads it, with the hot channel planted (also in the file the
        // command-line tools read).
        var maps = try HCALReplay.maps(file: files[0], subdetector: .he)
        let hot = Self.hotChannel
        let channel = HCALIndex.flat(eta: HCALIndex.etaIndex(hot.ieta) ?? 0, phi: hot.iphi - 1, depth: hot.depth - 1, depths: 7)
        for (row, ls) in maps.lumisections.enumerated() where ls >= Self.hotLumisection {
            maps.occupancy[row * maps.channelCount + channel] = Float(maps.numEvents[row] * 30)
        }
        self.maps = maps
        file = directory.appendingPathComponent("Run\(Self.run)-hot.root").path
        try HCALAnalyzerWriter.write(to: file, run: Self.run, numEvents: Dictionary(uniqueKeysWithValues: zip(maps.lumisections, maps.numEvents))) { depth, contents in
            for (row, ls) in maps.lumisections.enumerated() {
                for ieta in -32...32 where ieta != 0 {
                    for iphi in 1...71 {
                        guard let eta = HCALIndex.etaIndex(ieta) else { continue }
                        let value = maps.occupancy[row * maps.channelCount + HCALIndex.flat(eta: eta, phi: iphi - 1, depth: depth - 1, depths: 7)]
                        if value != 0 { contents[HCALAnalyzerWriter.cell(ls: ls, ieta: ieta, iphi: iphi)] = Double(value) }
                    }
                }
            }
        }
    }

    /// The raw map of one LS.
    func map(ls: Int) -> ArraySlice<Float> {
        let row = maps.lumisections.firstIndex(of: ls) ?? 0
        return maps.occupancy[(row * maps.channelCount)..<((row + 1) * maps.channelCount)]
    }

    func numEvents(ls: Int) -> Int { maps.numEvents[maps.lumisections.firstIndex(of: ls) ?? 0] }

    /// The batch scorer's results for every LS of the run sent in order (window LS n − T + 1 … n,
    /// slots below LS 1 repeating LS 1): what the server must end with in any order of arrival.
    func inOrderResults() throws -> [Int: HCALScorer.Result] {
        let scorer = try HCALScorer(runDirectory: model)
        let steps = scorer.input.options.steps
        var scaled: [Int: [Float]] = [:]
        for ls in maps.lumisections {
            var map = map(ls: ls).map { $0 / Float(max(numEvents(ls: ls), 1)) }
            map.withUnsafeMutableBufferPointer { scorer.input.scale($0) }
            scaled[ls] = map
        }
        let windows = maps.lumisections.map { ls in (0..<steps).flatMap { scaled[max(ls - steps + 1 + $0, 1)] ?? [] } }
        let results = try scorer.scoreWindows(windows, run: Self.run, lumisections: maps.lumisections)
        return Dictionary(uniqueKeysWithValues: zip(maps.lumisections, results))
    }
}

/// `hepml hcal serve` started from the built binary on a free loopback port, stopped by PID.
final class ServeProcess {
    let port: Int
    let process: Process
    let client: HCALServeClient
    let logFile: URL

    /// Starts the server and waits until `/healthz` answers.
    static func start(model: String, data: URL, arguments: [String] = [], token: String? = nil) async throws -> ServeProcess {
        let server = try ServeProcess(model: model, data: data, arguments: arguments, token: token)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard server.process.isRunning else { throw ServeTestError("the server exited: \(server.log)") }
            if let (status, _) = try? await server.client.get("/healthz"), status == 200 { return server }
            try await Task.sleep(for: .milliseconds(100))
        }
        server.kill()
        throw ServeTestError("the server did not answer /healthz within 60 s: \(server.log)")
    }

    private init(model: String, data: URL, arguments: [String], token: String?) throws {
        guard let executable = TestEnvironment.hepmlExecutable else { throw ServeTestError("the hepml executable is not built") }
        port = try TestEnvironment.freeLoopbackPort()
        logFile = data.deletingLastPathComponent().appendingPathComponent("serve-\(port).log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["hcal", "serve", "--model", model, "--listen", "127.0.0.1:\(port)", "--data", data.path] + arguments
        process.standardOutput = log
        process.standardError = log
        try process.run()
        client = HCALServeClient(url: "http://127.0.0.1:\(port)", token: token)
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
    var url: String { "http://127.0.0.1:\(port)" }

    /// SIGTERM: the graceful stop; returns the exit status.
    @discardableResult
    func stop() async throws -> Int32 {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        try await client.shutdown()
        return process.terminationStatus
    }

    /// SIGKILL: a crash, as far as anyone can tell.
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { kill() }
}

struct ServeTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
