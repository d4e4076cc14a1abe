import Foundation
import Logging
import Synchronization
import Timekeeping

/// Runs services side by side and stops them in order (swift-service-lifecycle's `ServiceGroup`):
/// started in the order given, stopped in the reverse, each waited for before the next is asked.
///
/// List what others depend on first: the store, then timers, delivery, and the server last, so
/// that SIGTERM stops accepting and finishes requests, then stops delivery and waits for its
/// attempts to be recorded, then the timers, and closes the store only when nothing uses it.
/// Each stop is bounded: a service that does not finish within its `stopTimeout` is left behind
/// (logged, and named in the report) and the group goes on, so that a stuck part never keeps the
/// process from exiting.
package final class ServiceGroup: Sendable {
    /// A service and how long its stop may take.
    package struct Member: Sendable {
        package var service: any Service
        package var stopTimeout: Duration

        package init(_ service: any Service, stopTimeout: Duration) {
            self.service = service
            self.stopTimeout = stopTimeout
        }
    }

    /// How the group ended.
    package struct Report: Sendable, Equatable {
        /// Services that threw, or returned before they were asked to stop, with why.
        package var failed: [String: String] = [:]
        /// Services that had not finished within their stop timeout, in the order they were asked.
        package var timedOut: [String] = []
        /// Services stopped, in the order they finished stopping.
        package var stopped: [String] = []

        package var isClean: Bool { failed.isEmpty && timedOut.isEmpty }

        package init(failed: [String: String] = [:], timedOut: [String] = [], stopped: [String] = []) {
            self.failed = failed
            self.timedOut = timedOut
            self.stopped = stopped
        }
    }

    private let members: [Member]
    private let logger: Logger
    private let shutdownRequested = Latch()
    private let ran = Atomic<Bool>(false)

    package init(_ members: [Member], logger: Logger) {
        self.members = members
        self.logger = logger
    }

    /// Runs each service's `run()` on a thread of its own, in order, and blocks until `shutdown()`
    /// or until a service ends by itself; then stops them all, last first, and returns what happened.
    /// Runs once: a second call returns an empty report at once.
    package func run() -> Report {
        guard !ran.exchange(true, ordering: .acquiringAndReleasing) else { return Report() }
        let finished = members.map { _ in Latch() }
        let failures = Mutex<[String: String]>([:])
        for (index, member) in members.enumerated() {
            let service = member.service
            let done = finished[index]
            let shutdownRequested = self.shutdownRequested
            let logger = self.logger
            let thread = Thread {
                do {
                    try service.run()
                    if !shutdownRequested.isOpen {
                        failures.withLock { $0[service.name] = "it stopped by itself" }
                        logger.error("a service stopped by itself; stopping the others", [("service", service.name)])
                    }
                } catch {
                    failures.withLock { $0[service.name] = "\(error)" }
                    logger.error("a service failed; stopping the others", [("service", service.name), ("error", "\(error)")])
                }
                done.open()
                // One part gone ends the whole: a daemon without its server or delivery is not serving.
                shutdownRequested.open()
            }
            thread.name = "refex-\(service.name)"
            thread.start()
        }
        shutdownRequested.wait()
        var report = Report()
        for (index, member) in members.enumerated().reversed() {
            let name = member.service.name
            logger.info("stopping", [("service", name)])
            member.service.stop()
            if finished[index].wait(timeout: member.stopTimeout) {
                report.stopped.append(name)
            } else {
                report.timedOut.append(name)
                logger.error("a service did not stop in time; going on without it", [
                    ("service", name), ("timeout_ms", String(member.stopTimeout.wholeMilliseconds)),
                ])
            }
        }
        report.failed = failures.withLock { $0 }
        return report
    }

    /// Starts the ordered stop; returns at once (`run()` returns when it is done). Safe from any
    /// thread, more than once, and before `run()` (which then stops everything as soon as started).
    package func shutdown() { shutdownRequested.open() }
}
