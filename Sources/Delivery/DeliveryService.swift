import Exchange
import Foundation
import HTTP
import HTTPClient
import Logging
import Metrics
import Synchronization

/// Pushes authorised disclosures and notices from the outbox to recipients over mutual TLS.
///
/// One dispatcher finds due items; each push recipient has its own lane (a queue, worker
/// threads up to the concurrency limit, each with its own kept-alive connection, and a circuit
/// breaker), so that a slow or dead recipient never holds up another. The outbox is durable:
/// a crash only delays delivery, and a repeat is always under the same `Idempotency-Key`.
package final class DeliveryService: Sendable {
    private let exchange: Exchange
    private let configuration: DeliveryConfiguration
    private let logger: Logger
    private let lanes = Mutex<[String: RecipientLane]>([:])
    private let stopping = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let metrics: DeliveryMetrics

    package init(exchange: Exchange, configuration: DeliveryConfiguration, metrics: MetricsRegistry, logger: Logger) {
        self.exchange = exchange
        self.configuration = configuration
        self.logger = logger
        self.metrics = DeliveryMetrics(metrics)
    }

    package func start() {
        let thread = Thread { [self] in runDispatcher() }
        thread.name = "refex-delivery"
        thread.start()
    }

    /// Something was enqueued: look now rather than at the next poll.
    package func nudge() { wake.signal() }

    /// Stops taking new items and waits for attempts under way (each bounded by its timeout)
    /// and for their outcomes to be recorded: a worker still inside libcurl and OpenSSL when the
    /// process exits crashes it, and an outcome not recorded is an attempt made again.
    package func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake.signal()
        finished.wait()
        let all = lanes.withLock { $0.values.map { $0 } }
        for lane in all { lane.stop() }
        // Bounded so that the drain and this stay within systemd's TimeoutStopSec (30 s); an
        // attempt still under way after it is made again later, under the same Idempotency-Key.
        let deadline = DispatchTime.now() + .seconds(min(Int(configuration.attemptTimeout.components.seconds) + 1, 10))
        for lane in all { lane.waitUntilStopped(deadline) }
    }

    private func runDispatcher() {
        var lastDepths = UInt64(0)
        while !stopping.load(ordering: .acquiring) {
            dispatchDue()
            let now = DispatchTime.now().uptimeNanoseconds
            if now &- lastDepths > 1_000_000_000 {
                lastDepths = now
                if let depths = try? blocking({ [exchange] in try await exchange.outboxDepths() }) {
                    metrics.update(depths: depths, now: Timestamp(Date()))
                }
            }
            _ = wake.wait(timeout: .now() + .milliseconds(Int(configuration.pollInterval.components.seconds * 1000
                + configuration.pollInterval.components.attoseconds / 1_000_000_000_000_000)))
        }
        finished.signal()
    }

    private func dispatchDue() {
        let pushRecipients = exchange.recipients.filter { if case .push = $0.delivery { return true } else { return false } }.map(\.id)
        let perRecipient = max(1, configuration.concurrencyPerRecipient) * RecipientLane.queueFactor
        let due: [OutboxItem]
        do {
            due = try blocking { [exchange] in try await exchange.dueOutbox(recipientIDs: pushRecipients, limit: perRecipient) }
        } catch {
            logger.error("cannot read the outbox", [("error", "\(error)")])
            return
        }
        let now = Timestamp(Date())
        let recipients = Dictionary(exchange.recipients.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for item in due {
            guard let recipient = recipients[item.recipientID], case .push(let endpoint, let caPath) = recipient.delivery else {
                continue  // no longer configured for push: left in the outbox, visible in `refex outbox list`
            }
            let lane = lanes.withLock { lanes -> RecipientLane? in
                if let lane = lanes[recipient.id], lane.endpoint == endpoint, lane.caPath == caPath { return lane }
                let wake = self.wake
                guard let lane = RecipientLane(
                    recipientID: recipient.id, endpoint: endpoint, caPath: caPath, configuration: configuration,
                    exchange: exchange, metrics: metrics, logger: logger, finished: { wake.signal() }
                ) else { return nil }
                lanes[recipient.id]?.stop()
                lanes[recipient.id] = lane
                return lane
            }
            lane?.offer(item, now: now)
        }
    }
}

/// One push recipient: its queue, its worker threads and its circuit breaker.
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
    /// Called when an attempt ends, so that the dispatcher refills the lane at once.
    private let finished: @Sendable () -> Void
    /// Items a lane holds (queued and in flight) per unit of concurrency: enough that a worker
    /// never waits for the next poll.
    static let queueFactor = 4

    struct LaneState {
        var queue: [OutboxItem] = []
        /// Items queued or being attempted, so that the dispatcher never offers one twice.
        var taken: Set<String> = []
        var inFlight = 0
        var breaker: CircuitBreaker
        var stopped = false
        /// Attempts recorded lately, by item: the dispatcher's outbox read may predate a record,
        /// and such a stale offer must not start the item again early.
        var recorded: [String: (attempts: Int, enqueuedAt: Timestamp, at: Timestamp)] = [:]
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

    /// Takes `item` if the circuit and the concurrency limit allow; otherwise it waits in the outbox.
    func offer(_ item: OutboxItem, now: Timestamp) {
        let accepted = state.withLock { state -> Bool in
            guard !state.stopped, !state.taken.contains(item.id) else { return false }
            if let recorded = state.recorded[item.id] {
                // Older than what was recorded, unless an operator has queued it again since (a new enqueue time).
                guard item.attempts >= recorded.attempts || item.enqueuedAt > recorded.enqueuedAt else { return false }
                state.recorded[item.id] = nil
            }
            if state.recorded.count > 1024 {
                // Offers are at most a poll old: anything recorded a minute ago is settled.
                state.recorded = state.recorded.filter { now.milliseconds - $0.value.at.milliseconds < 60_000 }
            }
            let limit = configuration.concurrencyPerRecipient
            let room: Int
            if state.breaker.isOpen {
                room = state.breaker.permits(now: now, inFlight: state.inFlight + state.queue.count, limit: limit)
            } else {
                room = limit * RecipientLane.queueFactor - state.inFlight - state.queue.count
            }
            guard room > 0 else {
                return false
            }
            state.taken.insert(item.id)
            state.queue.append(item)
            return true
        }
        metrics.circuit(recipientID, open: state.withLock { $0.breaker.isOpen })
        if accepted { work.signal() }
    }

    func stop() {
        let workers = max(1, configuration.concurrencyPerRecipient)
        state.withLock { $0.stopped = true }
        for _ in 0..<workers { work.signal() }
    }

    /// Waits until every worker has left (its attempt under way done) and every outcome is recorded, or `deadline`.
    func waitUntilStopped(_ deadline: DispatchTime) {
        _ = running.wait(timeout: deadline)
        _ = recording.wait(timeout: deadline)
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
            body = try blocking { [exchange] in try await exchange.deliveryBody(for: item) }
        } catch let error as ExchangeError where error.kind == .erased || error.kind == .notFound {
            // Cancelled or erased since it was queued: it must not go out.
            _ = try? blocking { [exchange] in try await exchange.discard(item) }
            state.withLock { _ = $0.taken.remove(item.id) }
            return
        } catch {
            logger.error("cannot build a delivery", [("recipient", recipientID), ("item", item.id), ("error", "\(error)")])
            state.withLock { _ = $0.taken.remove(item.id) }
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
        state.withLock { state in
            if case .delivered = decision { state.breaker.recordSuccess() } else { state.breaker.recordFailure(now: now) }
        }
        // The outcome is committed while this worker goes on to the next item; the item stays
        // taken until then, so that it is never offered again before its outcome is durable.
        // The data has left: its outcome is never dropped. A store that cannot commit (a full
        // disk) is retried with backoff, the item still taken; only a refusal by the domain (or a
        // stop) gives up, leaving the item in the outbox to be offered, and sent, again under the
        // same Idempotency-Key.
        recording.enter()
        Task { [self] in
            defer { recording.leave() }
            var recorded = false
            var delay = Duration.milliseconds(250)
            while true {
                do {
                    try await exchange.recordDelivery(item, decision: decision)
                    recorded = true
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
            state.withLock { state in
                state.taken.remove(item.id)
                if recorded { state.recorded[item.id] = (item.attempts + 1, item.enqueuedAt, Timestamp(Date())) }
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
