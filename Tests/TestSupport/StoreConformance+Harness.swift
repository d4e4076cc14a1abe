import Exchange
import Synchronization
import Timekeeping

/// A clock tests set and advance by hand: stores and the exchange read it through `reading`.
package final class TestClock: Sendable {
    private let current: Mutex<Timestamp>

    /// Starts at `start` (by default 2026-11-20T12:00:00Z).
    package init(_ start: Timestamp = Timestamp(milliseconds: 1_795_176_000_000)) {
        current = Mutex(start)
    }

    package var now: Timestamp { current.withLock { $0 } }

    package func advance(by duration: Duration) {
        current.withLock { $0 = Timestamp(milliseconds: $0.milliseconds + duration.wholeMilliseconds) }
    }

    package func set(_ time: Timestamp) {
        current.withLock { $0 = time }
    }

    /// The clock as stores take it.
    package var reading: @Sendable () -> Timestamp { { [self] in now } }
}

/// One store implementation as the conformance suite drives it: `open` opens the store over one
/// durable state (a folder, a backing object), again after `close` to see what survives a restart.
package struct StoreHarness: Sendable {
    package var open: @Sendable () throws -> any ExchangeStore
    package var close: @Sendable (any ExchangeStore) -> Void

    package init(open: @escaping @Sendable () throws -> any ExchangeStore, close: @escaping @Sendable (any ExchangeStore) -> Void = { _ in }) {
        self.open = open
        self.close = close
    }

    /// The in-memory store over one fresh `InMemoryStoreState`.
    package static func inMemory(clock: TestClock) -> StoreHarness {
        let state = InMemoryStoreState()
        return StoreHarness(open: { InMemoryStore(state: state, clock: clock.reading) })
    }
}

/// A conformance check that did not hold: thrown, so that the calling test fails with it.
package struct ConformanceFailure: Error, CustomStringConvertible {
    package var message: String
    package var file: StaticString
    package var line: UInt

    package var description: String { "\(file):\(line): \(message)" }
}

func expect(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) throws {
    if !condition { throw ConformanceFailure(message: message(), file: file, line: line) }
}

func expectEqual<Value: Equatable>(
    _ actual: Value, _ expected: Value, _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) throws {
    if actual != expected {
        throw ConformanceFailure(message: "\(message()): got \(actual), expected \(expected)", file: file, line: line)
    }
}

/// Runs `body` and expects it to throw.
func expectThrows<Value>(_ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Value) throws {
    do {
        _ = try body()
    } catch {
        return
    }
    throw ConformanceFailure(message: "did not throw: \(message())", file: file, line: line)
}
