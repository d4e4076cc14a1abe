import Synchronization

/// Keeps records in memory, for tests.
package final class InMemoryLogSink: LogSink {
    private let storage = Mutex<[LogRecord]>([])

    package init() {}

    package func write(_ record: LogRecord) {
        storage.withLock { $0.append(record) }
    }

    package var records: [LogRecord] { storage.withLock { $0 } }
}
