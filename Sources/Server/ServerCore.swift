import Foundation
import Synchronization
import Metrics

/// A listening socket and how to serve it.
package struct ListenerSpec: Sendable {
    /// `api`, `ops`, …: used in metrics and passed to the responder.
    package var name: String
    package var fd: Int32
    /// TLS for this listener; nil serves plain HTTP (loopback only).
    package var tls: TLSContextHolder?
    package var responder: any HTTPResponder
    package var maxConnections: Int
    /// Refuse peers that are not on loopback (for the plain ops listener).
    package var loopbackOnly: Bool

    package init(name: String, fd: Int32, tls: TLSContextHolder?, responder: any HTTPResponder, maxConnections: Int, loopbackOnly: Bool = false) {
        self.name = name
        self.fd = fd
        self.tls = tls
        self.responder = responder
        self.maxConnections = maxConnections
        self.loopbackOnly = loopbackOnly
    }
}

/// State every loop shares: settings, counters, metrics.
final class ServerCore: Sendable {
    let configuration: ServerConfiguration
    private let connectionIDs = Atomic<UInt64>(0)
    private let open = OpenCounts()
    private let drainingFlag = Atomic<Bool>(false)

    private let connectionsTotal: Counter
    private let connectionsRejected: Counter
    private let handshakeFailures: Counter
    private let timeouts: Counter

    init(configuration: ServerConfiguration, metrics: MetricsRegistry) {
        self.configuration = configuration
        connectionsTotal = metrics.counter("refex_connections_total", help: "Connections accepted.", labelNames: ["listener"])
        connectionsRejected = metrics.counter(
            "refex_connections_rejected_total", help: "Connections refused at the connection limit or from a non-loopback peer.",
            labelNames: ["listener", "reason"]
        )
        handshakeFailures = metrics.counter(
            "refex_tls_handshake_failures_total", help: "TLS handshakes that failed, by reason.", labelNames: ["reason"]
        )
        timeouts = metrics.counter(
            "refex_connection_timeouts_total", help: "Connections closed for being too slow, by phase.", labelNames: ["listener", "phase"]
        )
        let open = self.open
        metrics.gauge("refex_connections_open", help: "Connections open now.", labelNames: ["listener"]) {
            open.counts.withLock { $0 }.sorted { $0.key < $1.key }.map { (labels: [$0.key], value: Double($0.value)) }
        }
    }

    func nextConnectionID() -> UInt64 { connectionIDs.add(1, ordering: .relaxed).newValue }

    var isDraining: Bool { drainingFlag.load(ordering: .acquiring) }

    func beginDraining() { drainingFlag.store(true, ordering: .releasing) }

    /// Counts a new connection in; says whether it is over the limit, or so far over it that it is closed at once.
    func admit(listener: ListenerSpec) -> Admission {
        let count = open.counts.withLock { counts -> Int in
            counts[listener.name, default: 0] += 1
            return counts[listener.name, default: 0]
        }
        connectionsTotal.increment([listener.name])
        if count > listener.maxConnections + max(16, listener.maxConnections / 8) {
            connectionsRejected.increment([listener.name, "overflow"])
            return .closeNow
        }
        if count > listener.maxConnections {
            connectionsRejected.increment([listener.name, "limit"])
            return .answer503
        }
        return .serve
    }

    enum Admission { case serve, answer503, closeNow }

    func connectionClosed(listener: ListenerSpec) {
        open.counts.withLock { $0[listener.name, default: 1] -= 1 }
    }

    func openConnections(listener: String? = nil) -> Int {
        open.counts.withLock { counts in listener.map { counts[$0] ?? 0 } ?? counts.values.reduce(0, +) }
    }

    func recordHandshakeFailure(reason: String) { handshakeFailures.increment([reason]) }

    func recordTimeout(listener: String, phase: String) { timeouts.increment([listener, phase]) }

    func recordNonLoopbackRefused(listener: String) { connectionsRejected.increment([listener, "not_loopback"]) }
}

/// Open connections per listener, shared with the metrics gauge that reports them.
final class OpenCounts: Sendable {
    let counts = Mutex<[String: Int]>([:])
}
