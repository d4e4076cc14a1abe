import Dispatch
import Synchronization

/// Runs async work from synchronous code and blocks the calling thread until it finishes: the one
/// bridge from refex's threads (delivery workers that block in libcurl, the service group, the
/// command line's main thread) to its async parts (the store).
///
/// The calling thread waits on a semaphore while `work` runs as a task on Swift's cooperative
/// pool. So call it only from a thread of your own (a `Thread`, the main thread), never from a
/// task or a `Dispatch` queue the pool may be waiting on: a pool thread blocked here is one fewer
/// to run `work`, and with every pool thread blocked it would never finish.
package func runAsync<Result: Sendable>(_ work: @escaping @Sendable () async throws -> Result) throws -> Result {
    let box = Mutex<Swift.Result<Result, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let outcome: Swift.Result<Result, any Error>
        do { outcome = .success(try await work()) } catch { outcome = .failure(error) }
        box.withLock { $0 = outcome }
        done.signal()
    }
    done.wait()
    guard let outcome = box.withLock({ $0 }) else { preconditionFailure("async work finished without a result") }
    return try outcome.get()
}
