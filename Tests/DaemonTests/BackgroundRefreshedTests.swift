import Synchronization
import XCTest
@testable import Daemon

/// The console's counts: read once, then served from memory, read again in the background once
/// old, and a failed reading keeps the old value.
final class BackgroundRefreshedTests: XCTestCase {
    private final class Source: Sendable {
        let readings = Mutex(0)
        let failing = Mutex(false)
        /// Each reading's number, in order, as the readings end.
        let finished: AsyncStream<Int>
        private let continuation: AsyncStream<Int>.Continuation

        init() { (finished, continuation) = AsyncStream.makeStream() }

        func read() throws -> Int {
            let number = readings.withLock { count in
                count += 1
                return count
            }
            defer { continuation.yield(number) }
            if failing.withLock({ $0 }) { throw CancellationError() }
            return number
        }
    }

    func testTheFirstCallReadsAndLaterOnesAreServedFromMemoryUntilOld() async throws {
        let cache = BackgroundRefreshed<Int>()
        let source = Source()
        let first = try await cache.value(maxAge: .seconds(3600)) { try source.read() }
        let second = try await cache.value(maxAge: .seconds(3600)) { try source.read() }
        XCTAssertEqual([first, second], [1, 1])
        XCTAssertEqual(source.readings.withLock { $0 }, 1, "a fresh value is not read again")
    }

    func testAnOldValueIsServedWhileItIsReadAgainInTheBackground() async throws {
        let cache = BackgroundRefreshed<Int>()
        let source = Source()
        var finished = source.finished.makeAsyncIterator()
        _ = try await cache.value(maxAge: .zero) { try source.read() }
        _ = await finished.next()
        let stale = try await cache.value(maxAge: .zero) { try source.read() }
        XCTAssertEqual(stale, 1, "the old value, at once")
        let done = await finished.next()
        XCTAssertEqual(done, 2)
        // The background reading has stored its value (the stream yields just before it returns,
        // so ask until it is there: bounded, no sleep).
        var fresh = 0
        for _ in 0..<10_000 where fresh != 2 {
            fresh = try await cache.value(maxAge: .seconds(3600)) { try source.read() }
            await Task.yield()
        }
        XCTAssertEqual(fresh, 2)
    }

    func testAFailedBackgroundReadingKeepsTheOldValueAndTheNextCallTriesAgain() async throws {
        let cache = BackgroundRefreshed<Int>()
        let source = Source()
        var finished = source.finished.makeAsyncIterator()
        _ = try await cache.value(maxAge: .zero) { try source.read() }
        _ = await finished.next()
        source.failing.withLock { $0 = true }
        let served = try await cache.value(maxAge: .zero) { try source.read() }
        XCTAssertEqual(served, 1)
        let failed = await finished.next()
        XCTAssertEqual(failed, 2, "the background reading ran, and failed")
        source.failing.withLock { $0 = false }
        // The failed reading has ended (or is about to): a later call starts another.
        var readings = 2
        for _ in 0..<10_000 where readings < 3 {
            let value = try await cache.value(maxAge: .zero) { try source.read() }
            XCTAssertTrue(value == 1 || value == 3, "the old value until a reading succeeds, never the failed one's")
            readings = source.readings.withLock { $0 }
            await Task.yield()
        }
        let third = await finished.next()
        XCTAssertEqual(third, 3)
    }

    func testAFirstReadingThatFailsThrows() async {
        let cache = BackgroundRefreshed<Int>()
        let source = Source()
        source.failing.withLock { $0 = true }
        do {
            _ = try await cache.value(maxAge: .seconds(1)) { try source.read() }
            XCTFail("nothing to serve: the error reaches the page")
        } catch {}
    }
}
