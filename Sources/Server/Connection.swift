import Foundation
internal import CLinux
import HTTP
import TLS

/// One accepted socket: TLS handshake, then HTTP/1.1 requests answered in order.
///
/// Does the I/O (socket, TLS, buffers, epoll interest); when to read, answer, time out, keep
/// alive and close is its `ConnectionStateMachine`'s to say. Lives on one event loop and is only
/// touched on that loop's thread; a response produced elsewhere comes back through
/// `EventLoop.execute`. One request is handled at a time, so pipelined requests are answered in
/// the order they came.
final class Connection: EventLoopHandler, @unchecked Sendable {
    // @unchecked: every stored property below is read and written on `loop`'s thread only.
    private static let maxPendingOutput = 256 * 1024

    let fd: Int32
    let id: UInt64
    private let loop: EventLoop
    private let core: ServerCore
    private let listener: ListenerSpec
    private let transport: any Transport
    private var machine: ConnectionStateMachine
    private var context: ConnectionContext
    private var parser: HTTPRequestParser
    private var interest: UInt32 = 0
    /// The descriptor is closed (and may already be another connection's): nothing touches it again.
    private var socketClosed = false

    /// The context this connection's handshake used: a reload may replace it meanwhile.
    private let handshakeContext: TLSServerContext?
    /// The verified client (TLS listeners), checked again before every request.
    private var client: ClientVerification?
    /// Holds a handshake slot (`ServerCore.beginHandshake`) until its handshake ends.
    private var holdsHandshakeSlot = true
    /// Counted in by `admitClient` under this key: released on close.
    private var clientSlot: (key: String?, counted: Bool) = (nil, false)
    /// The request in flight, for encoding its response.
    private var answering: (method: HTTPMethod, version: HTTPVersion) = (.get, .http1_1)
    private var outbound: [UInt8] = []
    private var outboundStart = 0
    /// TLS asked to write while reading (a key update, say): readable again once the socket is writable.
    private var readNeedsWritable = false
    /// The last read stopped because the buffer was full, not because the socket was drained.
    private var stoppedAtCap = false
    /// Room for one whole request at the configured limits (plus framing): reading stops there
    /// until the parser has consumed it, so a client that pipelines without reading holds no more.
    private let maxBufferedInput: Int

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
        machine = ConnectionStateMachine(timeouts: core.connectionTimeouts, clock: core.clock)
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
        observeDraining()
        switch machine.state {
        case .handshaking:
            continueHandshake()
        case .open:
            var readable = events & (refex_EPOLLIN | refex_EPOLLERR | refex_EPOLLHUP) != 0
                || (readNeedsWritable && events & refex_EPOLLOUT != 0)
            if events & refex_EPOLLOUT != 0 && hasPendingOutput {
                flush()
                // Reading paused while output was pending; what waits (in the socket, or already
                // inside TLS where no event announces it) is read and answered now.
                if machine.isOpen, !hasPendingOutput { readable = true }
            }
            if machine.isOpen, readable {
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
        machine.closed()
        socketClosed = true
        Foundation.close(fd)
        releaseHandshakeSlot()
        core.connectionClosed(listener: listener)
    }

    /// Called on the loop when a newer connection needs this one's handshake slot.
    func evictDuringHandshake() {
        guard machine.handshakeDisplaced() == .close else { return }
        core.recordTimeout(listener: listener.name, phase: "handshake_displaced")
        close()
    }

    func handleTick() {
        observeDraining()
        switch machine.tick() {
        case .none:
            return
        case .close:
            close()
        case .closeTimedOut(let timeout):
            core.recordTimeout(listener: listener.name, phase: timeout.rawValue)
            close()
        case .answer408(let timeout):
            core.recordTimeout(listener: listener.name, phase: timeout.rawValue)
            let error = parser.timedOut("The request did not arrive within the time allowed (\(timeout.rawValue)); the connection is closed.")
            refuse(listener.responder.reply(toMalformed: error, on: context))
            flush()
        }
    }

    /// Called on the loop when the server starts draining: idle connections close now, busy ones after their response.
    func drain() {
        if machine.drain() == .close { close() }
    }

    /// Cuts the connection whatever it is doing (the drain deadline has passed).
    func forceClose() { close() }

    /// Called on the loop after a reload: true if the client certificate no longer passes
    /// verification under the listener's current context, in which case the connection closes
    /// now if idle, or after the answer under way.
    func closeIfClientCertificateFailsVerification() -> Bool {
        guard machine.isOpen, let current = listener.tls?.current, current.requiresClientCertificate,
              client?.recheck(current: current, now: Date()) != nil else { return false }
        switch machine.clientNoLongerVerified() {
        case .closeAfterFlush:
            flush()  // then closes politely (close_notify, lingering)
        case .closeAfterResponse, .none:
            break
        }
        return true
    }

    /// The server may have begun draining before `drain()` reached this connection.
    private func observeDraining() {
        if !machine.isDraining && core.isDraining { machine.serverIsDraining() }
    }

    // MARK: Handshake

    private func continueHandshake() {
        switch transport.handshake() {
        case .done:
            releaseHandshakeSlot()
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
                    _ = machine.handshakeFailed(plainHTTP: false)
                    close()
                    return
                }
            }
            let key = listener.clientKey?(context)
            let admitted = core.admitClient(listener: listener, key: key) == .serve
            if admitted { clientSlot = (key, true) }
            switch machine.handshakeFinished(admitted: admitted) {
            case .read:
                readAvailable()
            case .answer503:
                refuse(listener.responder.replyAtConnectionLimit(on: context))
                flush()
            case .answerPlainHTTP, .close:
                close()
            }
        case .wantRead:
            setInterest(refex_EPOLLIN)
        case .wantWrite:
            setInterest(refex_EPOLLOUT)
        case .closed:
            core.recordHandshakeFailure(
                listener: listener.name, failure: TLSFailure(reason: "eof", detail: "closed during the handshake"), peer: context.remoteAddress
            )
            _ = machine.handshakeFailed(plainHTTP: false)
            close()
        case .failed(let failure):
            core.recordHandshakeFailure(listener: listener.name, failure: failure, peer: context.remoteAddress)
            switch machine.handshakeFailed(plainHTTP: failure.reason == "not_tls") {
            case .answerPlainHTTP:
                answerPlainHTTP()
            case .read, .answer503, .close:
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
                    machine.inputClosed()
                    break reads
                case .failed:
                    close()
                    return
                }
            }
            processRequests()
            // Stopped at the cap: bytes may wait inside TLS, where no event would announce them.
            guard machine.isOpen else { return }
            reading = filled && machine.acceptsRequests && !hasPendingOutput && parser.bufferedByteCount < maxBufferedInput
            stoppedAtCap = filled
        }
        if machine.readingPaused() == .close { close() }
    }

    /// Answers buffered requests until one must wait (handled elsewhere), more bytes are needed,
    /// or output backs up; output that backed up and then drained at once lets it go on.
    private func processRequests() {
        while answerBufferedRequests() {
            flush()
            guard machine.acceptsRequests, outbound.count - outboundStart < Connection.maxPendingOutput else { return }
        }
        flush()
    }

    /// True when it stopped only because the pending output reached its limit.
    private func answerBufferedRequests() -> Bool {
        while machine.acceptsRequests {
            guard outbound.count - outboundStart < Connection.maxPendingOutput else { return true }
            switch parser.next() {
            case .needMoreData:
                // `.closeAfterFlush` (the peer stopped sending mid-request) needs nothing here: the flush that follows closes.
                _ = machine.awaitingInput(parser.phase)
                return false
            case .expectContinue:
                if machine.expectContinue() == .writeContinue {
                    outbound.append(contentsOf: HTTPResponseEncoder.continueResponse)
                }
            case .request(let request):
                dispatch(request)
            case .failure(let error):
                refuse(listener.responder.reply(toMalformed: error, on: context))
                return false
            }
        }
        return false
    }

    private func dispatch(_ request: HTTPRequest) {
        // Before every request: the certificate may have expired, the CRL passed its next update, or a
        // reload changed the CAs or the CRL since the handshake.
        var clientVerified = true
        if client != nil, let current = listener.tls?.current, let failure = client?.recheck(current: current, now: Date()) {
            core.recordClientNoLongerVerified(listener: listener.name, failure: failure, peer: context.remoteAddress)
            clientVerified = false
        }
        switch machine.requestReceived(keepAlive: request.keepAlive, clientVerified: clientVerified) {
        case .closeAfterFlush:
            flush()
            return
        case .dispatch:
            break
        }
        if let client { context.peerChain = client.chain }
        answering = (request.method, request.version)
        switch listener.responder.reply(to: request, on: context) {
        case .now(let response):
            finish(response)
        case .later(let work):
            let loop = self.loop
            // On this loop (see `EventLoop: TaskExecutor`): after the handler's last await the
            // task is back on the loop's thread and writes the answer without another hand-off.
            Task(executorPreference: loop) {
                let response = await work()
                if loop.inLoop {
                    self.completeLater(response)
                } else {
                    loop.execute { self.completeLater(response) }
                }
            }
        }
    }

    private func completeLater(_ response: HTTPResponse) {
        observeDraining()
        guard machine.isOpen else { return }  // the client went away meanwhile
        finish(response)
        processRequests()
        // Reading stopped at the buffer's cap while the request was in flight: bytes may wait
        // inside TLS, where no readiness event announces them.
        if stoppedAtCap, machine.isOpen, machine.acceptsRequests, !hasPendingOutput { readAvailable() }
    }

    private func finish(_ response: HTTPResponse) {
        guard case .write(let keepAlive) = machine.responseReady() else { return }
        queue(response, answering: answering.method, version: answering.version, keepAlive: keepAlive)
    }

    /// Queues the server's own answer to a request it will not serve (unreadable, too slow, or
    /// over the connection limit), built by the responder so that it carries the same headers
    /// and log line as every answer; the connection closes once it is written.
    private func refuse(_ response: HTTPResponse) {
        queue(response, answering: .get, keepAlive: false)
        machine.closeAfterFlush()
    }

    private func queue(_ response: HTTPResponse, answering method: HTTPMethod, version: HTTPVersion = .http1_1, keepAlive: Bool) {
        outbound.append(contentsOf: HTTPResponseEncoder.encode(
            response, answering: method, version: version, keepAlive: keepAlive, date: loop.httpDate()
        ))
    }

    // MARK: Writing

    private func flush() {
        guard machine.isOpen else { return }
        while outboundStart < outbound.count {
            let result = outbound.withUnsafeBytes { bytes in
                transport.write(UnsafeRawBufferPointer(rebasing: bytes[outboundStart...]))
            }
            switch result {
            case .done(let count):
                outboundStart += count
            case .wantWrite:
                machine.writeStalled(blocked: true)
                updateInterest()
                return
            case .wantRead:
                machine.writeStalled(blocked: false)
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
        switch machine.outputFlushed() {
        case .linger:
            beginLingeringClose()
        case .none:
            updateInterest()
        }
    }

    /// Readable interest stays while a request is in flight: a client waiting for its answer sends
    /// nothing, so no event comes, and dropping and restoring it cost two `epoll_ctl` calls a
    /// request. What does arrive meanwhile (pipelined requests, the end of input) is read into the
    /// buffer, up to `maxBufferedInput`, and answered in turn; interest goes only where reading
    /// must stop (the buffer is full, output is pending, the peer stopped sending), so that the
    /// level-triggered readiness cannot spin.
    private func updateInterest(extra: UInt32 = 0) {
        guard machine.isOpen else { return }
        var wanted = extra
        if hasPendingOutput || readNeedsWritable { wanted |= refex_EPOLLOUT }
        if machine.readsInput && parser.bufferedByteCount < maxBufferedInput && !hasPendingOutput {
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
        interest = refex_EPOLLIN
        loop.modify(fd, events: interest)
        discardWhileLingering()
    }

    private func discardWhileLingering() {
        while true {
            let count = retryingOnInterrupt { Foundation.read(fd, loop.readBuffer.baseAddress, loop.readBuffer.count) }
            if count > 0 {
                if machine.discarded(byteCount: count) == .close {
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
        releaseHandshakeSlot()
        let answer = listener.responder.replyToPlainHTTP(on: context)
        let bytes = HTTPResponseEncoder.encode(answer, answering: .get, keepAlive: false, date: loop.httpDate())
        // Best effort in one write: a client that does not take a few hundred bytes at once gets nothing.
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        Foundation.shutdown(fd, Int32(SHUT_WR))
        setInterest(refex_EPOLLIN)
        discardWhileLingering()
    }

    private func releaseHandshakeSlot() {
        guard holdsHandshakeSlot else { return }
        holdsHandshakeSlot = false
        core.endHandshake(listener: listener, id: id)
    }

    private func close() {
        guard !socketClosed else { return }
        socketClosed = true
        machine.closed()
        releaseHandshakeSlot()
        if clientSlot.counted {
            core.clientClosed(listener: listener, key: clientSlot.key)
            clientSlot.counted = false
        }
        loop.unregister(fd)
        Foundation.close(fd)
        core.connectionClosed(listener: listener)
    }
}
