import Foundation
import HEPMLHCAL
import Hummingbird
import NIOCore
import ServiceLifecycle

/// `hepml hcal serve`: the live HCAL monitor (docs/hcal-serve.md). An HTTP server on Hummingbird
/// whose ingestions go to one scoring worker, results into SQLite under the data directory, and
/// the dashboard, the OpenAPI document and the Prometheus metrics come from the binary.
public final class HCALServer: Sendable {
    public struct Options: Sendable {
        public var modelDirectory: String
        public var host = "127.0.0.1"
        public var port = 8080
        public var dataDirectory = "hcal-serve-data"
        /// Analyzer ROOT files appearing or growing here are ingested (`HCALDirectoryWatcher`).
        public var watchDirectory: String?
        /// When set, ingestion needs `Authorization: Bearer <token>`.
        public var token: String?
        /// Raw and score maps are kept for the newest this many LS per run (at least T − 1).
        public var keepMaps = 50
        public var maximumBody = 4 << 20
        public var threshold = HCALScorer.defaultThreshold
        public init(modelDirectory: String) { self.modelDirectory = modelDirectory }
    }

    /// Reads a bearer token file: its first line, which must not be empty.
    public static func token(fromFile path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw HCALError("cannot read the token file \(path)") }
        let token = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !token.isEmpty else { throw HCALError("the token file \(path) is empty") }
        return token
    }

    let options: Options
    let model: String
    let mask: HCALMask
    let worker: HCALIngestionWorker
    let reader: HCALResultReader
    let metrics = HCALServeMetrics()
    let events = HCALEventBroadcaster()

    public init(options: Options) throws {
        var options = options
        let scorer = try HCALScorer(runDirectory: options.modelDirectory, threshold: options.threshold)
        options.keepMaps = max(options.keepMaps, scorer.input.options.steps - 1, 1)
        self.options = options
        model = URL(fileURLWithPath: options.modelDirectory).standardizedFileURL.lastPathComponent
        mask = scorer.input.mask
        let writer = try HCALResultWriter(directory: options.dataDirectory, subdetector: mask.subdetector)
        reader = try HCALResultReader(directory: options.dataDirectory)
        worker = try HCALIngestionWorker(scorer: scorer, writer: writer, keepMaps: options.keepMaps, metrics: metrics, events: events)
    }

    /// Serves until SIGINT or SIGTERM: then the server stops accepting, open event streams end,
    /// queued ingestions are scored and committed, and the function returns.
    public func run(log: @escaping @Sendable (String) -> Void = { print($0) }) async throws {
        worker.start()
        defer { worker.stop() }
        let host = options.host
        let application = Application(router: router(), configuration: .init(address: .hostname(options.host, port: options.port), serverName: "hepml"),
                                      onServerRunning: { channel in
                                          log("hepml hcal serve: listening on http://\(host):\(channel.localAddress?.port ?? 0)")
                                      })
        // A group shuts its services down in reverse order: the event streams end and the
        // watcher stops first, so that the server's wait for open responses ends.
        var services: [any Service] = [application]
        if let directory = options.watchDirectory {
            services.append(HCALDirectoryWatcher(directory: directory, mask: mask, ingest: { [self] in try await self.ingest($0) }, log: log))
        }
        services.append(HCALEventService(events: events))
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: application.logger))
        try await group.run()
    }

    /// Queues an ingestion and waits for its commit.
    func ingest(_ ingestion: HCALIngestion) async throws -> HCALIngestOutcome {
        try await withCheckedThrowingContinuation { continuation in
            worker.submit(ingestion) { result in continuation.resume(with: result.mapError { $0 as any Error }) }
        }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(HCALErrorMiddleware())
        router.get("/") { _, _ in Self.asset(PackageResources.index_html, type: "text/html; charset=utf-8") }
        router.get("/dashboard.js") { _, _ in Self.asset(PackageResources.dashboard_js, type: "text/javascript; charset=utf-8") }
        router.get("/dashboard.css") { _, _ in Self.asset(PackageResources.dashboard_css, type: "text/css; charset=utf-8") }
        router.get("/openapi.json") { _, _ in Self.asset(PackageResources.openapi_json, type: "application/json") }
        router.get("/healthz") { [self] _, _ in
            let counts = try reader.counts()
            return try Self.json(HCALHealth(status: "ok", model: model, subdetector: mask.subdetector.rawValue, depths: mask.depthCount,
                                            threshold: Double(options.threshold), runs: counts.runs, lumisections: counts.lumisections))
        }
        router.get("/metrics") { [self] _, _ in Self.text(metrics.exposition(), type: "text/plain; version=0.0.4") }
        router.post("/api/runs/:run/lumisections/:ls") { [self] request, context in try await ingest(request: request, context: context) }
        router.get("/api/runs") { [self] _, _ in try Self.json(try reader.runs()) }
        router.get("/api/runs/:run/lumisections") { [self] _, context in
            let run = try knownRun(context)
            return try Self.json(try reader.lumisections(run: run))
        }
        router.get("/api/runs/:run/lumisections/:ls/flags") { [self] _, context in
            let (run, ls) = try knownLumisection(context)
            return try Self.json(try reader.flags(run: run, ls: ls))
        }
        router.get("/api/runs/:run/lumisections/:ls/maps") { [self] request, context in try map(request: request, context: context) }
        router.get("/api/events") { [self] _, _ in
            let stream = events.subscribe()
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: ": connected\n\n"))
                for await frame in stream { try await writer.write(ByteBuffer(string: frame)) }
                try await writer.finish(nil)
            })
        }
        return router
    }

    private func ingest(request: Request, context: BasicRequestContext) async throws -> Response {
        if let token = options.token {
            let presented = request.headers[.authorization] ?? ""
            guard Self.constantTimeEqual(presented, "Bearer \(token)") else {
                throw HCALServeError(401, "ingestion needs the header Authorization: Bearer <token>")
            }
        }
        let run = try HCALIngestionRequest.number(context.parameters.get("run"), "run", in: HCALIngestionRequest.runRange)
        let ls = try HCALIngestionRequest.number(context.parameters.get("ls"), "ls", in: HCALIngestionRequest.lumisectionRange)
        let numEvents = try HCALIngestionRequest.numEvents(Self.header(HCALIngestionRequest.numEventsHeader, of: request))
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: options.maximumBody)
        } catch is NIOTooManyBytesError {
            throw HCALServeError(413, "the body exceeds the limit of \(options.maximumBody) bytes (--max-body)")
        }
        let raw = try HCALIngestionRequest.map(body: Array(buffer: body), contentType: request.headers[.contentType],
                                               shape: Self.header(HCALIngestionRequest.shapeHeader, of: request), mask: mask)
        let outcome = try await ingest(HCALIngestion(run: run, ls: ls, raw: raw, numEvents: numEvents))
        return try Self.json(outcome.reply, status: outcome.created ? .created : .ok)
    }

    private func knownRun(_ context: BasicRequestContext) throws -> Int {
        let run = try HCALIngestionRequest.number(context.parameters.get("run"), "run", in: HCALIngestionRequest.runRange)
        guard try reader.runExists(run) else { throw HCALServeError(404, "run \(run) has no stored lumisections") }
        return run
    }

    private func knownLumisection(_ context: BasicRequestContext) throws -> (run: Int, ls: Int) {
        let run = try knownRun(context)
        let ls = try HCALIngestionRequest.number(context.parameters.get("ls"), "ls", in: HCALIngestionRequest.lumisectionRange)
        guard try reader.lumisectionExists(run: run, ls: ls) else { throw HCALServeError(404, "run \(run) LS \(ls) is not stored") }
        return (run, ls)
    }

    private func map(request: Request, context: BasicRequestContext) throws -> Response {
        let (run, ls) = try knownLumisection(context)
        let kind = request.uri.queryParameters.get("kind") ?? "score"
        guard kind == "score" || kind == "occupancy" else { throw HCALServeError(400, "kind must be occupancy or score, got '\(kind)'") }
        let depth = try HCALIngestionRequest.number(request.uri.queryParameters.get("depth") ?? "1", "depth", in: 1...mask.depthCount)
        guard let values = try reader.map(run: run, ls: ls, score: kind == "score") else {
            throw HCALServeError(404, "the \(kind) map of run \(run) LS \(ls) is no longer kept (the newest \(options.keepMaps) LS per run are)")
        }
        guard values.count == mask.active.count else { throw HCALServeError(500, "the stored \(kind) map of run \(run) LS \(ls) has \(values.count) channels") }
        var rows: [[Double?]] = []
        var minimum = Double.infinity, maximum = -Double.infinity
        for eta in 0..<HCALIndex.etaCount {
            rows.append((0..<HCALIndex.phiCount).map { phi in
                let channel = HCALIndex.flat(eta: eta, phi: phi, depth: depth - 1, depths: mask.depthCount)
                let value = Double(values[channel])
                guard mask.active[channel], value.isFinite else { return nil }
                minimum = min(minimum, value)
                maximum = max(maximum, value)
                return value
            })
        }
        return try Self.json(HCALMapReply(kind: kind, depth: depth, ieta: (0..<HCALIndex.etaCount).map(HCALIndex.ieta(ofIndex:)), iphi: Array(1...HCALIndex.phiCount),
                                          values: rows, min: minimum.isFinite ? minimum : 0, max: maximum.isFinite ? maximum : 0))
    }

    /// The value of a header by its name, in any case.
    static func header(_ name: String, of request: Request) -> String? {
        request.headers.first { $0.name.canonicalName == name.lowercased() }?.value
    }

    /// Compares a presented credential with the expected one in time independent of where they differ.
    static func constantTimeEqual(_ presented: String, _ expected: String) -> Bool {
        let left = Array(presented.utf8), right = Array(expected.utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<right.count { difference |= (index < left.count ? left[index] : 0) ^ right[index] }
        return difference == 0
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    static func text(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func asset(_ bytes: [UInt8], type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Turns every error of a handler (and the router's own 404 and 413) into `{"error": message}`.
struct HCALErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HCALServeError {
            return Self.reply(error.status, error.message, authenticate: error.status == 401)
        } catch let error as HTTPError {
            return Self.reply(Int(error.status.code), error.body ?? (error.status == .notFound ? "no such path: \(request.uri.path)" : error.status.reasonPhrase),
                              authenticate: false)
        } catch {
            return Self.reply(500, "\(error)", authenticate: false)
        }
    }

    static func reply(_ status: Int, _ message: String, authenticate: Bool) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if authenticate { headers[.wwwAuthenticate] = "Bearer" }
        let body = (try? JSONEncoder().encode(HCALErrorReply(error: message))) ?? Data("{\"error\":\"internal error\"}".utf8)
        return Response(status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Keeps the event streams alive (a comment every 15 s) and ends them on graceful shutdown.
struct HCALEventService: Service {
    let events: HCALEventBroadcaster

    func run() async throws {
        await withGracefulShutdownHandler {
            try? await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: .seconds(15))
                    events.keepAlive()
                }
            }
        } onGracefulShutdown: {
            events.close()
        }
    }
}
