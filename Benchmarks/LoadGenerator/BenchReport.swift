import Foundation
import JSON

/// What a run measured, printed as text or as one JSON object.
struct BenchReport {
    var options: BenchOptions
    var target: String
    var tlsVersion: String
    var successes: Int
    var failures: [Failure: Int]
    var firstFailure: [Failure: String]
    var handshakes: Int
    var measuredSeconds: Double
    var latency: LatencySummary
    /// CPU time (user + system) this process used over the whole run, and the run's wall time, both in seconds.
    var clientCPUSeconds: Double
    var wallSeconds: Double
    /// The longest a load generator thread woke late from a timed wait.
    var clientMaxOversleepMs: Double
    /// Responses with the expected status, the probe and warm-up included (each one the server said it accepted).
    var expectedResponses: Int
    /// With `--interval`: measured successes per interval, by completion time.
    var intervalSuccesses: [Int]

    var failureCount: Int { failures.values.reduce(0, +) }
    var requestsPerSecond: Double { measuredSeconds > 0 ? Double(successes) / measuredSeconds : 0 }

    private func milliseconds(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1e6 }

    var text: String {
        var lines: [String] = []
        let rateText = options.rate.map { String(format: ", open loop at %.0f req/s", $0) } ?? ", closed loop"
        lines.append("refex-bench \(options.label.map { "[\($0)] " } ?? "")\(options.method) https://\(options.url.authority)\(options.url.path) (\(target), \(tlsVersion))")
        lines.append("  mode \(options.mode.rawValue), \(options.connections) connections\(rateText), warm-up \(format(options.warmup)) s, measured \(format(measuredSeconds)) s")
        lines.append(String(format: "  requests   %d ok, %d failed; %.1f req/s; %d handshakes", successes, failureCount, requestsPerSecond, handshakes))
        lines.append(String(
            format: "  latency    p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms  (mean %.3f ms)",
            milliseconds(latency.p50), milliseconds(latency.p90), milliseconds(latency.p99), milliseconds(latency.p999),
            milliseconds(latency.max), latency.mean / 1e6
        ))
        lines.append(String(
            format: "  client CPU %.2f s in %.2f s wall (%.0f%% of one core); woke up to %.1f ms late",
            clientCPUSeconds, wallSeconds, 100 * clientCPUSeconds / max(wallSeconds, 1e-9), clientMaxOversleepMs
        ))
        if let interval = options.interval {
            lines.append("  per \(format(interval)) s  \(intervalSuccesses.map(String.init).joined(separator: " "))")
        }
        for kind in Failure.allCases {
            if let count = failures[kind] {
                lines.append("  failed: \(kind.rawValue) ×\(count), first: \(firstFailure[kind] ?? "")")
            }
        }
        return lines.joined(separator: "\n")
    }

    var json: String {
        func number(_ value: Double) -> JSONValue { .number(JSONNumber(exactly: (value * 1000).rounded() / 1000) ?? JSONNumber(0)) }
        func int(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
        var failureObject: JSONObject = [:]
        for (kind, count) in failures { failureObject[kind.rawValue] = int(count) }
        var examples: JSONObject = [:]
        for (kind, detail) in firstFailure { examples[kind.rawValue] = .string(detail) }
        var object: JSONObject = [
            "url": .string("https://\(options.url.authority)\(options.url.path)"),
            "target": .string(target),
            "tlsVersion": .string(tlsVersion),
            "method": .string(options.method),
            "mode": .string(options.mode.rawValue),
            "connections": int(options.connections),
            "rate": options.rate.map(number) ?? .null,
            "warmupSeconds": number(options.warmup),
            "measuredSeconds": number(measuredSeconds),
            "requests": int(successes),
            "errors": int(failureCount),
            "errorKinds": .object(failureObject),
            "errorExamples": .object(examples),
            "handshakes": int(handshakes),
            "requestsPerSecond": number(requestsPerSecond),
            "latencyMs": [
                "p50": number(milliseconds(latency.p50)),
                "p90": number(milliseconds(latency.p90)),
                "p99": number(milliseconds(latency.p99)),
                "p999": number(milliseconds(latency.p999)),
                "max": number(milliseconds(latency.max)),
                "mean": number(latency.mean / 1e6),
            ],
            "clientCPUSeconds": number(clientCPUSeconds),
            "wallSeconds": number(wallSeconds),
            "clientMaxOversleepMs": number(clientMaxOversleepMs),
            "expectedResponses": int(expectedResponses),
        ]
        if let interval = options.interval {
            object["intervalSeconds"] = number(interval)
            object["intervalRequests"] = .array(intervalSuccesses.map(int))
        }
        if let label = options.label { object["label"] = .string(label) }
        return JSONValue.object(object).serializedString()
    }

    private func format(_ seconds: Double) -> String { String(format: "%.1f", seconds) }
}
