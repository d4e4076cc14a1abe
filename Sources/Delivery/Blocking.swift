import Foundation
import Synchronization

/// Runs async work from a plain thread and waits for it: the delivery threads block in libcurl,
/// so they are threads, not tasks, and reach the (async) store through this.
func blocking<Result: Sendable>(_ work: @escaping @Sendable () async throws -> Result) throws -> Result {
    let box = Mutex<Swift.Result<Result, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let outcome: Swift.Result<Result, any Error>
        do { outcome = .success(try await work()) } catch { outcome = .failure(error) }
        box.withLock { $0 = outcome }
        done.signal()
    }
    done.wait()
    guard let outcome = box.withLock({ $0 }) else { preconditionFailure("blocking work finished without a result") }
    return try outcome.get()
}
