import Exchange
import Foundation
import HTTP
import HTTPClient
import Logging
import Metrics
import Services
import Synchronization
import Timekeeping

/// Pushes authorised disclosures and notices from the outbox to recipients over mutual TLS.
///
/// One dispatcher claims due items from the store, each under a lease held by this process
/// (`claimant`), only as many as a recipient's lane can start at once; each push recipient has
/// its own lane (worker threads up to the concurrency limit, each with its own kept-alive
/// connection, and a circuit breaker), so that a slow or dead recipient never holds up another.
/// The claim, not memory, keeps an item from being attempted twice at once, here or on another
/// node; recording the attempt ends it. The outbox is durable: a crash only delays delivery
/// (until the dead process's leases end), and a repeat is always under the same `Idempotency-Key`.
///
/// A service: `run()` dispatches until `stop()`, then waits for the attempts under way and the
/// recording of their outcomes, and gives back the claims it had not started.
package final class DeliveryService: Service {
    package let name = "delivery"
    private let exchange: Exchange
    private let configuration: DeliveryConfiguration
    private let logger: Logger
    /// This process, as the holder of outbox claims.
    private let claimant: String
    private let lanes = Mutex<[String: RecipientLane]>([:])
    /// Lanes replaced (their endpoint or CA changed) whose attempts may still be under way: the
    /// stop waits for them too, so that none records into a closed store.
    private let retired = Mutex<[RecipientLane]>([])
    private let stopping = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let metrics: DeliveryMetrics

    /// `claimant`: this node's id in outbox claims; by default random for each process, so that a
    /// restarted refex never mistakes its predecessor's claims for its own.
    package init(
        exchange: Exchange, configuration: DeliveryConfiguration, metrics: MetricsRegistry, logger: Logger,
        claimant: String = "refex-\(UUID().uuidString.lowercased())"
    ) {
        self.exchange = exchange
        self.configuration = configuration
        self.logger = logger
        self.claimant = claimant
        self.metrics = DeliveryMetrics(metrics)
    }

    /// Something was enqueued: look now rather than at the next poll.
    package func nudge() { wake.signal() }

    /// The recipients whose circuit is open now: their deliveries wait (the console's overview).
    package func openCircuits() -> Set<String> {
        Set(lanes.withLock { $0 }.values.filter(\.isCircuitOpen).map(\.recipientID))
    }

    /// Dispatches until `stop()`; then stops taking items, gives back the claims not yet started,
    /// and waits for attempts under way (each bounded by its timeout) and for their outcomes to
    /// be recorded: a worker still inside libcurl and OpenSSL when the process exits crashes it,
    /// and an outcome not recorded is an attempt made again.
    package func run() {
        var lastDepths = UInt64(0)
        while !stopping.load(ordering: .acquiring) {
            dispatchDue()
            let now = DispatchTime.now().uptimeNanoseconds
            if now &- lastDepths > 1_000_000_000 {
                lastDepths = now
                if let depths = try? runAsync({ [exchange] in try await exchange.outboxDepths() }) {
                    metrics.update(depths: depths, now: Timestamp(Date()))
                }
            }
            _ = wake.wait(timeout: .now() + .milliseconds(Int(configuration.pollInterval.wholeMilliseconds)))
        }
        let all = lanes.withLock { $0.values.map { $0 } } + retired.withLock { $0 }
        release(all.flatMap { $0.stop() })
        // Bounded so that the drain and this stay within systemd's TimeoutStopSec (45 s); an
        // attempt still under way after it is made again once its lease ends, under the same Idempotency-Key.
        let deadline = DispatchTime.now() + .seconds(min(Int(configuration.attemptTimeout.components.seconds) + 1, 10))
        for lane in all { lane.waitUntilStopped(deadline) }
    }

    /// Asks `run()` to finish; returns at once.
    package func stop() {
        stopping.store(true, ordering: .releasing)
        wake.signal()
    }

    private func dispatchDue() {
        var endpoints: [String: (endpoint: String, caPath: String)] = [:]
        for recipient in exchange.recipients {
            if case .push(let endpoint, let caPath) = recipient.delivery, endpoints[recipient.id] == nil { endpoints[recipient.id] = (endpoint, caPath) }
        }
        // A read beside the writer first: most polls find nothing, and claiming is a write.
        let waiting: Set<String>
        do {
            let pushRecipients = endpoints.keys.sorted()
            waiting = Set(try runAsync { [exchange] in try await exchange.dueOutbox(recipientIDs: pushRecipients, limit: 1) }.map(\.recipientID))
        } catch {
            logger.error("cannot read the outbox", [("error", "\(error)")])
            return
        }
        guard !waiting.isEmpty else { return }
        let now = Timestamp(Date())
        var room: [String: Int] = [:]
        var laneFor: [String: RecipientLane] = [:]
        var replaced: [RecipientLane] = []
        for recipientID in waiting.sorted() {
            guard let (endpoint, caPath) = endpoints[recipientID] else { continue }
            let lane = lanes.withLock { lanes -> RecipientLane? in
                if let lane = lanes[recipientID], lane.endpoint == endpoint, lane.caPath == caPath { return lane }
                let wake = self.wake
                guard let lane = RecipientLane(
                    recipientID: recipientID, endpoint: endpoint, caPath: caPath, configuration: configuration,
                    exchange: exchange, metrics: metrics, logger: logger, finished: { wake.signal() }
                ) else { return nil }
                if let old = lanes[recipientID] { replaced.append(old) }
                lanes[recipientID] = lane
                return lane
            }
            guard let lane else { continue }
            laneFor[recipientID] = lane
            let free = lane.room(now: now)
            if free > 0 { room[recipientID] = free }
        }
        // A lane whose endpoint or CA changed finishes what it started; what it had not is claimed again.
        release(replaced.flatMap { $0.stop() })
        if !replaced.isEmpty {
            retired.withLock { retired in
                retired.removeAll { $0.hasStopped }
                retired += replaced
            }
        }
        guard !room.isEmpty else { return }
        let claimed: [OutboxItem]
        do {
            claimed = try runAsync { [exchange, claimant, configuration, room] in
                try await exchange.claimDueOutbox(room, claimant: claimant, lease: configuration.lease)
            }
        } catch {
            logger.error("cannot claim from the outbox", [("error", "\(error)")])
            return
        }
        var refused: [OutboxItem] = []
        for item in claimed {
            guard let lane = laneFor[item.recipientID], lane.offer(item, now: now) else {
                refused.append(item)
                continue
            }
        }
        release(refused)
    }

    /// Gives back claims on items not attempted, so that they are taken again at once rather than when their leases end.
    private func release(_ items: [OutboxItem]) {
        guard !items.isEmpty else { return }
        do {
            try runAsync { [exchange] in try await exchange.releaseClaims(items) }
        } catch {
            logger.warning("cannot give back outbox claims; they are taken again when their leases end", [
                ("items", String(items.count)), ("error", "\(error)"),
            ])
        }
    }
}

/// One push recipient: the items it has claimed and not yet started, its worker threads and its circuit breaker.
final class RecipientLane: Sendable {
    let recipientID: String
    let endpoint: String
    let caPath: String
    private let configuration: DeliveryConfiguration
    private let exchange: Exchange
    private let metrics: DeliveryMetrics
    private let logger: Logger
    private let state: Mutex<LaneState>
    private let work = DispatchSemaphore(value: 0)
    /// The worker threads still running, and the outcomes still being recorded.
    private let running = DispatchGroup()
    private let recording = DispatchGroup()
    /// Called when an attempt ends and when its outcome is recorded, so that the dispatcher refills the lane at once.
    private let finished: @Sendable () -> Void

    struct LaneState {
        /// Claimed items waiting for a worker (at most the concurrency limit, less those in flight).
        var queue: [OutboxItem] = []
        var inFlight = 0
        var breaker: CircuitBreaker
        var stopped = false
    }

    init?(
        recipientID: String, endpoint: String, caPath: String, configuration: DeliveryConfiguration,
        exchange: Exchange, metrics: DeliveryMetrics, logger: Logger, finished: @escaping @Sendable () -> Void
    ) {
        guard let ca = FileManager.default.contents(atPath: caPath) else {
            logger.error("cannot read a recipient's CA", [("recipient", recipientID), ("path", caPath)])
            return nil
        }
        self.recipientID = recipientID
        self.endpoint = endpoint
        self.caPath = caPath
        self.configuration = configuration
        self.exchange = exchange
        self.metrics = metrics
        self.logger = logger
        self.finished = finished
        state = Mutex(LaneState(breaker: CircuitBreaker(threshold: configuration.circuitThreshold, openFor: configuration.circuitOpenFor)))
        let clientConfiguration = HTTPClientConfiguration(
            certificatePEM: configuration.clientCertificatePEM, privateKeyPEM: configuration.clientKeyPEM,
            trustedCAPEM: Array(ca), connectTimeout: configuration.connectTimeout, totalTimeout: configuration.attemptTimeout
        )
        for index in 0..<max(1, configuration.concurrencyPerRecipient) {
            running.enter()
            let thread = Thread { [self] in runWorker(clientConfiguration) }
            thread.name = "refex-deliver-\(recipientID)-\(index)"
            thread.start()
        }
    }

    /// How many items the lane could start now: what to claim for it. Changes nothing (a
    /// half-open circuit's probe is taken by `offer`).
    func room(now: Timestamp) -> Int {
        state.withLock { state in
            guard !state.stopped else { return 0 }
            var breaker = state.breaker
            return breaker.permits(now: now, inFlight: state.inFlight + state.queue.count, limit: max(1, configuration.concurrencyPerRecipient))
        }
    }

    /// Whether the circuit breaker holds deliveries back now.
    var isCircuitOpen: Bool { state.withLock { $0.breaker.isOpen } }

    /// Takes a claimed `item` if the circuit and the concurrency limit allow; false: the caller gives the claim back.
    func offer(_ item: OutboxItem, now: Timestamp) -> Bool {
        let accepted = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            let room = state.breaker.permits(now: now, inFlight: state.inFlight + state.queue.count, limit: max(1, configuration.concurrencyPerRecipient))
            guard room > 0 else { return false }
            state.queue.append(item)
            return true
        }
        metrics.circuit(recipientID, open: state.withLock { $0.breaker.isOpen })
        if accepted { work.signal() }
        return accepted
    }

    /// Stops taking items and lets the workers leave after their attempts under way; returns the
    /// claimed items not started, for the caller to give back.
    func stop() -> [OutboxItem] {
        let workers = max(1, configuration.concurrencyPerRecipient)
        let unstarted = state.withLock { state -> [OutboxItem] in
            state.stopped = true
            defer { state.queue = [] }
            return state.queue
        }
        for _ in 0..<workers { work.signal() }
        return unstarted
    }

    /// Waits until every worker has left (its attempt under way done) and every outcome is recorded, or `deadline`.
    func waitUntilStopped(_ deadline: DispatchTime) {
        _ = running.wait(timeout: deadline)
        _ = recording.wait(timeout: deadline)
    }

    /// Stopped, every worker gone and every outcome recorded: nothing of this lane is left to wait for.
    var hasStopped: Bool {
        state.withLock { $0.stopped } && running.wait(timeout: .now()) == .success && recording.wait(timeout: .now()) == .success
    }

    private func runWorker(_ clientConfiguration: HTTPClientConfiguration) {
        defer { running.leave() }
        let client: HTTPClient
        do {
            client = try HTTPClient(clientConfiguration)
        } catch {
            logger.error("cannot set up delivery", [("recipient", recipientID), ("error", "\(error)")])
            return
        }
        while true {
            work.wait()
            let next = state.withLock { state -> OutboxItem?? in
                if state.stopped { return .none }
                guard !state.queue.isEmpty else { return .some(nil) }
                state.inFlight += 1
                return .some(state.queue.removeFirst())
            }
            guard let taken = next else { return }
            guard let item = taken else { continue }
            attempt(item, client: client)
            state.withLock { $0.inFlight -= 1 }
            finished()
        }
    }

    private func attempt(_ item: OutboxItem, client: HTTPClient) {
        let body: [UInt8]
        do {
            body = try runAsync { [exchange] in try await exchange.deliveryBody(for: item) }
        } catch let error as ExchangeError where error.kind == .erased || error.kind == .notFound {
            // Cancelled or erased since it was queued: it must not go out.
            _ = try? runAsync { [exchange] in try await exchange.discard(item) }
            return
        } catch {
            // Left claimed: it is tried again when the lease ends, not in a tight loop.
            logger.error("cannot build a delivery", [("recipient", recipientID), ("item", item.id), ("error", "\(error)")])
            return
        }
        // An attempt starts only with time to finish under its lease: otherwise another node may
        // take the item meanwhile. Given back, it is claimed afresh.
        let started = Timestamp(Date())
        guard let claim = item.claim, claim.until.milliseconds - started.milliseconds > configuration.attemptTimeout.wholeMilliseconds else {
            _ = try? runAsync { [exchange] in try await exchange.releaseClaims([item]) }
            return
        }
        metrics.attempted(recipientID)
        let outcome = client.post(endpoint, body: body, headers: [
            ("Content-Type", "application/json"), ("Idempotency-Key", item.id), ("X-Refex-Type", item.kind.rawValue),
        ])
        let result: RetrySchedule.Outcome
        let now = Timestamp(Date())
        switch outcome {
        case .response(let status, let headers, _):
            // One Retry-After field, in any of its forms (RFC 9110 §10.2.3); an invalid one is ignored.
            let retryAfter = headers.filter { $0.name == "retry-after" }
            let delay = retryAfter.count == 1 ? RetryAfter.delayMilliseconds(retryAfter[0].value, nowMilliseconds: now.milliseconds) : nil
            result = .status(status, retryAfterMilliseconds: delay)
        case .failure(let error):
            result = .transportError(error.description)
        }
        let decision = configuration.schedule.decide(
            result, attempt: item.attempts + 1, enqueuedAt: item.enqueuedAt, now: now, jitter: Double.random(in: 0..<1)
        )
        let circuitOpen = state.withLock { state -> Bool in
            if case .delivered = decision { state.breaker.recordSuccess() } else { state.breaker.recordFailure(now: now) }
            return state.breaker.isOpen
        }
        metrics.circuit(recipientID, open: circuitOpen)
        // The outcome is committed while this worker goes on to the next item; the item stays
        // claimed until then (recording ends the claim), so that it is never attempted again
        // before its outcome is durable. The data has left: its outcome is never dropped. A store
        // that cannot commit (a full disk) is retried with backoff; only a refusal by the domain
        // (or a stop) gives up, leaving the item in the outbox to be claimed, and sent, again
        // under the same Idempotency-Key once its lease ends.
        recording.enter()
        Task { [self] in
            defer { recording.leave() }
            var delay = Duration.milliseconds(250)
            while true {
                do {
                    try await exchange.recordDelivery(item, decision: decision)
                    break
                } catch let error as ExchangeError {
                    logger.error("cannot record a delivery outcome", [("item", item.id), ("error", "\(error)")])
                    break
                } catch {
                    if state.withLock({ $0.stopped }) {
                        logger.error("cannot record a delivery outcome before stopping; it is sent again after restart", [("item", item.id)])
                        break
                    }
                    logger.warning("cannot record a delivery outcome yet; retrying", [("item", item.id), ("error", "\(error)")])
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(10))
                }
            }
            finished()
        }
        switch decision {
        case .delivered:
            metrics.outcome(recipientID, "delivered")
            logger.info("delivered", [("recipient", recipientID), ("item", item.id), ("type", item.kind.rawValue)])
        case .retry(_, let reason):
            metrics.outcome(recipientID, "retry")
            logger.warning("delivery will be retried", [("recipient", recipientID), ("item", item.id), ("reason", reason)])
        case .fail(let reason):
            metrics.outcome(recipientID, "failed")
            logger.error("delivery failed", [("recipient", recipientID), ("item", item.id), ("reason", reason)])
        }
    }
}

/// The delivery metrics: queue depth and oldest age per recipient, attempts, outcomes, circuits.
final class DeliveryMetrics: Sendable {
    private let attempts: Counter
    private let outcomes: Counter
    private let circuitOpen: Gauge
    private let snapshot = DepthSnapshot()

    init(_ registry: MetricsRegistry) {
        attempts = registry.counter("refex_delivery_attempts_total", help: "Delivery attempts, by recipient.", labelNames: ["recipient"])
        outcomes = registry.counter(
            "refex_delivery_outcomes_total", help: "Delivery attempt outcomes (delivered, retry, failed), by recipient.",
            labelNames: ["recipient", "outcome"]
        )
        circuitOpen = registry.gauge("refex_delivery_circuit_open", help: "1 while a recipient's circuit is open.", labelNames: ["recipient"])
        let snapshot = self.snapshot
        registry.gauge("refex_outbox_depth", help: "Items waiting in the outbox, by recipient and state.", labelNames: ["recipient", "state"]) {
            snapshot.value.withLock { $0.depths }.flatMap { depth in
                [(labels: [depth.recipientID, "pending"], value: Double(depth.pending)),
                 (labels: [depth.recipientID, "failed"], value: Double(depth.failed))]
            }
        }
        registry.gauge("refex_outbox_oldest_age_seconds", help: "Age of the oldest pending item, by recipient.", labelNames: ["recipient"]) {
            let (all, at) = snapshot.value.withLock { $0 }
            return all.map { depth in
                (labels: [depth.recipientID], value: depth.oldestPending.map { Double(at.milliseconds - $0.milliseconds) / 1000 } ?? 0)
            }
        }
    }

    func update(depths: [OutboxDepth], now: Timestamp) { snapshot.value.withLock { $0 = (depths, now) } }
    func attempted(_ recipient: String) { attempts.increment([recipient]) }
    func outcome(_ recipient: String, _ outcome: String) { outcomes.increment([recipient, outcome]) }
    func circuit(_ recipient: String, open: Bool) { circuitOpen.set(open ? 1 : 0, [recipient]) }
}

/// The last outbox depths read, shared with the gauges that report them.
final class DepthSnapshot: Sendable {
    let value = Mutex<(depths: [OutboxDepth], at: Timestamp)>(([], Timestamp(milliseconds: 0)))
}
