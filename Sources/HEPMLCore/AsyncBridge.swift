import Foundation

/// Synchronous code that calls async APIs (HTTP range reads from reader threads, the `hepml`
/// commands that run a server or a client) waits for them here.
public enum AsyncBridge {
    /// Runs async work to completion from synchronous code. Call it from a thread of its own
    /// (a worker or the main thread), never from the concurrency pool's threads.
    public static func blocking<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { box.result = .success(try await operation()) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        guard let result = box.result else { throw AsyncBridgeError() }
        return try result.get()
    }

    struct AsyncBridgeError: Error, CustomStringConvertible {
        var description: String { "an async operation finished without a result" }
    }
}

/// Carries a result from a task to the thread waiting on it (written before the semaphore is
/// signalled, read after it is waited on).
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
