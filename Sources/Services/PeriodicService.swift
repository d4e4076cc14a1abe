import Synchronization

/// Work run on a schedule (checkpoints by time, the retention purge), or once in the background
/// (`every: nil`), as a service: stopping cancels the run under way (its task: long work checks
/// `Task.isCancelled` between steps and ends early), waits for it, and starts no other.
package final class PeriodicService: Service {
    package let name: String
    private let interval: Duration?
    private let firstAfter: Duration
    private let work: @Sendable () async -> Void
    private let stopRequested = Latch()
    private let running = Mutex<Task<Void, Never>?>(nil)

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
            runOnce()
            guard let interval else {
                stopRequested.wait()
                return
            }
            if stopRequested.wait(timeout: interval) { return }
        }
    }

    package func stop() {
        stopRequested.open()
        running.withLock { $0?.cancel() }
    }

    /// Runs `work` as a task `stop()` can cancel, and waits for it (the service's own thread).
    private func runOnce() {
        let done = Latch()
        let work = self.work
        running.withLock { running in
            running = Task {
                await work()
                done.open()
            }
            // A stop between the latch's check and here would find no task to cancel.
            if stopRequested.isOpen { running?.cancel() }
        }
        done.wait()
        running.withLock { $0 = nil }
    }
}
