import Foundation
internal import CLinux
import TLS

/// One thread driving a share of the connections with non-blocking sockets and epoll: sends a
/// request on each, reads and checks its response, records the latency, and starts the next one
/// (at once in closed loop, at its scheduled time in open loop).
///
/// Many connections per thread keep the load generator cheap: a thread per blocking connection
/// spent most of its CPU switching threads, CPU the server under test could not use.
final class LoadWorker: @unchecked Sendable {
    // @unchecked: every property is used only on the worker's own thread while `run()` runs, and read
    // by the main thread after `DispatchGroup.wait()`, which orders the two.
    private let options: BenchOptions
    /// The servers; a slot connects to `addresses[slot.index % addresses.count]`.
    private let addresses: [ServerAddress]
    private let context: TLSClientContext
    private let requests: RequestSet
    private let plan: RunPlan
    private let slots: [ConnectionSlot]
    private let epollFD: Int32
    private let handshakeEach: Bool
    private let timeout: UInt64

    /// Latencies of measured successful requests, in nanoseconds.
    private(set) var latencies: [UInt64] = []
    private(set) var failures: [Failure: Int] = [:]
    private(set) var firstFailure: [Failure: String] = [:]
    /// Responses with the expected status, warm-up included: each one the server says it accepted.
    private(set) var expectedResponses = 0
    /// With `--interval`: measured successes per interval since the measured time began.
    private(set) var intervalSuccesses: [Int] = []
    /// TLS handshakes completed (connections opened).
    private(set) var handshakes = 0
    /// When the last measured request finished (for runs limited by count).
    private(set) var lastCompletion: UInt64 = 0
    /// The longest this thread woke up late from a timed wait, in nanoseconds: a load generator starved
    /// of CPU (or a stalled virtual CPU) shows here, not as the server's latency.
    private(set) var maxOversleep: UInt64 = 0

    init(
        slotIndices: [Int], options: BenchOptions, addresses: [ServerAddress], context: TLSClientContext,
        requests: RequestSet, plan: RunPlan
    ) throws {
        self.options = options
        self.addresses = addresses
        self.context = context
        self.requests = requests
        self.plan = plan
        slots = slotIndices.enumerated().map { ConnectionSlot(index: $1, localIndex: $0, noBody: requests.expectsNoBody) }
        handshakeEach = options.mode == .handshake
        timeout = nanoseconds(options.timeout)
        let epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw BenchError("epoll_create1: \(String(cString: strerror(errno)))") }
        self.epollFD = epollFD
        let expected = options.rate.map { Int($0 * (options.duration + 1)) / max(1, options.connections) * slotIndices.count } ?? 256 * 1024
        latencies.reserveCapacity(expected + 16)
    }

    deinit {
        for slot in slots { closeConnection(slot) }
        close(epollFD)
    }

    func run() {
        sleepUntil(plan.start)
        for slot in slots {
            // Open loop: the connections' sends are staggered evenly across one interval.
            slot.nextStart = plan.workerInterval.map { plan.start + $0 * UInt64(slot.index) / UInt64(options.connections) } ?? plan.start
        }
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        var nextTimeoutCheck = monotonicNow() + 100_000_000
        while true {
            let now = monotonicNow()
            var wake = UInt64.max
            var running = 0
            for slot in slots {
                if slot.stage == .idle && slot.nextStart <= now {
                    begin(slot, now: now)
                    drive(slot, events: 0)
                }
                if slot.stage == .idle { wake = min(wake, slot.nextStart) }
                if slot.stage != .finished { running += 1 }
            }
            if running == 0 { break }
            if now >= nextTimeoutCheck {
                nextTimeoutCheck = now + 100_000_000
                for slot in slots where slot.stage != .idle && slot.stage != .finished && now &- slot.beganAt > timeout {
                    fail(slot, FailureEvent(.timeout, """
                        no response within \(options.timeout) s (\(slot.stage), sent \(slot.sent) of \(slot.request.count) bytes, \
                        received \(slot.reader.receivedBytes), request \(slot.requestsOnConnection) on connection \(slot.connectionsOpened) of slot \(slot.index))
                        """))
                }
            }
            let deadline = min(wake, nextTimeoutCheck)
            let wait = deadline > now ? deadline - now : 0
            var limit = timespec(tv_sec: Int(wait / 1_000_000_000), tv_nsec: Int(wait % 1_000_000_000))
            let count = events.withUnsafeMutableBufferPointer { buffer in
                epoll_pwait2(epollFD, buffer.baseAddress, Int32(buffer.count), &limit, nil)
            }
            let woke = monotonicNow()
            if woke > deadline { maxOversleep = max(maxOversleep, woke - deadline) }
            guard count > 0 else { continue }
            for index in 0..<Int(count) {
                let event = events[index]
                drive(slots[Int(event.data.u64)], events: event.events)
            }
        }
    }

    // MARK: One request

    private func begin(_ slot: ConnectionSlot, now: UInt64) {
        let scheduled: UInt64
        if let interval = plan.workerInterval {
            scheduled = slot.nextStart
            slot.nextStart += interval
        } else {
            scheduled = now
        }
        if scheduled >= plan.measureEnd {
            finish(slot)
            return
        }
        slot.measured = scheduled >= plan.measureStart
        if slot.measured && !plan.takeTicket() {
            finish(slot)
            return
        }
        slot.startedAt = scheduled
        slot.beganAt = now
        slot.request = requests.request(slot: slot.index, counter: slot.counter, sequence: slot.sequence)
        slot.sequence += 1
        slot.counter += 1
        slot.sent = 0
        slot.reader.reset()
        if slot.tls == nil || handshakeEach {
            closeConnection(slot)
            slot.connectionsOpened += 1
            slot.requestsOnConnection = 0
            open(slot)
        } else {
            slot.stage = .sending
        }
        slot.requestsOnConnection += 1
    }

    private func open(_ slot: ConnectionSlot) {
        do throws(FailureEvent) {
            let (fd, connected) = try address(of: slot).startConnect()
            slot.fd = fd
            var event = epoll_event()
            event.events = refex_EPOLLOUT
            event.data.u64 = UInt64(slot.localIndex)
            guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else {
                throw FailureEvent(.connect, "epoll_ctl: \(String(cString: strerror(errno)))")
            }
            slot.interest = refex_EPOLLOUT
            slot.stage = .connecting
            if connected { try startTLS(slot) }
        } catch {
            fail(slot, error)
        }
    }

    private func startTLS(_ slot: ConnectionSlot) throws(FailureEvent) {
        do {
            slot.tls = try TLSConnection(client: context, fd: slot.fd, serverName: options.url.host)
        } catch {
            throw FailureEvent(.handshake, "\(error)")
        }
        slot.stage = .handshaking
    }

    /// Makes all the progress the connection allows now, then waits for the events it needs.
    private func drive(_ slot: ConnectionSlot, events: UInt32) {
        do throws(FailureEvent) {
            while true {
                switch slot.stage {
                case .finished:
                    return
                case .idle:
                    // A kept-alive connection that the server closed between requests.
                    if events & (refex_EPOLLHUP | refex_EPOLLERR | refex_EPOLLIN) != 0 { closeConnection(slot) }
                    return
                case .connecting:
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    _ = getsockopt(slot.fd, SOL_SOCKET, SO_ERROR, &error, &length)
                    guard error == 0 else { throw FailureEvent(.connect, "connect to \(address(of: slot).description): \(String(cString: strerror(error)))") }
                    // No error yet: connected, or still connecting (then there is no peer yet).
                    var peer = sockaddr_storage()
                    var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
                    let connected = withUnsafeMutablePointer(to: &peer) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(slot.fd, $0, &peerLength) == 0 }
                    }
                    guard connected else { return setInterest(slot, refex_EPOLLOUT) }
                    try startTLS(slot)
                case .handshaking:
                    guard let tls = slot.tls else { preconditionFailure("handshaking without a TLS session") }
                    switch tls.handshake() {
                    case .done:
                        handshakes += 1
                        slot.stage = .sending
                    case .wantRead: return setInterest(slot, refex_EPOLLIN)
                    case .wantWrite: return setInterest(slot, refex_EPOLLOUT)
                    case .closed: throw FailureEvent(.handshake, "the server closed the connection during the handshake")
                    case .failed(let failure): throw FailureEvent(.handshake, "\(failure)")
                    }
                case .sending:
                    guard let tls = slot.tls else { preconditionFailure("sending without a TLS session") }
                    let result = slot.request.withUnsafeBytes { raw in tls.write(UnsafeRawBufferPointer(rebasing: raw[slot.sent...])) }
                    switch result {
                    case .done(let count):
                        slot.sent += count
                        if slot.sent == slot.request.count { slot.stage = .receiving }
                    case .wantRead: return setInterest(slot, refex_EPOLLIN)
                    case .wantWrite: return setInterest(slot, refex_EPOLLOUT)
                    case .closed: throw FailureEvent(.closed, "the connection closed while sending")
                    case .failed(let failure): throw FailureEvent(.write, "\(failure)")
                    }
                case .receiving:
                    guard let tls = slot.tls else { preconditionFailure("receiving without a TLS session") }
                    switch tls.read(into: slot.reader.readTarget) {
                    case .done(let count):
                        if count > 0, let response = try slot.reader.consume(count) {
                            complete(slot, response)
                            // The next request at once if it is due; else the run loop starts it on time.
                            let now = monotonicNow()
                            guard slot.stage == .idle, slot.nextStart <= now else { return }
                            begin(slot, now: now)
                        }
                    case .wantRead: return setInterest(slot, refex_EPOLLIN)
                    case .wantWrite: return setInterest(slot, refex_EPOLLOUT)
                    case .closed: throw FailureEvent(.closed, "the connection closed before the whole response")
                    case .failed(let failure): throw FailureEvent(.tls, "TLS read failed: \(failure)")
                    }
                }
            }
        } catch {
            fail(slot, error)
        }
    }

    private func complete(_ slot: ConnectionSlot, _ response: ResponseReader.Response) {
        let done = monotonicNow()
        if response.closes || handshakeEach { closeConnection(slot) }
        slot.stage = .idle
        if plan.workerInterval == nil { slot.nextStart = done }
        guard response.status == options.expectedStatus else {
            record(slot, FailureEvent(.status, "status \(response.status), expected \(options.expectedStatus)"))
            return
        }
        expectedResponses += 1
        if slot.measured {
            latencies.append(done &- slot.startedAt)
            lastCompletion = max(lastCompletion, done)
            if let interval = options.interval {
                // Requests sent before the measured time ended and answered after it count in the last interval.
                var index = Int(Double(done &- plan.measureStart) / 1e9 / interval)
                if options.requests == nil { index = min(index, max(0, Int((options.duration / interval).rounded(.up)) - 1)) }
                if index >= intervalSuccesses.count { intervalSuccesses += Array(repeating: 0, count: index + 1 - intervalSuccesses.count) }
                intervalSuccesses[index] += 1
            }
        }
        // Between requests nothing is expected: only the server closing wakes an idle connection.
        if slot.fd >= 0 { setInterest(slot, refex_EPOLLIN) }
    }

    private func fail(_ slot: ConnectionSlot, _ error: FailureEvent) {
        closeConnection(slot)
        slot.stage = .idle
        record(slot, error)
        if plan.workerInterval == nil {
            // A server that refuses at once must not turn a closed loop into a busy loop.
            slot.nextStart = monotonicNow() + (error.kind == .connect || error.kind == .handshake ? 10_000_000 : 0)
        }
    }

    private func record(_ slot: ConnectionSlot, _ error: FailureEvent) {
        guard slot.measured else { return }
        failures[error.kind, default: 0] += 1
        if firstFailure[error.kind] == nil { firstFailure[error.kind] = error.detail }
        lastCompletion = max(lastCompletion, monotonicNow())
    }

    private func finish(_ slot: ConnectionSlot) {
        closeConnection(slot)
        slot.stage = .finished
    }

    // MARK: Sockets

    private func address(of slot: ConnectionSlot) -> ServerAddress {
        addresses[slot.index % addresses.count]
    }

    private func setInterest(_ slot: ConnectionSlot, _ events: UInt32) {
        guard events != slot.interest, slot.fd >= 0 else { return }
        var event = epoll_event()
        event.events = events
        event.data.u64 = UInt64(slot.localIndex)
        _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, slot.fd, &event)
        slot.interest = events
    }

    private func closeConnection(_ slot: ConnectionSlot) {
        guard slot.fd >= 0 else { return }
        // The TLS session goes first: it must not outlive its socket in use. Closing the socket also
        // removes it from the epoll set.
        slot.tls = nil
        close(slot.fd)
        slot.fd = -1
        slot.interest = 0
    }
}
