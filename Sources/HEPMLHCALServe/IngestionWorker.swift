import Foundation
import HEPMLHCAL

/// An error the server answers with a 4xx or 5xx status and `{"error": message}`.
public struct HCALServeError: Error, CustomStringConvertible, Sendable {
    public var status: Int
    public var message: String
    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
    public var description: String { "\(status): \(message)" }
}

/// One lumisection to ingest: its validated raw map `[64, 72, depths]` and NumEvents.
struct HCALIngestion: Sendable {
    var run: Int
    var ls: Int
    var raw: [Float]
    var numEvents: Int

    /// FNV-1a (64 bit) over NumEvents and the map's float32 bytes: re-sending identical content
    /// is recognized after the raw map itself is no longer kept.
    var contentHash: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        withUnsafeBytes(of: Int64(numEvents).littleEndian) { $0.forEach(mix) }
        raw.withUnsafeBytes { $0.forEach(mix) }
        return String(hash, radix: 16)
    }
}

/// The result an ingestion is answered with: created (201) or already stored with the same content (200).
struct HCALIngestOutcome: Sendable {
    var reply: HCALIngestReply
    var created: Bool
}

/// The one thread that scores and writes. Ingestions queue up while it works; it takes all that
/// are waiting as one batch, scores their windows (and those of stored LS they complete) in one
/// `scoreWindows` call, commits the batch in one transaction and only then answers each request.
final class HCALIngestionWorker: @unchecked Sendable {
    typealias Completion = @Sendable (Result<HCALIngestOutcome, HCALServeError>) -> Void

    private struct Job {
        var ingestion: HCALIngestion
        var contentHash: String
        var enqueued: Date
        var completion: Completion
    }

    /// At most this many ingestions per batch, so one batch's wait stays short under a burst.
    static let maximumBatch = 64

    private let scorer: HCALScorer
    private let writer: HCALResultWriter
    private let keepMaps: Int
    private let metrics: HCALServeMetrics
    private let events: HCALEventBroadcaster
    /// The state of the runs ingested most recently (at most `cachedRuns`); another run's state
    /// is loaded from the database when one of its LS arrives, so memory does not grow with runs.
    private var runs: [Int: HCALRunWindows] = [:]
    private var lastUse: [Int: Int] = [:]
    private var batches = 0
    static let cachedRuns = 4
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    init(scorer: HCALScorer, writer: HCALResultWriter, keepMaps: Int, metrics: HCALServeMetrics, events: HCALEventBroadcaster) throws {
        self.scorer = scorer
        self.writer = writer
        self.keepMaps = keepMaps
        self.metrics = metrics
        self.events = events
    }

    /// A run's state: cached, or as stored (stored LS, gaps, the scaled maps of the kept raw maps).
    private func state(of run: Int) throws -> HCALRunWindows {
        if let state = runs[run] { return state }
        let stored = try writer.loadRun(run)
        var state = HCALRunWindows(steps: scorer.input.options.steps)
        state.stored = stored.lumisections
        state.missing = stored.missing
        for (ls, raw) in stored.rawMaps { state.maps[ls] = scaled(raw.map, numEvents: raw.numEvents) }
        return state
    }

    /// Sets aside the least recently used runs beyond `cachedRuns`.
    private func evictRuns() {
        guard runs.count > Self.cachedRuns else { return }
        for run in runs.keys.sorted(by: { (lastUse[$0] ?? 0) < (lastUse[$1] ?? 0) }).prefix(runs.count - Self.cachedRuns) {
            runs[run] = nil
            lastUse[run] = nil
        }
    }

    /// The map as the model sees it: divided by NumEvents, then the training scaling (as `HCALScorer.score`).
    private func scaled(_ raw: [Float], numEvents: Int) -> [Float] {
        let divisor = Float(max(numEvents, 1))
        var map = raw.map { $0 / divisor }
        map.withUnsafeMutableBufferPointer { scorer.input.scale($0) }
        return map
    }

    func start() {
        let thread = Thread { [self] in
            work()
            finished.signal()
        }
        thread.name = "hcal-scoring"
        thread.start()
    }

    /// Queues an ingestion; `completion` runs on the worker thread after the commit (or failure).
    func submit(_ ingestion: HCALIngestion, completion: @escaping Completion) {
        let job = Job(ingestion: ingestion, contentHash: ingestion.contentHash, enqueued: Date(), completion: completion)
        condition.lock()
        guard !stopping else {
            condition.unlock()
            completion(.failure(HCALServeError(503, "the server is shutting down")))
            return
        }
        pending.append(job)
        metrics.setQueueDepth(pending.count)
        condition.signal()
        condition.unlock()
    }

    /// Finishes the queued ingestions, then stops the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
        finished.wait()
    }

    private func work() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            if pending.isEmpty {
                condition.unlock()
                return
            }
            let batch = Array(pending.prefix(Self.maximumBatch))
            pending.removeFirst(batch.count)
            metrics.setQueueDepth(pending.count)
            condition.unlock()
            process(batch)
        }
    }

    private func process(_ batch: [Job]) {
        // Repeats of a stored or an earlier queued (run, LS) are answered from the stored result.
        var accepted: [Job] = []
        var repeats: [Job] = []
        var acceptedKeys: [String: String] = [:]
        for job in batch {
            let key = "\(job.ingestion.run):\(job.ingestion.ls)"
            if acceptedKeys[key] != nil {
                repeats.append(job)
                continue
            }
            do {
                if let stored = try writer.stored(run: job.ingestion.run, ls: job.ingestion.ls) {
                    job.completion(Self.repeatOutcome(job, storedHash: stored.contentHash, summary: stored.summary))
                    continue
                }
            } catch {
                job.completion(.failure(HCALServeError(500, "\(error)")))
                continue
            }
            acceptedKeys[key] = job.contentHash
            accepted.append(job)
        }
        if !accepted.isEmpty { score(accepted) }
        for job in repeats {
            do {
                guard let stored = try writer.stored(run: job.ingestion.run, ls: job.ingestion.ls) else {
                    job.completion(.failure(HCALServeError(500, "run \(job.ingestion.run) LS \(job.ingestion.ls) was not stored")))
                    continue
                }
                job.completion(Self.repeatOutcome(job, storedHash: stored.contentHash, summary: stored.summary))
            } catch {
                job.completion(.failure(HCALServeError(500, "\(error)")))
            }
        }
    }

    private static func repeatOutcome(_ job: Job, storedHash: String, summary: HCALLumisectionSummary) -> Result<HCALIngestOutcome, HCALServeError> {
        guard storedHash == job.contentHash else {
            return .failure(HCALServeError(409, "run \(job.ingestion.run) LS \(job.ingestion.ls) is stored with other content (map or NumEvents differ)"))
        }
        return .success(HCALIngestOutcome(reply: HCALIngestReply(run: job.ingestion.run, ls: job.ingestion.ls, flagged: summary.flagged, maxScore: summary.maxScore,
                                                                 windowComplete: summary.windowComplete, missingLS: summary.missingLS, rescored: []),
                                          created: false))
    }

    /// Scores the new LS and the stored LS they complete, commits, then answers and announces.
    private func score(_ jobs: [Job]) {
        var arrived: [Int: Set<Int>] = [:]
        batches += 1
        do {
            for job in jobs {
                let run = job.ingestion.run
                var state = try state(of: run)
                state.maps[job.ingestion.ls] = scaled(job.ingestion.raw, numEvents: job.ingestion.numEvents)
                state.stored.insert(job.ingestion.ls)
                runs[run] = state
                lastUse[run] = batches
                arrived[run, default: []].insert(job.ingestion.ls)
            }
        } catch {
            for run in Set(jobs.map(\.ingestion.run)) { runs[run] = nil }
            for job in jobs { job.completion(.failure(HCALServeError(500, "cannot load the stored state of run \(job.ingestion.run): \(error)"))) }
            return
        }
        // What to score: every new LS, and every stored LS whose window one of them fills.
        var targets: [(run: Int, ls: Int, job: Job?)] = jobs.map { ($0.ingestion.run, $0.ingestion.ls, $0) }
        var rescoredBy: [String: [Int]] = [:]
        for (run, lumisections) in arrived.sorted(by: { $0.key < $1.key }) {
            guard let state = runs[run] else { continue }
            for ls in state.lumisectionsWaiting(for: lumisections) {
                targets.append((run, ls, nil))
                for source in state.missing[ls] ?? [] where lumisections.contains(source) { rescoredBy["\(run):\(source)", default: []].append(ls) }
            }
        }
        do {
            let windows = targets.map { target in runs[target.run]?.window(for: target.ls) ?? (window: [], missing: []) }
            let results = try scorer.scoreWindows(windows.map(\.window), run: 0, lumisections: targets.map(\.ls))
            let storedNumEvents = try numEventsOfRescored(targets)
            let scored = zip(targets, zip(windows, results)).map { target, scoring in
                let (window, result) = scoring
                return HCALScoredLumisection(run: target.run, ls: target.ls,
                                             numEvents: target.job?.ingestion.numEvents ?? storedNumEvents["\(target.run):\(target.ls)"]?.numEvents ?? 0,
                                             totalOccupancy: target.job.map { totalOccupancy($0.ingestion.raw) } ?? storedNumEvents["\(target.run):\(target.ls)"]?.totalOccupancy ?? 0,
                                             missingLS: window.missing, flags: flags(of: result), maxScore: Double(result.maximumScore),
                                             scoreMap: result.scores, newLumisection: target.job.map { ($0.ingestion.raw, $0.contentHash) })
            }
            try writer.commit(scored, keepMaps: keepMaps)
            for item in scored {
                guard var state = runs[item.run] else { continue }
                state.missing[item.ls] = item.missingLS.isEmpty ? nil : item.missingLS
                runs[item.run] = state
            }
            for run in arrived.keys { runs[run]?.prune(keep: keepMaps) }
            evictRuns()
            let now = Date()
            metrics.recordIngested(seconds: jobs.map { now.timeIntervalSince($0.enqueued) }, flags: scored.filter { $0.newLumisection != nil }.reduce(0) { $0 + $1.flags.count })
            for (target, item) in zip(targets, scored) {
                guard let job = target.job else { continue }
                job.completion(.success(HCALIngestOutcome(
                    reply: HCALIngestReply(run: item.run, ls: item.ls, flagged: item.flags.count, maxScore: item.maxScore, windowComplete: item.missingLS.isEmpty,
                                           missingLS: item.missingLS, rescored: (rescoredBy["\(item.run):\(item.ls)"] ?? []).sorted()),
                    created: true)))
            }
            events.publish(scored.map { HCALLumisectionEvent(run: $0.run, ls: $0.ls, flagged: $0.flags.count, maxScore: $0.maxScore, numEvents: $0.numEvents) })
        } catch {
            // Nothing of the batch was committed: the runs' state is loaded again from what is stored.
            for run in arrived.keys { runs[run] = nil }
            for job in jobs { job.completion(.failure(HCALServeError(500, "scoring or storing failed: \(error)"))) }
        }
    }

    /// NumEvents and total occupancy of the stored LS among the targets (re-scoring keeps them).
    private func numEventsOfRescored(_ targets: [(run: Int, ls: Int, job: Job?)]) throws -> [String: (numEvents: Int, totalOccupancy: Double)] {
        var values: [String: (Int, Double)] = [:]
        for target in targets where target.job == nil {
            if let stored = try writer.stored(run: target.run, ls: target.ls) {
                values["\(target.run):\(target.ls)"] = (stored.summary.numEvents, stored.summary.totalOccupancy)
            }
        }
        return values
    }

    private func totalOccupancy(_ raw: [Float]) -> Double {
        var total = 0.0
        for (channel, value) in raw.enumerated() where scorer.input.mask.active[channel] && value.isFinite { total += Double(value) }
        return total
    }

    /// The flagged channels of a result in physical coordinates, highest score first.
    private func flags(of result: HCALScorer.Result) -> [HCALFlaggedChannel] {
        let depths = scorer.input.depths
        var flags: [HCALFlaggedChannel] = []
        for (channel, flagged) in result.flags.enumerated() where flagged {
            flags.append(HCALFlaggedChannel(ieta: HCALIndex.ieta(ofIndex: channel / (depths * HCALIndex.phiCount)), iphi: (channel / depths) % HCALIndex.phiCount + 1,
                                            depth: channel % depths + 1, score: Double(result.scores[channel])))
        }
        return flags.sorted { $0.score > $1.score }
    }
}
