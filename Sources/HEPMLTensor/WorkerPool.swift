import Foundation
import HEPMLCore
import Synchronization

/// Persistent worker threads for the engine's parallel loops.
///
/// A training step of a small model runs dozens of parallel regions of 10–100 µs each. Handing
/// them to Dispatch wakes sleeping threads through the kernel every time, which cost a fifth of
/// the step; these workers spin briefly after each region (as OpenMP runtimes do) so that the
/// next one starts without a system call, and sleep on a condition when the engine goes idle.
///
/// One region runs at a time. A region started while another is running (from a worker, or from
/// a second thread using the engine) runs serially on its caller, which is correct, only slower.
public final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(workers: Parallel.threadCount - 1)

    /// Idle polls before a worker goes to sleep: roughly 50 µs.
    private static let spinLimit = 1 << 14
    /// `nextChunk` between regions: every claim fails, so a worker waking late touches nothing.
    private static let closed = Int.max / 2

    private let workerCount: Int
    private let generation = Atomic<Int>(0)
    private let nextChunk = Atomic<Int>(closed)
    private let chunkCount = Atomic<Int>(0)
    private let finishedChunks = Atomic<Int>(0)
    /// Workers inside `work()`; the region waits for zero before its closure goes out of scope.
    private let activeWorkers = Atomic<Int>(0)
    private let running = Atomic<Bool>(false)
    /// Written only while `nextChunk` is closed and no worker is active; read after a claim,
    /// which synchronizes with the release store that opened the region.
    private var job: ((Int) -> Void)?
    private let wakeup = NSCondition()
    private var sleepingWorkers = 0

    private init(workers: Int) {
        workerCount = max(workers, 0)
        for index in 0..<workerCount {
            let thread = Thread { [unowned self] in self.workerLoop() }
            thread.name = "hepml-worker-\(index)"
            thread.start()
        }
    }

    /// Splits `0..<count` into at most `Parallel.threadCount` contiguous chunks of at least
    /// `minimumChunk` items and runs them on the pool (small loops stay on the caller).
    public static func forEachChunk(_ count: Int, minimumChunk: Int, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(Parallel.threadCount, max(1, count / max(1, minimumChunk)))
        let base = count / chunks, extra = count % chunks
        if chunks == 1 { body(0..<count); return }
        shared.run(chunks: chunks) { chunk in
            let start = chunk * base + min(chunk, extra)
            body(start..<(start + base + (chunk < extra ? 1 : 0)))
        }
    }

    /// Runs `body(chunk)` for every chunk in `0..<chunks` on the caller and the workers.
    func run(chunks: Int, _ body: (Int) -> Void) {
        guard chunks > 1, workerCount > 0, running.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        withoutActuallyEscaping(body) { body in
            job = body
            chunkCount.store(chunks, ordering: .relaxed)
            finishedChunks.store(0, ordering: .relaxed)
            nextChunk.store(0, ordering: .releasing)
            generation.add(1, ordering: .releasing)
            wakeup.lock()
            if sleepingWorkers > 0 { wakeup.broadcast() }
            wakeup.unlock()
            work()
            while finishedChunks.load(ordering: .acquiring) < chunks {}
            nextChunk.store(Self.closed, ordering: .relaxed)
            while activeWorkers.load(ordering: .acquiring) > 0 {}
            job = nil
        }
        running.store(false, ordering: .releasing)
    }

    /// Claims and runs chunks until none are left.
    private func work() {
        while true {
            let chunk = nextChunk.add(1, ordering: .acquiringAndReleasing).oldValue
            guard chunk < chunkCount.load(ordering: .relaxed), let job else { return }
            job(chunk)
            finishedChunks.add(1, ordering: .releasing)
        }
    }

    private func workerLoop() {
        var seen = 0
        while true {
            var polls = 0
            while generation.load(ordering: .acquiring) == seen {
                polls += 1
                if polls < Self.spinLimit { continue }
                wakeup.lock()
                while generation.load(ordering: .acquiring) == seen {
                    sleepingWorkers += 1
                    wakeup.wait()
                    sleepingWorkers -= 1
                }
                wakeup.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            activeWorkers.add(1, ordering: .acquiringAndReleasing)
            work()
            activeWorkers.subtract(1, ordering: .releasing)
        }
    }
}
