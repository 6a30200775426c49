import Dispatch
import Foundation

/// Thread-level parallelism for hot loops and file fetching.
///
/// The worker count is `HEPML_NUM_THREADS` when set, else the number of active cores; benchmarks
/// print it so that peers (PyTorch, uproot) can be run with the same count.
public enum Parallel {
    public static let threadCount: Int = {
        if let text = ProcessInfo.processInfo.environment["HEPML_NUM_THREADS"], let value = Int(text), value > 0 {
            return value
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body` over `0..<count` split into at most `threadCount` contiguous chunks, each of
    /// at least `minimumChunk` items so that small loops stay on the calling thread.
    public static func forEachChunk(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(threadCount, max(1, count / max(1, minimumChunk)))
        if chunks == 1 {
            body(0..<count)
            return
        }
        let base = count / chunks
        let extra = count % chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = chunk * base + min(chunk, extra)
            let end = start + base + (chunk < extra ? 1 : 0)
            body(start..<end)
        }
    }

    /// Runs `body(i)` for every `i` in `0..<count` on the worker threads, handing out indices one
    /// at a time (for uneven work such as one file per item), and returns results in index order.
    /// The first error thrown is rethrown after all workers stop.
    public static func map<T: Sendable>(_ count: Int, workers: Int = threadCount, _ body: @Sendable (Int) throws -> T) throws -> [T] {
        guard count > 0 else { return [] }
        let results = ResultSlots<T>(count: count)
        let next = AtomicCounter()
        let workerCount = max(1, min(workers, count))
        DispatchQueue.concurrentPerform(iterations: workerCount) { _ in
            work(count, next: next, results: results, body)
        }
        return try results.collect()
    }

    /// As `map`, on `threads` threads of its own instead of the per-core pool: for items that
    /// mostly wait (files read over the network), where more items than cores are in flight.
    public static func mapOnThreads<T: Sendable>(_ count: Int, threads: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        guard count > 0 else { return [] }
        let results = ResultSlots<T>(count: count)
        let next = AtomicCounter()
        let group = DispatchGroup()
        for _ in 0..<max(1, min(threads, count)) {
            group.enter()
            Thread {
                work(count, next: next, results: results, body)
                group.leave()
            }.start()
        }
        group.wait()
        return try results.collect()
    }

    private static func work<T>(_ count: Int, next: AtomicCounter, results: ResultSlots<T>, _ body: (Int) throws -> T) {
        while true {
            let index = next.increment()
            if index >= count || results.hasFailed { return }
            do {
                results.set(index, try body(index))
            } catch {
                results.fail(error)
            }
        }
    }
}

/// A counter shared by worker threads; a lock is plenty for per-item work of file size.
final class AtomicCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        let current = value
        value += 1
        return current
    }
}

final class ResultSlots<T>: @unchecked Sendable {
    private var slots: [T?]
    private var firstError: Error?
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    var hasFailed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return firstError != nil
    }

    func set(_ index: Int, _ value: T) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    func fail(_ error: Error) {
        lock.lock()
        if firstError == nil { firstError = error }
        lock.unlock()
    }

    func collect() throws -> [T] {
        if let firstError { throw firstError }
        return slots.compactMap { $0 }
    }
}
