import Foundation
import Synchronization

/// Counters, gauges and histograms, rendered in the Prometheus text exposition format (0.0.4).
///
/// Label values are ids, routes, statuses and reasons: never personal data.
package final class MetricsRegistry: Sendable {
    private let families = Mutex<[any MetricFamily]>([])

    package init() {}

    /// A counter family; `labelNames` fixes the labels every sample carries.
    package func counter(_ name: String, help: String, labelNames: [String] = []) -> Counter {
        register(Counter(name: name, help: help, labelNames: labelNames))
    }

    package func gauge(_ name: String, help: String, labelNames: [String] = []) -> Gauge {
        register(Gauge(name: name, help: help, labelNames: labelNames))
    }

    package func histogram(
        _ name: String, help: String, labelNames: [String] = [], buckets: [Double] = Histogram.defaultBuckets
    ) -> Histogram {
        register(Histogram(name: name, help: help, labelNames: labelNames, buckets: buckets))
    }

    /// A gauge computed when scraped, for values another part owns (queue depths, open connections).
    package func gauge(
        _ name: String, help: String, labelNames: [String] = [],
        sample: @escaping @Sendable () -> [(labels: [String], value: Double)]
    ) {
        _ = register(ComputedGauge(name: name, help: help, type: "gauge", labelNames: labelNames, sample: sample))
    }

    /// A counter read when scraped, for a total another part keeps (e.g. rows in the store): it
    /// must only grow, and it survives restarts when that part does.
    package func counter(
        _ name: String, help: String, labelNames: [String] = [],
        sample: @escaping @Sendable () -> [(labels: [String], value: Double)]
    ) {
        _ = register(ComputedGauge(name: name, help: help, type: "counter", labelNames: labelNames, sample: sample))
    }

    private func register<Family: MetricFamily>(_ family: Family) -> Family {
        families.withLock { list in
            precondition(!list.contains { $0.name == family.name }, "metric \(family.name) registered twice")
            list.append(family)
        }
        return family
    }

    /// The whole registry in the Prometheus text format.
    package func render() -> String {
        var out = ""
        for family in families.withLock({ $0 }) {
            out += "# HELP \(family.name) \(family.help)\n"
            out += "# TYPE \(family.name) \(family.type)\n"
            family.render(into: &out)
        }
        return out
    }
}

protocol MetricFamily: Sendable {
    var name: String { get }
    var help: String { get }
    var type: String { get }
    func render(into out: inout String)
}

/// `name{a="x",b="y"}` with label values escaped as the exposition format requires.
func sampleName(_ name: String, _ labelNames: [String], _ labelValues: [String], extra: (String, String)? = nil) -> String {
    var pairs = zip(labelNames, labelValues).map { ($0, $1) }
    if let extra { pairs.append(extra) }
    guard !pairs.isEmpty else { return name }
    let rendered = pairs.map { name, value in
        let escaped = value
            .replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\(name)=\"\(escaped)\""
    }
    return "\(name){\(rendered.joined(separator: ","))}"
}

func formatValue(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(value)
}

/// A monotonically increasing count per label set.
package final class Counter: MetricFamily {
    let name: String
    let help: String
    let type = "counter"
    private let labelNames: [String]
    private let values = Mutex<[[String]: Double]>([:])

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }

    package func increment(_ labels: [String] = [], by amount: Double = 1) {
        precondition(labels.count == labelNames.count, "\(name) takes labels \(labelNames)")
        values.withLock { $0[labels, default: 0] += amount }
    }

    package func value(_ labels: [String] = []) -> Double {
        values.withLock { $0[labels] ?? 0 }
    }

    func render(into out: inout String) {
        let snapshot = values.withLock { $0 }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        for (labels, value) in snapshot {
            out += "\(sampleName(name, labelNames, labels)) \(formatValue(value))\n"
        }
    }
}

/// A value that goes up and down per label set.
package final class Gauge: MetricFamily {
    let name: String
    let help: String
    let type = "gauge"
    private let labelNames: [String]
    private let values = Mutex<[[String]: Double]>([:])

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }

    package func set(_ value: Double, _ labels: [String] = []) {
        values.withLock { $0[labels] = value }
    }

    package func add(_ amount: Double, _ labels: [String] = []) {
        values.withLock { $0[labels, default: 0] += amount }
    }

    package func value(_ labels: [String] = []) -> Double {
        values.withLock { $0[labels] ?? 0 }
    }

    func render(into out: inout String) {
        let snapshot = values.withLock { $0 }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        for (labels, value) in snapshot {
            out += "\(sampleName(name, labelNames, labels)) \(formatValue(value))\n"
        }
    }
}

/// A family whose samples are computed when scraped (a gauge, or a counter kept elsewhere).
final class ComputedGauge: MetricFamily {
    let name: String
    let help: String
    let type: String
    private let labelNames: [String]
    private let sample: @Sendable () -> [(labels: [String], value: Double)]

    init(
        name: String, help: String, type: String, labelNames: [String], sample: @escaping @Sendable () -> [(labels: [String], value: Double)]
    ) {
        self.name = name
        self.help = help
        self.type = type
        self.labelNames = labelNames
        self.sample = sample
    }

    func render(into out: inout String) {
        for (labels, value) in sample() {
            out += "\(sampleName(name, labelNames, labels)) \(formatValue(value))\n"
        }
    }
}

/// Observations counted into cumulative buckets, with their sum and count.
package final class Histogram: MetricFamily {
    /// Seconds, from 0.5 ms to 10 s: request durations.
    package static let defaultBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    let name: String
    let help: String
    let type = "histogram"
    private let labelNames: [String]
    private let buckets: [Double]
    private let series = Mutex<[[String]: Series]>([:])

    struct Series {
        var counts: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0

        mutating func record(_ value: Double, inBucket index: Int) {
            counts[index] += 1
            sum += value
            count += 1
        }
    }

    init(name: String, help: String, labelNames: [String], buckets: [Double]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
        self.buckets = buckets.sorted()
    }

    package func observe(_ value: Double, _ labels: [String] = []) {
        precondition(labels.count == labelNames.count, "\(name) takes labels \(labelNames)")
        let index = buckets.firstIndex { value <= $0 } ?? buckets.count
        let bucketCount = buckets.count
        series.withLock { all in
            // Modified in place: a copy out of the dictionary would copy the counts on every call.
            all[labels, default: Series(counts: Array(repeating: 0, count: bucketCount + 1))].record(value, inBucket: index)
        }
    }

    package func count(_ labels: [String] = []) -> UInt64 {
        series.withLock { $0[labels]?.count ?? 0 }
    }

    func render(into out: inout String) {
        let snapshot = series.withLock { $0 }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        for (labels, entry) in snapshot {
            var cumulative: UInt64 = 0
            for (index, bound) in buckets.enumerated() {
                cumulative += entry.counts[index]
                out += "\(sampleName(name + "_bucket", labelNames, labels, extra: ("le", formatValue(bound)))) \(cumulative)\n"
            }
            cumulative += entry.counts[buckets.count]
            out += "\(sampleName(name + "_bucket", labelNames, labels, extra: ("le", "+Inf"))) \(cumulative)\n"
            out += "\(sampleName(name + "_sum", labelNames, labels)) \(formatValue(entry.sum))\n"
            out += "\(sampleName(name + "_count", labelNames, labels)) \(entry.count)\n"
        }
    }
}
