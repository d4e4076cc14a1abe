import Foundation
import TLS

/// One thread, one connection at a time: sends a request, reads and checks its response, and
/// records the latency. Its results are read only after its thread has finished.
final class LoadWorker: @unchecked Sendable {
    // @unchecked: every property is written only on the worker's own thread while it runs, and read
    // by the main thread after `DispatchGroup.wait()`, which orders the two.
    private let index: Int
    private let options: BenchOptions
    private let address: ServerAddress
    private let context: TLSClientContext
    private let requests: RequestSet
    private let plan: RunPlan
    private let reader = ResponseReader()

    /// Latencies of measured successful requests, in nanoseconds.
    private(set) var latencies: [UInt64] = []
    private(set) var failures: [Failure: Int] = [:]
    private(set) var firstFailure: [Failure: String] = [:]
    /// TLS handshakes completed (connections opened).
    private(set) var handshakes = 0
    /// When the last measured request finished (for runs limited by count).
    private(set) var lastCompletion: UInt64 = 0

    init(index: Int, options: BenchOptions, address: ServerAddress, context: TLSClientContext, requests: RequestSet, plan: RunPlan) {
        self.index = index
        self.options = options
        self.address = address
        self.context = context
        self.requests = requests
        self.plan = plan
        if let rate = options.rate {
            latencies.reserveCapacity(Int(rate * (options.duration + 1) / Double(options.connections)) + 16)
        } else {
            latencies.reserveCapacity(64 * 1024)
        }
    }

    func run() {
        sleepUntil(plan.start)
        var connection: BenchConnection?
        var sequence = index
        // Open loop: this worker's sends are staggered against the others' by a fraction of the interval.
        var nextScheduled = plan.workerInterval.map { plan.start + $0 * UInt64(index) / UInt64(options.connections) } ?? 0
        let handshakeEach = options.mode == .handshake

        while true {
            let scheduled: UInt64
            if let interval = plan.workerInterval {
                scheduled = nextScheduled
                nextScheduled += interval
                if scheduled >= plan.measureEnd { break }
                if monotonicNow() < scheduled { sleepUntil(scheduled) }
            } else {
                scheduled = monotonicNow()
                if scheduled >= plan.measureEnd { break }
            }
            let measured = scheduled >= plan.measureStart
            if measured && !plan.takeTicket() { break }

            let request = requests.requests[sequence % requests.requests.count]
            sequence += 1
            do throws(FailureEvent) {
                if connection == nil || handshakeEach {
                    connection = nil
                    connection = try BenchConnection(
                        address: address, context: context, serverName: options.url.host, timeout: options.timeout
                    )
                    handshakes += 1
                }
                guard let open = connection else { preconditionFailure("a connection was just opened") }
                try open.send(request)
                let response = try reader.read(from: open.tls, noBody: requests.expectsNoBody)
                let done = monotonicNow()
                if response.closes || handshakeEach { connection = nil }
                guard response.status == options.expectedStatus else {
                    throw FailureEvent(.status, "status \(response.status), expected \(options.expectedStatus)")
                }
                if measured {
                    latencies.append(done &- scheduled)
                    lastCompletion = max(lastCompletion, done)
                }
            } catch {
                connection = nil
                if measured {
                    failures[error.kind, default: 0] += 1
                    if firstFailure[error.kind] == nil { firstFailure[error.kind] = error.detail }
                    lastCompletion = max(lastCompletion, monotonicNow())
                }
                // A server that refuses at once must not turn a closed loop into a busy loop.
                if plan.workerInterval == nil && (error.kind == .connect || error.kind == .handshake) { usleep(10_000) }
            }
        }
    }
}
