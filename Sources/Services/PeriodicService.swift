/// Work run on a schedule (checkpoints by time, the retention purge), or once in the background
/// (`every: nil`), as a service: stopping waits for a run under way and starts no other.
package final class PeriodicService: Service {
    package let name: String
    private let interval: Duration?
    private let firstAfter: Duration
    private let work: @Sendable () async -> Void
    private let stopRequested = Latch()

    /// Runs `work` after `firstAfter`, then every `every` after each run ends (nil: once).
    package init(name: String, every interval: Duration?, firstAfter: Duration = .zero, work: @escaping @Sendable () async -> Void) {
        self.name = name
        self.interval = interval
        self.firstAfter = firstAfter
        self.work = work
    }

    package func run() {
        if stopRequested.wait(timeout: firstAfter) { return }
        while true {
            // `work` cannot throw, so neither can this.
            try? runAsync(work)
            guard let interval else {
                stopRequested.wait()
                return
            }
            if stopRequested.wait(timeout: interval) { return }
        }
    }

    package func stop() { stopRequested.open() }
}
