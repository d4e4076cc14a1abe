import Foundation
internal import CLinux
import HTTP
import TLS

/// One accepted socket: TLS handshake, then HTTP/1.1 requests answered in order.
///
/// Lives on one event loop and is only touched on that loop's thread; a response produced
/// elsewhere comes back through `EventLoop.execute`. One request is handled at a time, so
/// pipelined requests are answered in the order they came.
final class Connection: EventLoopHandler, @unchecked Sendable {
    // @unchecked: every stored property below is read and written on `loop`'s thread only.
    private enum State {
        case handshaking
        case open
        /// The last response is written and our side shut; reading and discarding until the peer closes,
        /// so that unread request bytes do not turn our close into a reset that destroys the response.
        case lingering(until: UInt64)
        case closed
    }

    private static let maxPendingOutput = 256 * 1024
    private static let lingerTime: UInt64 = 2_000_000_000
    private static let maxLingerBytes = 1024 * 1024

    let fd: Int32
    let id: UInt64
    private let loop: EventLoop
    private let core: ServerCore
    private let listener: ListenerSpec
    private let transport: any Transport
    private var context: ConnectionContext
    private var parser: HTTPRequestParser
    private var state: State = .handshaking
    private var interest: UInt32 = 0

    /// The context this connection's handshake used: a reload may replace it meanwhile.
    private let handshakeContext: TLSServerContext?
    /// The verified client (TLS listeners), checked again before every request.
    private var client: ClientVerification?
    /// Counted in by `admitClient` under this key: released on close.
    private var clientSlot: (key: String?, counted: Bool) = (nil, false)
    /// Its client certificate stopped verifying (a reload): the answer under way is the last.
    private var closeAfterAnswer = false
    private var inFlight = false
    private var inFlightMethod = HTTPMethod.get
    private var inFlightKeepAlive = true
    private var inFlightVersion = HTTPVersion.http1_1
    private var outbound: [UInt8] = []
    private var outboundStart = 0
    private var closeWhenFlushed = false
    private var peerClosedInput = false
    /// TLS asked to write while reading (a key update, say): readable again once the socket is writable.
    private var readNeedsWritable = false
    /// Room for one whole request at the configured limits (plus framing): reading stops there
    /// until the parser has consumed it, so a client that pipelines without reading holds no more.
    private let maxBufferedInput: Int
    private var lingeredBytes = 0

    private let acceptedAt: UInt64
    private var idleSince: UInt64
    private var phase: HTTPRequestParser.Phase = .idle
    private var phaseStartedAt: UInt64
    private var writeBlockedSince: UInt64?

    init(fd: Int32, loop: EventLoop, core: ServerCore, listener: ListenerSpec, peer: ListenAddress?) throws {
        self.fd = fd
        self.loop = loop
        self.core = core
        self.listener = listener
        id = core.nextConnectionID()
        if let tls = listener.tls {
            let current = tls.current
            handshakeContext = current
            transport = try TLSTransport(context: current, fd: fd)
        } else {
            handshakeContext = nil
            transport = PlainTransport(fd: fd)
        }
        context = ConnectionContext(
            id: id, listener: listener.name, remoteAddress: peer,
            peerCertificate: nil, tlsVersion: nil
        )
        let limits = core.configuration.parserLimits
        parser = HTTPRequestParser(limits: limits)
        maxBufferedInput = limits.maxTargetBytes + limits.maxHeaderBytes + limits.maxBodyBytes + 64 * 1024
        let now = MonotonicClock.now()
        acceptedAt = now
        idleSince = now
        phaseStartedAt = now
    }

    /// Registers with the loop and starts the handshake.
    func start() throws {
        interest = refex_EPOLLIN
        try loop.register(fd, events: interest, handler: self)
        continueHandshake()
    }

    // MARK: Events

    func handleEvents(_ events: UInt32) {
        if events & (refex_EPOLLERR | refex_EPOLLHUP) != 0, events & refex_EPOLLIN == 0 {
            close()
            return
        }
        switch state {
        case .handshaking:
            continueHandshake()
        case .open:
            var readable = events & (refex_EPOLLIN | refex_EPOLLERR | refex_EPOLLHUP) != 0
                || (readNeedsWritable && events & refex_EPOLLOUT != 0)
            if events & refex_EPOLLOUT != 0 && hasPendingOutput {
                flush()
                // Reading paused while output was pending; what waits (in the socket, or already
                // inside TLS where no event announces it) is read and answered now.
                if case .open = state, !hasPendingOutput { readable = true }
            }
            if case .open = state, readable {
                readAvailable()
            }
        case .lingering:
            discardWhileLingering()
        case .closed:
            return
        }
    }

    /// Closes a connection that was never started (refused at its address's handshake limit).
    func closeUnstarted() {
        state = .closed
        Foundation.close(fd)
        core.endHandshake(listener: listener, id: id)
        core.connectionClosed(listener: listener)
    }

    /// Called on the loop when a newer connection needs this one's handshake slot.
    func evictDuringHandshake() {
        guard case .handshaking = state else { return }
        core.recordTimeout(listener: listener.name, phase: "handshake_displaced")
        close()
    }

    func handleTick(now: UInt64) {
        switch state {
        case .handshaking:
            if now &- acceptedAt > core.configuration.handshakeTimeout.nanoseconds {
                core.recordTimeout(listener: listener.name, phase: "handshake")
                close()
            }
        case .open:
            if let since = writeBlockedSince {
                if now &- since > core.configuration.writeTimeout.nanoseconds {
                    core.recordTimeout(listener: listener.name, phase: "write")
                    close()
                }
                return
            }
            if inFlight || closeWhenFlushed { return }
            if core.isDraining && phase == .idle {
                close()
                return
            }
            switch phase {
            case .idle:
                if now &- idleSince > core.configuration.idleTimeout.nanoseconds {
                    core.recordTimeout(listener: listener.name, phase: "idle")
                    close()
                }
            case .head:
                if now &- phaseStartedAt > core.configuration.headerTimeout.nanoseconds { requestTimedOut(phase: "header") }
            case .body:
                if now &- phaseStartedAt > core.configuration.bodyTimeout.nanoseconds { requestTimedOut(phase: "body") }
            }
        case .lingering(let until):
            if now > until { close() }
        case .closed:
            return
        }
    }

    /// Called on the loop when the server starts draining: idle connections close now, busy ones after their response.
    func drain() {
        switch state {
        case .handshaking:
            close()
        case .open:
            if !inFlight && !hasPendingOutput && phase == .idle && !closeWhenFlushed { close() }
        case .lingering, .closed:
            return
        }
    }

    /// Cuts the connection whatever it is doing (the drain deadline has passed).
    func forceClose() { close() }

    /// Called on the loop after a reload: true if the client certificate no longer passes
    /// verification under the listener's current context, in which case the connection closes
    /// now if idle, or after the answer under way.
    func closeIfClientCertificateFailsVerification() -> Bool {
        guard case .open = state, let current = listener.tls?.current, current.requiresClientCertificate,
              client?.recheck(current: current, now: Date()) != nil else { return false }
        if inFlight {
            closeAfterAnswer = true
        } else {
            closeWhenFlushed = true
            flush()  // then closes politely (close_notify, lingering)
        }
        return true
    }

    // MARK: Handshake

    private func continueHandshake() {
        switch transport.handshake() {
        case .done:
            core.endHandshake(listener: listener, id: id)
            state = .open
            context.peerCertificate = transport.peerCertificate
            context.tlsVersion = transport.protocolVersion
            if let handshakeContext, let current = listener.tls?.current, current.requiresClientCertificate {
                // Verified now for a resumed session (nothing was verified in its handshake) and for
                // one verified under a context a reload has since replaced.
                switch ClientVerification.establish(
                    verified: transport.verifiedChain, presented: transport.presentedChain, handshakeContext: handshakeContext,
                    current: current, now: Date()
                ) {
                case .success(let verification):
                    client = verification
                    context.peerChain = verification.chain
                case .failure(let failure):
                    core.recordHandshakeFailure(listener: listener.name, failure: failure, peer: context.remoteAddress)
                    close()
                    return
                }
            }
            idleSince = MonotonicClock.now()
            let key = listener.clientKey?(context)
            if case .answer503 = core.admitClient(listener: listener, key: key) {
                refuse(listener.responder.replyAtConnectionLimit(on: context))
                flush()
                return
            }
            clientSlot = (key, true)
            readAvailable()
        case .wantRead:
            setInterest(refex_EPOLLIN)
        case .wantWrite:
            setInterest(refex_EPOLLOUT)
        case .closed:
            core.recordHandshakeFailure(
                listener: listener.name, failure: TLSFailure(reason: "eof", detail: "closed during the handshake"), peer: context.remoteAddress
            )
            close()
        case .failed(let failure):
            core.recordHandshakeFailure(listener: listener.name, failure: failure, peer: context.remoteAddress)
            if failure.reason == "not_tls" {
                answerPlainHTTP()
            } else {
                close()
            }
        }
    }

    // MARK: Reading and requests

    private var hasPendingOutput: Bool { outboundStart < outbound.count }

    /// Reads what is available, up to `maxBufferedInput` and only while no output is pending
    /// (a client that does not read its answers is not read either), and answers it.
    private func readAvailable() {
        readNeedsWritable = false
        var reading = true
        while reading {
            var filled = false
            reads: while !hasPendingOutput {
                guard parser.bufferedByteCount < maxBufferedInput else {
                    filled = true
                    break
                }
                switch transport.read(into: loop.readBuffer) {
                case .done(let count):
                    if count > 0 { parser.append(UnsafeRawBufferPointer(rebasing: loop.readBuffer[0..<count])) }
                case .wantRead:
                    break reads
                case .wantWrite:
                    readNeedsWritable = true
                    break reads
                case .closed:
                    peerClosedInput = true
                    break reads
                case .failed:
                    close()
                    return
                }
            }
            processRequests()
            // Stopped at the cap: bytes may wait inside TLS, where no event would announce them.
            guard case .open = state else { return }
            reading = filled && !inFlight && !hasPendingOutput && !closeWhenFlushed && parser.bufferedByteCount < maxBufferedInput
        }
        if peerClosedInput, !inFlight, !hasPendingOutput, case .open = state {
            close()
        }
    }

    /// Answers buffered requests until one must wait (handled elsewhere), more bytes are needed,
    /// or output backs up; output that backed up and then drained at once lets it go on.
    private func processRequests() {
        while answerBufferedRequests() {
            flush()
            guard case .open = state, !inFlight, !closeWhenFlushed, outbound.count - outboundStart < Connection.maxPendingOutput else {
                return
            }
        }
        flush()
    }

    /// True when it stopped only because the pending output reached its limit.
    private func answerBufferedRequests() -> Bool {
        while case .open = state, !inFlight, !closeWhenFlushed {
            guard outbound.count - outboundStart < Connection.maxPendingOutput else { return true }
            let event = parser.next()
            switch event {
            case .needMoreData:
                trackPhase()
                if peerClosedInput && parser.phase != .idle {
                    // The client stopped sending in the middle of a request: nothing to answer.
                    closeWhenFlushed = true
                }
            case .expectContinue:
                if !core.isDraining {
                    outbound.append(contentsOf: HTTPResponseEncoder.continueResponse)
                }
                continue
            case .request(let request):
                dispatch(request)
                continue
            case .failure(let error):
                refuse(listener.responder.reply(toMalformed: error, on: context))
            }
            break
        }
        return false
    }

    private func dispatch(_ request: HTTPRequest) {
        // Before every request: the certificate may have expired, the CRL passed its next update, or a
        // reload changed the CAs or the CRL since the handshake.
        if client != nil, let current = listener.tls?.current, let failure = client?.recheck(current: current, now: Date()) {
            core.recordClientNoLongerVerified(listener: listener.name, failure: failure, peer: context.remoteAddress)
            closeWhenFlushed = true
            flush()
            return
        }
        if let client { context.peerChain = client.chain }
        inFlight = true
        inFlightMethod = request.method
        inFlightKeepAlive = request.keepAlive
        inFlightVersion = request.version
        phase = .idle
        switch listener.responder.reply(to: request, on: context) {
        case .now(let response):
            finish(response)
        case .later(let work):
            let loop = self.loop
            Task {
                let response = await work()
                loop.execute { self.completeLater(response) }
            }
        }
    }

    private func completeLater(_ response: HTTPResponse) {
        guard case .open = state else { return }  // the client went away meanwhile
        finish(response)
        processRequests()
    }

    private func finish(_ response: HTTPResponse) {
        inFlight = false
        let keepAlive = inFlightKeepAlive && !core.isDraining && !peerClosedInput && !closeAfterAnswer
        queue(response, answering: inFlightMethod, version: inFlightVersion, keepAlive: keepAlive)
        if !keepAlive { closeWhenFlushed = true }
        idleSince = MonotonicClock.now()
        phase = .idle
        phaseStartedAt = idleSince
    }

    private func requestTimedOut(phase: String) {
        core.recordTimeout(listener: listener.name, phase: phase)
        let error = parser.timedOut("The request did not arrive within the time allowed (\(phase)); the connection is closed.")
        refuse(listener.responder.reply(toMalformed: error, on: context))
        flush()
    }

    /// Queues the server's own answer to a request it will not serve (unreadable, too slow, or
    /// over the connection limit), built by the responder so that it carries the same headers
    /// and log line as every answer; the connection closes once it is written.
    private func refuse(_ response: HTTPResponse) {
        queue(response, answering: .get, keepAlive: false)
        closeWhenFlushed = true
    }

    private func trackPhase() {
        let current = parser.phase
        if current != phase {
            phase = current
            phaseStartedAt = MonotonicClock.now()
        }
    }

    private func queue(_ response: HTTPResponse, answering method: HTTPMethod, version: HTTPVersion = .http1_1, keepAlive: Bool) {
        outbound.append(contentsOf: HTTPResponseEncoder.encode(
            response, answering: method, version: version, keepAlive: keepAlive, date: loop.httpDate()
        ))
    }

    // MARK: Writing

    private func flush() {
        while outboundStart < outbound.count {
            let result = outbound.withUnsafeBytes { bytes in
                transport.write(UnsafeRawBufferPointer(rebasing: bytes[outboundStart...]))
            }
            switch result {
            case .done(let count):
                outboundStart += count
            case .wantWrite:
                if writeBlockedSince == nil { writeBlockedSince = MonotonicClock.now() }
                updateInterest()
                return
            case .wantRead:
                updateInterest(extra: refex_EPOLLIN)
                return
            case .closed, .failed:
                close()
                return
            }
        }
        if outbound.capacity > 64 * 1024 {
            outbound = []
        } else {
            outbound.removeAll(keepingCapacity: true)
        }
        outboundStart = 0
        writeBlockedSince = nil
        if closeWhenFlushed {
            beginLingeringClose()
            return
        }
        updateInterest()
    }

    private func updateInterest(extra: UInt32 = 0) {
        guard case .open = state else { return }
        var wanted = extra
        if hasPendingOutput || readNeedsWritable { wanted |= refex_EPOLLOUT }
        if !inFlight && !closeWhenFlushed && !peerClosedInput && parser.bufferedByteCount < maxBufferedInput
            && !hasPendingOutput {
            wanted |= refex_EPOLLIN
        }
        setInterest(wanted)
    }

    private func setInterest(_ events: UInt32) {
        guard events != interest else { return }
        interest = events
        loop.modify(fd, events: events)
    }

    // MARK: Closing

    private func beginLingeringClose() {
        transport.shutdown()
        Foundation.shutdown(fd, Int32(SHUT_WR))
        state = .lingering(until: MonotonicClock.now() + Connection.lingerTime)
        interest = refex_EPOLLIN
        loop.modify(fd, events: interest)
        discardWhileLingering()
    }

    private func discardWhileLingering() {
        while true {
            let count = retryingOnInterrupt { Foundation.read(fd, loop.readBuffer.baseAddress, loop.readBuffer.count) }
            if count > 0 {
                lingeredBytes += count
                if lingeredBytes > Connection.maxLingerBytes {
                    close()
                    return
                }
                continue
            }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            close()
            return
        }
    }

    /// Plain HTTP reached the TLS port: answered in plain HTTP (as nginx does), then closed.
    private func answerPlainHTTP() {
        core.endHandshake(listener: listener, id: id)
        let answer = listener.responder.replyToPlainHTTP(on: context)
        let bytes = HTTPResponseEncoder.encode(answer, answering: .get, keepAlive: false, date: loop.httpDate())
        // Best effort in one write: a client that does not take a few hundred bytes at once gets nothing.
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        Foundation.shutdown(fd, Int32(SHUT_WR))
        state = .lingering(until: MonotonicClock.now() + Connection.lingerTime)
        setInterest(refex_EPOLLIN)
        discardWhileLingering()
    }

    private func close() {
        if case .closed = state { return }
        if case .handshaking = state { core.endHandshake(listener: listener, id: id) }
        if clientSlot.counted {
            core.clientClosed(listener: listener, key: clientSlot.key)
            clientSlot.counted = false
        }
        state = .closed
        loop.unregister(fd)
        Foundation.close(fd)
        core.connectionClosed(listener: listener)
    }
}
