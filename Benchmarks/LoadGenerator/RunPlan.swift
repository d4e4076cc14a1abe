import Foundation
import Synchronization

/// When the run starts, when measuring starts and stops, and how fast to send; shared by every worker.
final class RunPlan: Sendable {
    let start: UInt64
    let measureStart: UInt64
    /// `UInt64.max` when the run ends after a request count instead.
    let measureEnd: UInt64
    /// Nanoseconds between one worker's sends in open-loop mode; nil for closed loop (as fast as possible).
    let workerInterval: UInt64?
    let requestLimit: Int?
    private let measuredTickets = Atomic<Int>(0)

    init(options: BenchOptions, start: UInt64) {
        self.start = start
        measureStart = start + nanoseconds(options.warmup)
        measureEnd = options.requests == nil ? measureStart + nanoseconds(options.duration) : UInt64.max
        workerInterval = options.rate.map { nanoseconds(Double(options.connections) / $0) }
        requestLimit = options.requests
    }

    /// Whether another measured request may start (always, unless the run is limited by count).
    func takeTicket() -> Bool {
        guard let limit = requestLimit else { return true }
        return measuredTickets.add(1, ordering: .relaxed).newValue <= limit
    }
}

/// Nanoseconds on CLOCK_MONOTONIC.
func monotonicNow() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// Sleeps until `deadline` on CLOCK_MONOTONIC (an absolute time, so that schedules do not drift).
func sleepUntil(_ deadline: UInt64) {
    var spec = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &spec, nil) == EINTR {}
}

func nanoseconds(_ seconds: Double) -> UInt64 { UInt64((seconds * 1e9).rounded()) }
