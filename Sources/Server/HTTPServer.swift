import Foundation
import Synchronization
internal import CLinux
import Logging
import Metrics

/// An HTTP/1.1 server: event loop threads serving any number of listening sockets.
///
/// Start it, then `shutdown()` to drain: listeners close at once, idle connections close,
/// requests in progress finish (up to `drainTimeout`), then everything is cut.
package final class HTTPServer: Sendable {
    private let core: ServerCore
    private let loops: [EventLoop]
    private let listeners = Mutex<[ListenerSpec]>([])
    private let logger: Logger

    package init(configuration: ServerConfiguration, metrics: MetricsRegistry, logger: Logger) throws {
        core = ServerCore(configuration: configuration, metrics: metrics, logger: logger)
        let count = configuration.eventLoops > 0 ? configuration.eventLoops : max(1, ProcessInfo.processInfo.activeProcessorCount)
        loops = try (0..<count).map { try EventLoop(index: $0) }
        self.logger = logger
    }

    /// Serves `spec` on every loop. The socket must be listening and non-blocking.
    package func addListener(_ spec: ListenerSpec) throws {
        Socket.setNonBlocking(spec.fd)
        listeners.withLock { $0.append(spec) }
        try onEveryLoop { loop in
            let listener = Listener(spec: spec, loop: loop, core: self.core, logger: self.logger)
            try loop.register(spec.fd, events: refex_EPOLLIN | refex_EPOLLEXCLUSIVE, handler: listener)
        }
    }

    package func start() {
        for loop in loops { loop.start(name: "refex-loop-\(loop.index)") }
    }

    package var openConnections: Int { core.openConnections() }

    package var isDraining: Bool { core.isDraining }

    /// Stops accepting, lets requests in progress finish, and stops the loops. Blocks until done.
    package func shutdown() {
        core.beginDraining()
        let specs = listeners.withLock { $0 }
        try? onEveryLoop { loop in
            for spec in specs { loop.unregister(spec.fd) }
            for case let connection as Connection in loop.registeredHandlers { connection.drain() }
        }
        for spec in specs { close(spec.fd) }

        let deadline = MonotonicClock.now() + core.configuration.drainTimeout.nanoseconds
        while core.openConnections() > 0 && MonotonicClock.now() < deadline {
            usleep(20_000)
        }
        let left = core.openConnections()
        if left > 0 {
            logger.warning("drain time is up; closing connections still open", [("connections", String(left))])
            try? onEveryLoop { loop in
                for case let connection as Connection in loop.registeredHandlers { connection.forceClose() }
            }
        }
        for loop in loops { loop.stop() }
        for loop in loops { loop.waitUntilFinished() }
    }

    /// After the TLS context was replaced (a reload): every open connection whose client
    /// certificate no longer passes verification under the new one (revoked by a new CRL,
    /// expired, its CA removed) is closed, at once if idle, after its answer if busy.
    /// Returns how many.
    @discardableResult
    package func closeConnectionsFailingClientVerification() -> Int {
        let closed = Atomic<Int>(0)
        try? onEveryLoop { loop in
            for case let connection as Connection in loop.registeredHandlers where connection.closeIfClientCertificateFailsVerification() {
                closed.add(1, ordering: .relaxed)
            }
        }
        return closed.load(ordering: .relaxed)
    }

    /// Whether every loop ran a task within `timeout`: false means a loop is stuck.
    package func loopsAreResponsive(within timeout: Duration) -> Bool {
        let group = DispatchGroup()
        for loop in loops {
            group.enter()
            loop.execute { group.leave() }
        }
        return group.wait(timeout: .now() + .nanoseconds(Int(min(timeout.nanoseconds, UInt64(Int.max))))) == .success
    }

    /// Runs `body` on each loop's thread (or here, before the loops start) and waits for all.
    private func onEveryLoop(_ body: @escaping @Sendable (EventLoop) throws -> Void) throws {
        let errors = Mutex<[any Error]>([])
        let group = DispatchGroup()
        for loop in loops {
            group.enter()
            loop.execute {
                do { try body(loop) } catch { errors.withLock { $0.append(error) } }
                group.leave()
            }
        }
        // Before start() the loops are not running: run their queues here instead.
        if !loops.allSatisfy(\.isRunning) {
            for loop in loops where !loop.isRunning { loop.runQueuedTasksBeforeStart() }
        }
        group.wait()
        if let first = errors.withLock({ $0.first }) { throw first }
    }
}
