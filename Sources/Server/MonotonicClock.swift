import Foundation

/// Nanoseconds on CLOCK_MONOTONIC: for deadlines and durations, never for wall time.
///
/// `MonotonicClock.now()` reads the system's clock. Where time decides behaviour (a connection's
/// timeouts, the handshake budget's staleness), a clock value is injected instead, so that tests
/// can set the time: `MonotonicClock { manualTime }`.
package struct MonotonicClock: Sendable {
    private let reading: @Sendable () -> UInt64

    /// A clock that reads `reading` (tests: a time they advance by hand).
    package init(_ reading: @escaping @Sendable () -> UInt64) {
        self.reading = reading
    }

    /// CLOCK_MONOTONIC.
    package static let system = MonotonicClock { MonotonicClock.now() }

    /// This clock's time, in nanoseconds.
    package func now() -> UInt64 { reading() }

    /// The system's monotonic time, in nanoseconds.
    package static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

extension Duration {
    /// Whole nanoseconds, saturating at `UInt64.max`.
    package var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : whole &+ UInt64(attoseconds / 1_000_000_000)
    }
}
