import Foundation
import Synchronization
import Logging
import Metrics
import Server

/// One log line and the metrics for every answered request: ids, route, status and duration only.
package struct RequestRecorder: Sendable {
    /// The operational log the lines go to.
    package let logger: Logger
    private let requests: Counter
    private let durations: Histogram

    package init(logger: Logger, metrics: MetricsRegistry) {
        self.logger = logger
        requests = metrics.counter(
            "refex_http_requests_total", help: "HTTP requests answered, by listener, route, method and status.",
            labelNames: ["listener", "route", "method", "status"]
        )
        durations = metrics.histogram(
            "refex_http_request_duration_seconds", help: "Time from a complete request to its response, by listener and route.",
            labelNames: ["listener", "route"]
        )
    }

    /// `routine`: a probe or scrape (`/metrics`, `/healthz`, a ready `/readyz`) that answered as
    /// expected, logged at debug so that a scraper every few seconds does not fill the journal.
    package func record(
        listener: String, requestID: String, partner: String?, method: String, route: String, status: Int, startedAt: UInt64,
        routine: Bool = false
    ) {
        let seconds = Double(MonotonicClock.now() &- startedAt) / 1e9
        let method = RequestRecorder.methodLabel(method)
        requests.increment([listener, route, method, String(status)])
        durations.observe(seconds, [listener, route])
        // 501 and 505 answer what the client sent (a transfer coding, an HTTP version): not a fault of refex's.
        let level: Logger.Level = status >= 500 && status != 501 && status != 505 ? .error : (routine && status < 400 ? .debug : .info)
        logger.log(level, "request", [
            ("id", requestID), ("listener", listener), ("partner", partner ?? "-"), ("method", method),
            ("route", route), ("status", String(status)), ("duration_ms", RequestRecorder.hundredths(seconds * 1000)),
        ])
    }
}

extension RequestRecorder {
    /// `value` with two decimals (`12.34`), ties to even as printf, without a formatter per request.
    static func hundredths(_ value: Double) -> String {
        guard value.isFinite, abs(value) < 1e15 else { return "0.00" }
        let hundredths = Int64((abs(value) * 100).rounded(.toNearestOrEven))
        let fraction = hundredths % 100
        return (value < 0 && hundredths > 0 ? "-" : "") + String(hundredths / 100) + (fraction < 10 ? ".0" : ".") + String(fraction)
    }

    private static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "-"]

    /// The method as a label: the standard ones by name, anything else `other`, so that a client
    /// inventing method names cannot create metric series (or long log lines) without bound.
    static func methodLabel(_ method: String) -> String {
        knownMethods.contains(method) ? method : "other"
    }
}

/// A short id for a request, to match a log line with what a partner reports: a random base
/// for the process plus a counter (no system call per request), 16 hex digits.
package func makeRequestID() -> String {
    let value = requestIDs.base &+ requestIDs.counter.add(1, ordering: .relaxed).newValue
    return String(unsafeUninitializedCapacity: 16) { digits in
        for position in 0..<16 {
            let nibble = UInt8(truncatingIfNeeded: value >> (60 - 4 * UInt64(position))) & 0xF
            digits[position] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
        }
        return 16
    }
}

private let requestIDs = RequestIDs()

private final class RequestIDs: Sendable {
    let base = UInt64.random(in: 0...UInt64.max)
    let counter = Atomic<UInt64>(0)
}
