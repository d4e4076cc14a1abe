/// A service made of something that starts its own threads and a blocking stop that drains and
/// joins them (the HTTP server's `start` and `shutdown`, the store's `close`).
package final class StartStopService: Service {
    package let name: String
    private let start: @Sendable () throws -> Void
    private let finish: @Sendable () -> Void
    private let stopRequested = Latch()

    /// `start` returns once the work is under way; `stop` blocks until it is over.
    package init(name: String, start: @escaping @Sendable () throws -> Void = {}, stop: @escaping @Sendable () -> Void) {
        self.name = name
        self.start = start
        self.finish = stop
    }

    package func run() throws {
        try start()
        stopRequested.wait()
        finish()
    }

    package func stop() { stopRequested.open() }
}
