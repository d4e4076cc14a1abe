import Timekeeping

/// When to try a delivery again, and when to give up (DESIGN.md, "Delivery (push)").
///
/// Exponential backoff with jitter from `base` up to `cap`; a `Retry-After` is honoured as a
/// minimum, whatever its length; after `maxAge` from enqueueing the item fails, and it fails at
/// once, naming Retry-After, when the recipient asks for a wait that runs past `maxAge` (retrying
/// earlier than asked would only be refused again).
package struct RetrySchedule: Sendable, Hashable {
    package var base: Duration
    package var cap: Duration
    package var maxAge: Duration

    package init(base: Duration = .seconds(1), cap: Duration = .seconds(300), maxAge: Duration = .seconds(86_400)) {
        self.base = base
        self.cap = cap
        self.maxAge = maxAge
    }

    /// What a delivery attempt came to.
    package enum Outcome: Sendable, Hashable {
        /// A response; `retryAfterMilliseconds` is the wait its `Retry-After` asked for, if any
        /// (parsed by the caller, which knows the time the answer came).
        case status(Int, retryAfterMilliseconds: Int64?)
        /// No response: connection, TLS, timeout.
        case transportError(String)
    }

    package enum Decision: Sendable, Hashable {
        case delivered
        case retry(at: Timestamp, reason: String)
        case fail(reason: String)
    }

    /// The decision after attempt number `attempt` (1-based) of an item enqueued at `enqueuedAt`.
    /// `jitter` in [0, 1) spreads retries (pass a random value; tests pass a fixed one).
    package func decide(_ outcome: Outcome, attempt: Int, enqueuedAt: Timestamp, now: Timestamp, jitter: Double) -> Decision {
        let reason: String
        var minimumDelayMs: Int64 = 0
        let deadline = enqueuedAt.milliseconds + maxAge.wholeMilliseconds
        switch outcome {
        case .status(let code, let retryAfter):
            if (200..<300).contains(code) { return .delivered }
            let retryable = code == 408 || code == 425 || code == 429 || (500..<600).contains(code)
            guard retryable else { return .fail(reason: "the recipient refused it with HTTP \(code)") }
            reason = "HTTP \(code)"
            if let retryAfter {
                minimumDelayMs = max(0, retryAfter)
                if now.milliseconds > deadline - minimumDelayMs {
                    let seconds = (minimumDelayMs + 999) / 1000
                    let wait = seconds > 315_360_000 ? "more than ten years" : "\(seconds) s"
                    return .fail(reason: "Retry-After asked for a wait of \(wait) (HTTP \(code)), past the delivery's maximum age (delivery.maxAgeSeconds \(maxAge.components.seconds)); gave up after \(attempt) attempt\(attempt == 1 ? "" : "s")")
                }
            }
        case .transportError(let message):
            reason = message
        }
        let baseMs = Double(base.wholeMilliseconds)
        let capMs = Double(cap.wholeMilliseconds)
        let exponential = min(capMs, baseMs * pow2(attempt - 1))
        // "Equal jitter": half fixed, half random, so retries never collapse to zero.
        let delayMs = max(Int64(exponential / 2 + exponential / 2 * jitter), minimumDelayMs)
        let next = Timestamp(milliseconds: now.milliseconds + delayMs)
        if next.milliseconds > deadline {
            return .fail(reason: "gave up after \(attempt) attempt\(attempt == 1 ? "" : "s"); last: \(reason)")
        }
        return .retry(at: next, reason: reason)
    }

    private func pow2(_ exponent: Int) -> Double {
        var value = 1.0
        for _ in 0..<min(max(exponent, 0), 40) { value *= 2 }
        return value
    }
}

/// A per-recipient circuit breaker: after `threshold` failures in a row the circuit opens and no
/// delivery is tried until `openFor` has passed; then one probe goes, and its outcome closes the
/// circuit or opens it again for twice as long (up to `maxOpenFor`).
package struct CircuitBreaker: Sendable, Hashable {
    package enum State: Sendable, Hashable {
        case closed
        case open(until: Timestamp)
        case halfOpen
    }

    package private(set) var state: State = .closed
    package private(set) var consecutiveFailures = 0
    private var openMs: Int64
    package let threshold: Int
    private let baseOpenMs: Int64
    private let maxOpenMs: Int64
    private var probeInFlight = false

    package init(threshold: Int = 5, openFor: Duration = .seconds(30), maxOpenFor: Duration = .seconds(300)) {
        self.threshold = threshold
        baseOpenMs = openFor.wholeMilliseconds
        openMs = baseOpenMs
        maxOpenMs = maxOpenFor.wholeMilliseconds
    }

    /// How many attempts may start now (given `inFlight` already running and a concurrency `limit`).
    package mutating func permits(now: Timestamp, inFlight: Int, limit: Int) -> Int {
        switch state {
        case .closed:
            return max(0, limit - inFlight)
        case .open(let until):
            guard now >= until else { return 0 }
            state = .halfOpen
            probeInFlight = false
            return permits(now: now, inFlight: inFlight, limit: limit)
        case .halfOpen:
            guard !probeInFlight, inFlight == 0 else { return 0 }
            probeInFlight = true
            return 1
        }
    }

    package mutating func recordSuccess() {
        consecutiveFailures = 0
        openMs = baseOpenMs
        probeInFlight = false
        state = .closed
    }

    package mutating func recordFailure(now: Timestamp) {
        consecutiveFailures += 1
        switch state {
        case .halfOpen:
            openMs = min(maxOpenMs, openMs * 2)
            state = .open(until: Timestamp(milliseconds: now.milliseconds + openMs))
            probeInFlight = false
        case .closed where consecutiveFailures >= threshold:
            state = .open(until: Timestamp(milliseconds: now.milliseconds + openMs))
        default:
            break
        }
    }

    package var isOpen: Bool {
        if case .closed = state { return false }
        return true
    }
}
