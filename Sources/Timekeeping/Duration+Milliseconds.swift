extension Duration {
    /// The duration in whole milliseconds, rounded toward zero, saturating at `Int64`'s bounds
    /// (a configured "never" of many years must not overflow into the past).
    package var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflowAdding) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        if overflowAdding { return seconds < 0 ? .min : .max }
        return total
    }
}
