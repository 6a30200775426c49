import AsyncHTTPClient
import Foundation
import HEPMLCore
import HEPMLHCAL
@testable import HEPMLHCALServe
import HEPMLTestSupport
import NIOCore
import Testing

/// The window logic alone: gaps, their fillers, and which stored LS an arrival re-scores.
@Suite struct HCALRunWindowsTests {
    @Test func gapsAreFilledFromTheNearestEarlierLSAndReported() {
        var state = HCALRunWindows(steps: 3)
        for ls in [1, 3, 6] { state.maps[ls] = [Float(ls)] }
        #expect(state.window(for: 1).window == [1, 1, 1] && state.window(for: 1).missing.isEmpty, "slots below LS 1 repeat LS 1")
        #expect(state.window(for: 3).window == [1, 1, 3] && state.window(for: 3).missing == [2])
        #expect(state.window(for: 6).window == [6, 6, 6] && state.window(for: 6).missing == [4, 5], "no earlier LS in the window: the nearest later fills")
        state.missing = [3: [2], 6: [4, 5]]
        #expect(state.lumisectionsWaiting(for: [5]) == [6])
        #expect(state.lumisectionsWaiting(for: [2, 4]) == [3, 6])
        state.prune(keep: 2)
        #expect(state.maps.keys.sorted() == [3, 6])
        #expect(state.lumisectionsWaiting(for: [2]) == [3])
    }
}

/// The live monitor as a user runs it: the `hepml` binary on a loopback port, a real HTTP client.
@Suite(.serialized) struct HCALServeTests {
    let fixture: ServeFixture
    let directory: URL

    init() throws {
        fixture = try ServeFixture.get()
        directory = try TestEnvironment.temporaryDirectory("hcal-serve")
    }

    func post(_ server: ServeProcess, ls: Int, numEvents: Int? = nil) async throws -> (reply: HCALIngestReply, created: Bool) {
        try await server.client.post(run: ServeFixture.run, ls: ls, map: fixture.map(ls: ls), depths: 7, numEvents: numEvents ?? fixture.numEvents(ls: ls))
    }

    /// The stored summaries equal the batch scorer's in-order results, every window complete.
    func expectInOrderScores(_ summaries: [HCALLumisectionSummary], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expected = try fixture.inOrderResults()
        #expect(summaries.map(\.ls) == fixture.maps.lumisections, sourceLocation: sourceLocation)
        for summary in summaries {
            guard let result = expected[summary.ls] else { continue }
            #expect(summary.windowComplete && summary.missingLS.isEmpty, "LS \(summary.ls)", sourceLocation: sourceLocation)
            #expect(summary.flagged == result.flaggedCount, "LS \(summary.ls)", sourceLocation: sourceLocation)
            #expect(abs(summary.maxScore - Double(result.maximumScore)) <= 1e-4 * max(1, Double(result.maximumScore)), "LS \(summary.ls)", sourceLocation: sourceLocation)
        }
    }

    @Test func ingestsARunServesItAndFindsItAfterARestart() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        var server = try await ServeProcess.start(model: fixture.model, data: data)
        let health = try await server.client.get("/healthz", as: HCALHealth.self)
        #expect(health.status == "ok" && health.subdetector == "he" && health.depths == 7 && health.lumisections == 0)

        // An event stream open while the run arrives sees its lumisections.
        let (connected, signal) = AsyncStream<Void>.makeStream()
        let events = Task { try await Self.firstEvent(url: server.url, connected: signal) }
        for await _ in connected { break }
        let last = ServeFixture.lumisections - 1
        for ls in 1...last {
            let (reply, created) = try await post(server, ls: ls)
            #expect(created && reply.ls == ls && reply.windowComplete && reply.rescored.isEmpty)
        }
        let event = try await events.value
        #expect(event.contains("event: lumisection") && event.contains("\"run\":\(ServeFixture.run)"))

        let runs = try await server.client.get("/api/runs", as: [HCALRunSummary].self)
        #expect(runs.count == 1 && runs.first?.run == ServeFixture.run && runs.first?.lumisections == last && runs.first?.firstLS == 1 && runs.first?.lastLS == last)
        let hot = ServeFixture.hotChannel
        let flags = try await server.client.get("/api/runs/\(ServeFixture.run)/lumisections/\(ServeFixture.hotLumisection)/flags", as: [HCALFlaggedChannel].self)
        #expect(flags.first.map { [$0.ieta, $0.iphi, $0.depth] } == [hot.ieta, hot.iphi, hot.depth], "the planted hot channel has the highest score: \(flags.prefix(3))")
        let occupancy = try await server.client.get("/api/runs/\(ServeFixture.run)/lumisections/\(ServeFixture.hotLumisection)/maps?kind=occupancy&depth=1", as: HCALMapReply.self)
        let row = try #require(HCALIndex.etaIndex(hot.ieta))
        #expect(occupancy.values.count == 64 && occupancy.values.allSatisfy { $0.count == 72 } && occupancy.ieta.first == -32 && occupancy.iphi.last == 72)
        #expect(occupancy.values[row][hot.iphi - 1] == Double(fixture.numEvents(ls: ServeFixture.hotLumisection) * 30))
        #expect(occupancy.values[0][0] == nil, "ieta −32 is outside HE")
        let scores = try await server.client.get("/api/runs/\(ServeFixture.run)/lumisections/\(ServeFixture.hotLumisection)/maps?kind=score&depth=1", as: HCALMapReply.self)
        #expect(scores.max == scores.values[row][hot.iphi - 1])

        // Metrics, the OpenAPI document, idempotency.
        let metrics = String(decoding: try await server.client.get("/metrics").body, as: UTF8.self)
        #expect(metrics.contains("hepml_hcal_lumisections_ingested_total \(last)") && metrics.contains("hepml_hcal_scoring_seconds_count \(last)")
            && metrics.contains("hepml_hcal_queue_depth 0") && metrics.contains("hepml_hcal_flags_raised_total"))
        let openAPI = try await server.client.get("/openapi.json").body
        #expect(openAPI == FileManager.default.contents(atPath: TestEnvironment.packageRoot.appendingPathComponent("docs/hcal-serve-openapi.json").path))
        let again = try await post(server, ls: 3)
        #expect(!again.created && again.reply.ls == 3)
        await #expect(throws: HCALServeError.self) { try await post(server, ls: 3, numEvents: fixture.numEvents(ls: 3) + 1) }
        #expect(try await server.stop() == 0, "SIGTERM stops the server cleanly")

        // A restarted server has every result and the run's window state: the last LS scores as in order.
        server = try await ServeProcess.start(model: fixture.model, data: data)
        #expect(try await server.client.get("/api/runs", as: [HCALRunSummary].self) == runs)
        let final = try await post(server, ls: ServeFixture.lumisections)
        #expect(final.created && final.reply.windowComplete)
        try expectInOrderScores(try await server.client.get("/api/runs/\(ServeFixture.run)/lumisections", as: [HCALLumisectionSummary].self))
        #expect(try await server.stop() == 0)
        let written = try FileManager.default.contentsOfDirectory(atPath: data.path).filter { !$0.hasPrefix(HCALResultWriter.fileName) }
        #expect(written.isEmpty, "the server writes only its database under --data: \(written)")
    }

    /// The first `lumisection` frame of the server's event stream; `connected` is told when the
    /// server has subscribed this stream (its `: connected` comment), so that nothing posted
    /// afterwards can be missed however slowly this task runs.
    static func firstEvent(url: String, connected: AsyncStream<Void>.Continuation) async throws -> String {
        defer { connected.finish() }
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url + "/api/events"), timeout: .seconds(60))
        var text = ""
        for try await buffer in response.body {
            text += String(buffer: buffer)
            if text.hasPrefix(": connected") { connected.yield() }
            if let range = text.range(of: "event: lumisection\ndata: "), let end = text[range.upperBound...].firstIndex(of: "\n") {
                return String(text[range.lowerBound..<end])
            }
        }
        return text
    }

    @Test func outOfOrderAndMissingLumisectionsEndWithTheInOrderScores() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await ServeProcess.start(model: fixture.model, data: directory.appendingPathComponent("data"))
        var order = fixture.maps.lumisections.filter { $0 != 5 && $0 != 1 }
        var generator = SeededGenerator(seed: 11)
        order.shuffle(using: &generator)
        for ls in order {
            let (reply, _) = try await post(server, ls: ls)
            if (6...7).contains(ls) { #expect(!reply.windowComplete && reply.missingLS.contains(5), "LS \(ls) lacks LS 5") }
        }
        let gaps = try await server.client.get("/api/runs/\(ServeFixture.run)/lumisections", as: [HCALLumisectionSummary].self)
        #expect(gaps.first { $0.ls == 2 }?.missingLS == [1], "LS 2's window lacks LS 1 (and its padding)")
        #expect(gaps.filter { !$0.windowComplete }.map(\.ls) == [2, 3, 6, 7])
        let five = try await post(server, ls: 5)
        #expect(five.created && five.reply.windowComplete && five.reply.rescored == [6, 7])
        let one = try await post(server, ls: 1)
        #expect(one.created && one.reply.windowComplete && one.reply.rescored == [2, 3])
        try expectInOrderScores(try await server.client.get("/api/runs/\(ServeFixture.run)/lumisections", as: [HCALLumisectionSummary].self))
        #expect(try await server.stop() == 0)
    }

    @Test func sigkillDuringAReplayLosesNoAcknowledgedLumisection() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        var server = try await ServeProcess.start(model: fixture.model, data: data)
        let output = directory.appendingPathComponent("replay.log")
        let replay = try Self.startReplay(fixture.file, url: server.url, output: output, rate: 5)
        // Kill the server once a few LS are acknowledged, with more on the way. The poll blocks its
        // thread rather than awaiting: an await may resume only after other tests free the shared
        // executor, by when the replay could be over.
        let deadline = Date().addingTimeInterval(60)
        while Self.acknowledged(output).count < 4 && Date() < deadline && replay.isRunning { usleep(20_000) }
        server.kill()
        replay.waitUntilExit()
        let acknowledged = Self.acknowledged(output)
        #expect(replay.terminationStatus != 0, "the replay fails when the server dies")
        #expect(acknowledged.count >= 4 && acknowledged.count < ServeFixture.lumisections)

        server = try await ServeProcess.start(model: fixture.model, data: data)
        let stored = Set(try await server.client.get("/api/runs/\(ServeFixture.run)/lumisections", as: [HCALLumisectionSummary].self).map(\.ls))
        #expect(acknowledged.isSubset(of: stored), "every acknowledged LS survived the SIGKILL")
        let resend = try Self.startReplay(fixture.file, url: server.url, output: output, rate: nil)
        resend.waitUntilExit()
        #expect(resend.terminationStatus == 0)
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        for ls in stored { #expect(log.contains("LS \(ls) already stored"), "LS \(ls) re-sent is recognized") }
        let final = try await server.client.get("/api/runs/\(ServeFixture.run)/lumisections", as: [HCALLumisectionSummary].self)
        #expect(final.map(\.ls) == Array(1...ServeFixture.lumisections), "every LS stored exactly once")
        try expectInOrderScores(final)
        #expect(try await server.stop() == 0)
    }

    static func startReplay(_ file: String, url: String, output: URL, rate: Double?, arguments: [String] = []) throws -> Process {
        guard let executable = TestEnvironment.hepmlExecutable else { throw ServeTestError("the hepml executable is not built") }
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["hcal", "replay", file, "--url", url] + (rate.map { ["--rate", String($0)] } ?? []) + arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// The LS a replay's output says were acknowledged.
    static func acknowledged(_ output: URL) -> Set<Int> {
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        return Set(text.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("acknowledged run"), let field = line.split(separator: " ").dropFirst(4).first else { return nil }
            return Int(field)
        })
    }

    @Test func refusesBadRequestsWithJSONErrors() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("token")
        try "s3cret-token\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let server = try await ServeProcess.start(model: fixture.model, data: directory.appendingPathComponent("data"),
                                                  arguments: ["--token-file", tokenFile.path, "--max-body", "100000"], token: "s3cret-token")
        let base = server.url, run = ServeFixture.run
        let map = fixture.map(ls: 1)
        let raw = map.withUnsafeBytes { Array($0) }
        let shape = ["Content-Type": "application/octet-stream", "X-HCAL-Shape": "64,72,7", "X-HCAL-NumEvents": "10", "Authorization": "Bearer s3cret-token"]
        func request(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = []) async throws -> (Int, String) {
            var request = HTTPClientRequest(url: base + path)
            request.method = .RAW(value: method)
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            return (Int(response.status.code), text)
        }
        func expectError(_ status: Int, _ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = [], mentioning words: String,
                         sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let (code, text) = try await request(method, path, headers: headers, body: body)
            let message = (try? JSONDecoder().decode(HCALErrorReply.self, from: Data(text.utf8)))?.error ?? "not a JSON error: \(text)"
            #expect(code == status && message.contains(words), "\(method) \(path): \(code) \(message)", sourceLocation: sourceLocation)
        }
        let lsPath = "/api/runs/\(run)/lumisections/1"
        let noToken = shape.filter { $0.key != "Authorization" }
        // The raw HE map (129 024 bytes) is over this server's --max-body: a smaller one for the checks before the size.
        try await expectError(401, "POST", lsPath, headers: noToken, body: [0], mentioning: "Bearer")
        try await expectError(401, "POST", lsPath, headers: noToken.merging(["Authorization": "Bearer wrong"]) { $1 }, body: [0], mentioning: "Bearer")
        try await expectError(413, "POST", lsPath, headers: shape, body: raw, mentioning: "--max-body")
        try await expectError(400, "POST", lsPath, headers: shape.merging(["X-HCAL-Shape": "64,72,4"]) { $1 }, body: [0, 0, 0, 0], mentioning: "64,72,7")
        try await expectError(400, "POST", lsPath, headers: shape, body: [0, 0, 0, 0], mentioning: "bytes")
        try await expectError(400, "POST", lsPath, headers: shape.filter { $0.key != "X-HCAL-NumEvents" }, body: [0], mentioning: "X-HCAL-NumEvents")
        try await expectError(400, "POST", lsPath, headers: shape.merging(["X-HCAL-NumEvents": "-3"]) { $1 }, body: [0], mentioning: "X-HCAL-NumEvents")
        try await expectError(415, "POST", lsPath, headers: shape.merging(["Content-Type": "text/plain"]) { $1 }, body: [0], mentioning: "Content-Type")
        try await expectError(400, "POST", lsPath, headers: shape.merging(["Content-Type": "application/x-npy"]) { $1 }, body: Array("\u{93}NUMPY garbage".utf8), mentioning: ".npy")
        try await expectError(400, "POST", "/api/runs/abc/lumisections/1", headers: shape, body: [0], mentioning: "run")
        try await expectError(400, "POST", "/api/runs/\(run)/lumisections/0", headers: shape, body: [0], mentioning: "ls")
        try await expectError(404, "GET", "/api/runs/\(run)/lumisections", mentioning: "\(run)")
        try await expectError(404, "GET", "/api/nothing/here", mentioning: "/api/nothing/here")
        try await expectError(404, "GET", "/api/runs/\(run)/lumisections/1/../../../etc/passwd", mentioning: "no such path")

        // The small-body server above cannot take a whole map: the NaN-only and good maps go to one with the default limit.
        #expect(try await server.stop() == 0)
        let roomy = try await ServeProcess.start(model: fixture.model, data: directory.appendingPathComponent("data"), arguments: ["--token-file", tokenFile.path],
                                                 token: "s3cret-token")
        let nanMap = [Float](repeating: .nan, count: map.count).withUnsafeBytes { Array($0) }
        let roomyBase = roomy.url
        var nanRequest = HTTPClientRequest(url: roomyBase + lsPath)
        nanRequest.method = .POST
        for (name, value) in shape { nanRequest.headers.add(name: name, value: value) }
        nanRequest.body = .bytes(ByteBuffer(bytes: nanMap))
        let nanResponse = try await HTTPClient.shared.execute(nanRequest, timeout: .seconds(30))
        let nanText = String(buffer: try await nanResponse.body.collect(upTo: 1 << 20))
        #expect(nanResponse.status.code == 400 && nanText.contains("NaN"), "\(nanText)")
        let stored = try await roomy.client.post(run: run, ls: 1, map: map, depths: 7, numEvents: 10)
        #expect(stored.created)
        for query in ["kind=bogus&depth=1", "kind=score&depth=9", "kind=score&depth=x"] {
            let (status, _) = try await roomy.client.get("/api/runs/\(run)/lumisections/1/maps?\(query)")
            #expect(status == 400, "\(query)")
        }
        #expect(try await roomy.client.get("/healthz", as: HCALHealth.self).lumisections == 1, "the server survived every bad request")
        #expect(try await roomy.stop() == 0)
    }

    @Test func watchedDirectoryFilesAreIngested() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let watched = directory.appendingPathComponent("watched")
        try FileManager.default.createDirectory(at: watched, withIntermediateDirectories: true)
        // A file still being written (truncated) is retried, not fatal.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fixture.file))
        let target = watched.appendingPathComponent("Run\(ServeFixture.run).root")
        try bytes.prefix(bytes.count / 2).write(to: target)
        let server = try await ServeProcess.start(model: fixture.model, data: directory.appendingPathComponent("data"), arguments: ["--watch", watched.path])
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await server.client.get("/healthz", as: HCALHealth.self).lumisections == 0)
        try bytes.write(to: target)
        let deadline = Date().addingTimeInterval(60)
        var stored: [HCALLumisectionSummary] = []
        while Date() < deadline {
            if let (status, body) = try? await server.client.get("/api/runs/\(ServeFixture.run)/lumisections"), status == 200 {
                stored = try JSONDecoder().decode([HCALLumisectionSummary].self, from: body)
                if stored.count == ServeFixture.lumisections { break }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        try expectInOrderScores(stored)
        #expect(server.log.contains("not readable yet"))
        #expect(try await server.stop() == 0)
    }
}
