import Foundation
import Synchronization
import Logging
import Metrics
import TLS

/// A listening socket and how to serve it.
package struct ListenerSpec: Sendable {
    /// `api`, `ops`, …: used in metrics and passed to the responder.
    package var name: String
    package var fd: Int32
    /// TLS for this listener; nil serves plain HTTP (loopback only).
    package var tls: TLSContextHolder?
    package var responder: any HTTPResponder
    /// Authenticated connections (handshake finished); beyond it 503 and close.
    package var maxConnections: Int
    /// Refuse peers that are not on loopback (for the plain ops listener).
    package var loopbackOnly: Bool
    /// Connections still in their handshake, and how many of them one peer address may hold.
    package var maxHandshakes: Int
    package var maxHandshakesPerAddress: Int
    /// Authenticated connections one client may hold, a client being what `clientKey` names.
    package var maxConnectionsPerClient: Int
    /// Who a connection's client is once its handshake is done (for refex's API, the partner id);
    /// nil: not capped per client.
    package var clientKey: (@Sendable (ConnectionContext) -> String?)?

    package init(
        name: String, fd: Int32, tls: TLSContextHolder?, responder: any HTTPResponder, maxConnections: Int, loopbackOnly: Bool = false,
        maxHandshakes: Int = 256, maxHandshakesPerAddress: Int = 256, maxConnectionsPerClient: Int = .max,
        clientKey: (@Sendable (ConnectionContext) -> String?)? = nil
    ) {
        self.name = name
        self.fd = fd
        self.tls = tls
        self.responder = responder
        self.maxConnections = maxConnections
        self.loopbackOnly = loopbackOnly
        self.maxHandshakes = maxHandshakes
        self.maxHandshakesPerAddress = maxHandshakesPerAddress
        self.maxConnectionsPerClient = maxConnectionsPerClient
        self.clientKey = clientKey
    }
}

/// State every loop shares: settings, connection budgets, counters, metrics.
final class ServerCore: Sendable {
    let configuration: ServerConfiguration
    let logger: Logger
    /// The time every connection's limits and the handshake budget's staleness are measured on.
    let clock: MonotonicClock
    /// `configuration`'s time limits, for each connection's state machine.
    let connectionTimeouts: ConnectionStateMachine.Timeouts
    private let connectionIDs = Atomic<UInt64>(0)
    private let open = OpenCounts()
    private let handshakeRegistry = HandshakeRegistry()
    private let clients = Mutex<[String: ClientSlots]>([:])
    private let drainingFlag = Atomic<Bool>(false)

    private let connectionsTotal: Counter
    private let connectionsRejected: Counter
    private let handshakeFailures: Counter
    private let timeouts: Counter

    init(configuration: ServerConfiguration, metrics: MetricsRegistry, logger: Logger, clock: MonotonicClock = .system) {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        connectionTimeouts = ConnectionStateMachine.Timeouts(configuration)
        connectionsTotal = metrics.counter("refex_connections_total", help: "Connections accepted.", labelNames: ["listener"])
        connectionsRejected = metrics.counter(
            "refex_connections_rejected_total",
            help: "Connections refused or cut by a connection budget (limit, partner_limit, address_limit, handshake_budget) or from a non-loopback peer.",
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
        let registry = handshakeRegistry
        metrics.gauge("refex_connections_handshaking", help: "Connections open now that have not finished their handshake.", labelNames: ["listener"]) {
            registry.slots.withLock { $0 }.sorted { $0.key < $1.key }.map { (labels: [$0.key], value: Double($0.value.entries.count)) }
        }
    }

    func nextConnectionID() -> UInt64 { connectionIDs.add(1, ordering: .relaxed).newValue }

    var isDraining: Bool { drainingFlag.load(ordering: .acquiring) }

    func beginDraining() { drainingFlag.store(true, ordering: .releasing) }

    /// Counts an accepted socket in (for the open-connections gauge).
    func accepted(listener: ListenerSpec) {
        open.counts.withLock { $0[listener.name, default: 0] += 1 }
        connectionsTotal.increment([listener.name])
    }

    func connectionClosed(listener: ListenerSpec) {
        open.counts.withLock { $0[listener.name, default: 1] -= 1 }
    }

    /// A handshake unfinished after this long is idle or crawling (one on a live network takes
    /// milliseconds): a newer connection from the same address may take its slot.
    static let staleHandshake: UInt64 = 1_000_000_000

    /// Gives a new connection a handshake slot. When its address already holds its share, the
    /// address's oldest handshake makes room if it is stale, else the new connection is refused
    /// (false: closed at once). When every slot is taken, the oldest handshake of the address holding
    /// the most is displaced. A displaced connection's `evict` is called.
    func beginHandshake(listener: ListenerSpec, id: UInt64, address: String, evict: @escaping @Sendable () -> Void) -> Bool {
        let now = clock.now()
        let outcome = handshakeRegistry.slots.withLock { all -> (admitted: Bool, evicted: [(reason: String, evict: @Sendable () -> Void)]) in
            var slots = all[listener.name] ?? HandshakeSlots()
            defer { all[listener.name] = slots }
            var evicted: [(reason: String, evict: @Sendable () -> Void)] = []
            if slots.count(from: address) >= listener.maxHandshakesPerAddress {
                guard let oldest = slots.oldest(from: address), now &- oldest.startedAt > ServerCore.staleHandshake,
                      let action = slots.remove(oldest.id) else { return (false, []) }
                evicted.append(("address_limit", action))
            }
            if slots.entries.count >= listener.maxHandshakes, let victim = slots.oldestOfBusiestAddress(), let action = slots.remove(victim) {
                evicted.append(("handshake_budget", action))
            }
            slots.insert(id: id, address: address, startedAt: now, evict: evict)
            return (true, evicted)
        }
        if !outcome.admitted { connectionsRejected.increment([listener.name, "address_limit"]) }
        for (reason, evict) in outcome.evicted {
            connectionsRejected.increment([listener.name, reason])
            evict()
        }
        return outcome.admitted
    }

    /// Frees a connection's handshake slot (done, failed, timed out or closed); harmless if it has none.
    func endHandshake(listener: ListenerSpec, id: UInt64) {
        handshakeRegistry.slots.withLock { all in _ = all[listener.name]?.remove(id) }
    }

    /// Counts in a connection whose handshake is done: `.answer503` beyond the listener's limit or the client's.
    func admitClient(listener: ListenerSpec, key: String?) -> Admission {
        let admission = clients.withLock { all -> Admission in
            var slots = all[listener.name] ?? ClientSlots()
            defer { all[listener.name] = slots }
            if slots.total >= listener.maxConnections { return .answer503(reason: "limit") }
            if let key, slots.byClient[key, default: 0] >= listener.maxConnectionsPerClient { return .answer503(reason: "partner_limit") }
            slots.total += 1
            if let key { slots.byClient[key, default: 0] += 1 }
            return .serve
        }
        if case .answer503(let reason) = admission { connectionsRejected.increment([listener.name, reason]) }
        return admission
    }

    /// Releases what `admitClient` counted in for a connection it served.
    func clientClosed(listener: ListenerSpec, key: String?) {
        clients.withLock { all in
            guard var slots = all[listener.name] else { return }
            slots.total = max(0, slots.total - 1)
            if let key {
                let left = slots.byClient[key, default: 1] - 1
                slots.byClient[key] = left > 0 ? left : nil
            }
            all[listener.name] = slots
        }
    }

    enum Admission: Equatable { case serve, answer503(reason: String) }

    func openConnections(listener: String? = nil) -> Int {
        open.counts.withLock { counts in listener.map { counts[$0] ?? 0 } ?? counts.values.reduce(0, +) }
    }

    /// A handshake refused or abandoned: counted by reason and logged once, with the peer's address.
    func recordHandshakeFailure(listener: String, failure: TLSFailure, peer: ListenAddress?) {
        handshakeFailures.increment([failure.reason])
        let metadata: Logger.Metadata = [
            ("listener", listener), ("peer", peer?.description ?? "-"), ("reason", failure.reason), ("detail", failure.detail),
        ]
        switch failure.reason {
        case "crl_expired", "crl_unavailable":
            // Every client of that CA is refused alike: the operator must act.
            logger.error("TLS handshake refused: the CRL cannot vouch for the client certificate", metadata)
        case "no_certificate", "unknown_ca", "revoked", "expired", "not_yet_valid", "bad_certificate", "borrowed_ca_name",
             "failed_after_reload":
            logger.warning("TLS handshake refused", metadata)
        case "not_tls":
            logger.notice("plain HTTP on the TLS port: answered 400", metadata)
        case "eof", "io":
            // A client that hung up (a port probe, a TCP health check): not a refusal.
            logger.log(.debug, "TLS handshake abandoned", metadata)
        default:
            logger.info("TLS handshake failed", metadata)
        }
    }

    /// A connection closed because its client no longer passes verification (expired, revoked, CRL out of date).
    func recordClientNoLongerVerified(listener: String, failure: TLSFailure, peer: ListenAddress?) {
        handshakeFailures.increment(["\(failure.reason)_after_handshake"])
        logger.warning("connection closed: its client certificate no longer verifies", [
            ("listener", listener), ("peer", peer?.description ?? "-"), ("reason", failure.reason), ("detail", failure.detail),
        ])
    }

    func recordTimeout(listener: String, phase: String) { timeouts.increment([listener, phase]) }

    func recordNonLoopbackRefused(listener: String) { connectionsRejected.increment([listener, "not_loopback"]) }
}

/// Open connections per listener, shared with the metrics gauge that reports them.
final class OpenCounts: Sendable {
    let counts = Mutex<[String: Int]>([:])
}

/// Every listener's handshake slots, shared with the gauge that reports them.
final class HandshakeRegistry: Sendable {
    let slots = Mutex<[String: HandshakeSlots]>([:])
}

/// One listener's connections that are still in their handshake, by peer address, oldest first.
struct HandshakeSlots {
    private(set) var entries: [UInt64: (address: String, startedAt: UInt64, evict: @Sendable () -> Void)] = [:]
    private(set) var byAddress: [String: [UInt64]] = [:]

    mutating func insert(id: UInt64, address: String, startedAt: UInt64, evict: @escaping @Sendable () -> Void) {
        entries[id] = (address, startedAt, evict)
        byAddress[address, default: []].append(id)
    }

    func count(from address: String) -> Int { byAddress[address]?.count ?? 0 }

    func oldest(from address: String) -> (id: UInt64, startedAt: UInt64)? {
        guard let id = byAddress[address]?.first, let entry = entries[id] else { return nil }
        return (id, entry.startedAt)
    }

    /// Removes a connection; returns its evict action.
    @discardableResult
    mutating func remove(_ id: UInt64) -> (@Sendable () -> Void)? {
        guard let entry = entries.removeValue(forKey: id) else { return nil }
        var ids = byAddress[entry.address] ?? []
        ids.removeAll { $0 == id }
        byAddress[entry.address] = ids.isEmpty ? nil : ids
        return entry.evict
    }

    /// The oldest connection (ids grow with time) of the address with the most; ties go to the oldest.
    func oldestOfBusiestAddress() -> UInt64? {
        var best: (count: Int, oldest: UInt64)?
        for ids in byAddress.values {
            guard let oldest = ids.first else { continue }
            if let current = best, ids.count < current.count || (ids.count == current.count && oldest > current.oldest) { continue }
            best = (ids.count, oldest)
        }
        return best?.oldest
    }
}

/// One listener's authenticated connections, in total and per client.
struct ClientSlots {
    var total = 0
    var byClient: [String: Int] = [:]
}
