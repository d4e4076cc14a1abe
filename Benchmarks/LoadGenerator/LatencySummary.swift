/// Percentiles of a set of latencies (nearest rank, exact: every sample is kept).
struct LatencySummary: Sendable {
    var count: Int
    var p50: UInt64
    var p90: UInt64
    var p99: UInt64
    var p999: UInt64
    var max: UInt64
    var mean: Double

    init(_ samples: [UInt64]) {
        let sorted = samples.sorted()
        count = sorted.count
        func rank(_ percent: Double) -> UInt64 {
            guard !sorted.isEmpty else { return 0 }
            let position = Int((percent / 100 * Double(sorted.count)).rounded(.up)) - 1
            return sorted[Swift.min(Swift.max(position, 0), sorted.count - 1)]
        }
        p50 = rank(50)
        p90 = rank(90)
        p99 = rank(99)
        p999 = rank(99.9)
        max = sorted.last ?? 0
        mean = sorted.isEmpty ? 0 : Double(sorted.reduce(0, &+)) / Double(sorted.count)
    }
}
