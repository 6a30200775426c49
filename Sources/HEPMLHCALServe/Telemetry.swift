import Foundation

/// The Prometheus metrics of `/metrics`: lumisections ingested, flags raised, the time from an
/// ingestion's arrival at the worker queue to its commit, and the queue depth.
final class HCALServeMetrics: @unchecked Sendable {
    static let bucketBounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private let lock = NSLock()
    private var ingested = 0
    private var flagsRaised = 0
    private var queueDepth = 0
    private var bucketCounts = [Int](repeating: 0, count: bucketBounds.count)
    private var latencyCount = 0
    private var latencySum = 0.0

    func recordIngested(seconds: [Double], flags: Int) {
        lock.lock()
        defer { lock.unlock() }
        ingested += seconds.count
        flagsRaised += flags
        for value in seconds {
            latencyCount += 1
            latencySum += value
            for (index, bound) in Self.bucketBounds.enumerated() where value <= bound { bucketCounts[index] += 1 }
        }
    }

    func setQueueDepth(_ depth: Int) {
        lock.lock()
        queueDepth = depth
        lock.unlock()
    }

    /// The Prometheus text exposition format (version 0.0.4).
    func exposition() -> String {
        lock.lock()
        defer { lock.unlock() }
        var text = """
            # HELP hepml_hcal_lumisections_ingested_total Lumisections stored (first ingestion of each run/LS).
            # TYPE hepml_hcal_lumisections_ingested_total counter
            hepml_hcal_lumisections_ingested_total \(ingested)
            # HELP hepml_hcal_flags_raised_total Flagged channels of newly stored lumisections.
            # TYPE hepml_hcal_flags_raised_total counter
            hepml_hcal_flags_raised_total \(flagsRaised)
            # HELP hepml_hcal_queue_depth Ingestions waiting for the scoring worker.
            # TYPE hepml_hcal_queue_depth gauge
            hepml_hcal_queue_depth \(queueDepth)
            # HELP hepml_hcal_scoring_seconds Time from an ingestion's arrival at the scoring queue to its commit.
            # TYPE hepml_hcal_scoring_seconds histogram

            """
        for (index, bound) in Self.bucketBounds.enumerated() {
            text += "hepml_hcal_scoring_seconds_bucket{le=\"\(bound)\"} \(bucketCounts[index])\n"
        }
        text += "hepml_hcal_scoring_seconds_bucket{le=\"+Inf\"} \(latencyCount)\n"
        text += "hepml_hcal_scoring_seconds_sum \(latencySum)\nhepml_hcal_scoring_seconds_count \(latencyCount)\n"
        return text
    }
}

/// Fans the `lumisection` events out to every open `/api/events` stream.
final class HCALEventBroadcaster: @unchecked Sendable {
    private let lock = NSLock()
    private var subscribers: [UUID: AsyncStream<String>.Continuation] = [:]
    private var closed = false

    /// A stream of Server-Sent-Event frames; it ends when the client goes or the server stops.
    func subscribe() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        let identifier = UUID()
        lock.lock()
        if closed {
            continuation.finish()
        } else {
            subscribers[identifier] = continuation
        }
        lock.unlock()
        continuation.onTermination = { [weak self] _ in self?.remove(identifier) }
        return stream
    }

    private func remove(_ identifier: UUID) {
        lock.lock()
        subscribers[identifier] = nil
        lock.unlock()
    }

    func publish(_ events: [HCALLumisectionEvent]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let frames = events.compactMap { event in
            (try? encoder.encode(event)).map { "event: lumisection\ndata: \(String(decoding: $0, as: UTF8.self))\n\n" }
        }
        send(frames)
    }

    /// A comment line that keeps proxies and browsers from closing an idle stream.
    func keepAlive() { send([": keep-alive\n\n"]) }

    private func send(_ frames: [String]) {
        lock.lock()
        let targets = Array(subscribers.values)
        lock.unlock()
        for target in targets {
            for frame in frames { target.yield(frame) }
        }
    }

    /// Ends every stream (graceful shutdown) and refuses new ones.
    func close() {
        lock.lock()
        closed = true
        let targets = Array(subscribers.values)
        subscribers = [:]
        lock.unlock()
        for target in targets { target.finish() }
    }
}
