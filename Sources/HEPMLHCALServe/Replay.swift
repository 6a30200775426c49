import AsyncHTTPClient
import Foundation
import HEPMLCore
import HEPMLHCAL
import NIOCore
import NIOHTTP1

/// A client of a running `hepml hcal serve`: `hepml hcal replay` (an analyzer file's LS posted
/// at a chosen rate, in order or shuffled) and the load benchmark use it.
public final class HCALServeClient: Sendable {
    public let baseURL: String
    let token: String?
    let client: HTTPClient

    public init(url: String, token: String?) {
        baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.token = token
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async throws { try await client.shutdown() }

    /// A GET of `path`: status and body.
    public func get(_ path: String) async throws -> (status: Int, body: Data) {
        let response = try await client.execute(HTTPClientRequest(url: baseURL + path), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), Data(body.readableBytesView))
    }

    /// Decodes the JSON body of a successful GET.
    public func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        let (status, body) = try await get(path)
        guard status == 200 else { throw HCALServeError(status, "GET \(path): \(String(decoding: body, as: UTF8.self))") }
        return try JSONDecoder().decode(T.self, from: body)
    }

    /// Posts one LS's raw map as little-endian float32; the reply on 200/201, an `HCALServeError`
    /// with the server's message otherwise.
    public func post(run: Int, ls: Int, map: ArraySlice<Float>, depths: Int, numEvents: Int) async throws -> (reply: HCALIngestReply, created: Bool) {
        var request = HTTPClientRequest(url: "\(baseURL)/api/runs/\(run)/lumisections/\(ls)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: HCALIngestionRequest.rawContentType)
        request.headers.add(name: HCALIngestionRequest.shapeHeader, value: "\(HCALIndex.etaCount),\(HCALIndex.phiCount),\(depths)")
        request.headers.add(name: HCALIngestionRequest.numEventsHeader, value: String(numEvents))
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(map.count * 4)
        for value in map { buffer.writeInteger(value.bitPattern, endianness: .little) }
        request.body = .bytes(buffer)
        let response = try await client.execute(request, timeout: .seconds(60))
        let body = Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
        let status = Int(response.status.code)
        guard status == 200 || status == 201 else {
            let message = (try? JSONDecoder().decode(HCALErrorReply.self, from: body).error) ?? String(decoding: body, as: UTF8.self)
            throw HCALServeError(status, message)
        }
        return (try JSONDecoder().decode(HCALIngestReply.self, from: body), status == 201)
    }
}

/// `hepml hcal replay`: an analyzer file's lumisections sent to a server.
public enum HCALReplay {
    public struct Options: Sendable {
        /// LS per second; nil sends as fast as the server answers.
        public var rate: Double?
        /// Shuffle the LS order with this seed (out-of-order delivery, as DQM's multithreading gives).
        public var shuffleSeed: UInt64?
        /// Requests in flight at once.
        public var parallel = 1
        /// Only the LS in this range are sent.
        public var lumisections = Int.min...Int.max
        public init() {}
    }

    public struct Summary: Sendable {
        public var created = 0
        public var repeated = 0
        /// Seconds from each POST to its acknowledgement.
        public var latencies: [Double] = []
        public var seconds = 0.0
    }

    /// The file's maps for the server's subdetector, every channel read (the server applies its
    /// model's mask).
    public static func maps(file: String, subdetector: HCALSubdetector) throws -> HCALRunMaps {
        var everything = HCALMask(geometry: subdetector)
        everything.active = [Bool](repeating: true, count: everything.active.count)
        return try HCALRunMaps(file: file, subdetector: subdetector, mask: everything)
    }

    /// Sends the LS of `maps` in `options.lumisections` (paced to `options.rate`); `acknowledged`
    /// is called for each reply. Stops at the first failure, throwing it, after the requests in
    /// flight finish.
    public static func send(_ maps: HCALRunMaps, to client: HCALServeClient, options: Options,
                            acknowledged: @escaping @Sendable (HCALIngestReply, Bool) -> Void) async throws -> Summary {
        var order = maps.lumisections.indices.filter { options.lumisections.contains(maps.lumisections[$0]) }
        if let seed = options.shuffleSeed {
            var generator = SeededGenerator(seed: seed)
            order.shuffle(using: &generator)
        }
        let width = maps.channelCount, depths = maps.subdetector.depthCount
        let start = Date()
        var summary = Summary()
        try await withThrowingTaskGroup(of: (HCALIngestReply, Bool, Double).self) { group in
            var inFlight = 0
            func collect() async throws {
                guard let (reply, created, seconds) = try await group.next() else { return }
                inFlight -= 1
                acknowledged(reply, created)
                if created { summary.created += 1 } else { summary.repeated += 1 }
                summary.latencies.append(seconds)
            }
            for (position, row) in order.enumerated() {
                if let rate = options.rate, rate > 0 {
                    let due = start.addingTimeInterval(Double(position) / rate).timeIntervalSinceNow
                    if due > 0 { try await Task.sleep(for: .seconds(due)) }
                }
                while inFlight >= max(options.parallel, 1) { try await collect() }
                let ls = maps.lumisections[row], numEvents = maps.numEvents[row], run = maps.run
                let map = maps.occupancy[(row * width)..<((row + 1) * width)]
                group.addTask {
                    let sent = Date()
                    let (reply, created) = try await client.post(run: run, ls: ls, map: map, depths: depths, numEvents: numEvents)
                    return (reply, created, Date().timeIntervalSince(sent))
                }
                inFlight += 1
            }
            while inFlight > 0 { try await collect() }
        }
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }
}
