import HTTP

/// The lifecycle of one server connection as a value: events in, actions out.
///
/// Which time limit runs, whether a response keeps the connection alive, and when the handshake,
/// the connection budget, a drain or a reload ends it are decided here, from the events
/// `Connection` reports, over an injected clock. `Connection` owns the socket, the TLS session
/// and the buffers, and does what the actions say. (Hummingbird's
/// `HTTPConnectionStateHandler.StateMachine` is the model.)
///
/// Time limits are checked by `tick()` and compared with `>`: a connection whose idle limit is
/// 60 s is closed by the first tick more than 60 s after its last response.
struct ConnectionStateMachine {
    /// The time limits, in nanoseconds.
    struct Timeouts: Equatable, Sendable {
        /// From accept to a finished handshake.
        var handshake: UInt64
        /// From a request's first byte to the end of its header section.
        var header: UInt64
        /// From the end of the header section to the end of the body.
        var body: UInt64
        /// Between requests on a kept-alive connection.
        var idle: UInt64
        /// For the client to take output it is not reading.
        var write: UInt64
        /// How long a closing connection discards what the peer still sends before closing anyway.
        var linger: UInt64

        init(handshake: UInt64, header: UInt64, body: UInt64, idle: UInt64, write: UInt64, linger: UInt64 = 2_000_000_000) {
            self.handshake = handshake
            self.header = header
            self.body = body
            self.idle = idle
            self.write = write
            self.linger = linger
        }

        init(_ configuration: ServerConfiguration) {
            self.init(
                handshake: configuration.handshakeTimeout.nanoseconds, header: configuration.headerTimeout.nanoseconds,
                body: configuration.bodyTimeout.nanoseconds, idle: configuration.idleTimeout.nanoseconds,
                write: configuration.writeTimeout.nanoseconds
            )
        }
    }

    /// A lingering connection that is sent more than this is closed at once.
    static let maxLingerBytes = 1024 * 1024

    /// The time limit that ran out, named as in the `phase` label of `refex_connection_timeouts_total`.
    enum Timeout: String, Equatable, Sendable {
        case handshake, header, body, idle, write
    }

    enum State: Equatable {
        /// Accepted; the TLS handshake is under way since then (none on a plain listener).
        case handshaking(since: UInt64)
        case open(Open)
        /// The last response is written and our side shut; reading and discarding until the peer
        /// closes, so that unread request bytes do not turn our close into a reset that destroys the response.
        case lingering(until: UInt64, discarded: Int)
        case closed
    }

    /// A connection past its handshake: where its current request is, and what will end it.
    struct Open: Equatable {
        var request: Request = .idle
        /// The handshake or the last response: the idle limit runs from then.
        var idleSince: UInt64
        var output: Output = .flushed
        /// The peer shut its sending side: what is buffered is answered, then the connection closes.
        var inputClosed = false
        /// The response under way is the last (the client's certificate stopped verifying meanwhile).
        var lastResponse = false
        /// No more requests: what is queued is written, then the connection lingers and closes.
        var closingAfterFlush = false
    }

    enum Request: Equatable {
        /// Between requests (since `Open.idleSince`).
        case idle
        /// Part of a request's header section has arrived; its first byte came then.
        case receivingHead(since: UInt64)
        /// The header section is complete and the body is arriving, since then.
        case receivingBody(since: UInt64)
        /// Complete and handed to the responder; `keepAlive`: what the request asked for.
        case inFlight(keepAlive: Bool)
    }

    enum Output: Equatable {
        case flushed
        /// Queued output is not all written; `blockedSince`: when the socket stopped taking it (the write limit runs from then).
        case pending(blockedSince: UInt64?)
    }

    private(set) var state: State
    /// The server is shutting down: no response keeps its connection alive, and idle connections close.
    private(set) var isDraining = false
    let timeouts: Timeouts
    private let clock: MonotonicClock

    init(timeouts: Timeouts, clock: MonotonicClock) {
        self.timeouts = timeouts
        self.clock = clock
        state = .handshaking(since: clock.now())
    }

    enum CloseAction: Equatable {
        case none
        case close
    }

    // MARK: Queries

    var isHandshaking: Bool {
        if case .handshaking = state { return true }
        return false
    }

    var isOpen: Bool {
        if case .open = state { return true }
        return false
    }

    var isClosed: Bool { state == .closed }

    /// Open, no request in flight and not closing: the next buffered request may be answered.
    var acceptsRequests: Bool {
        guard case .open(let open) = state, !open.closingAfterFlush else { return false }
        if case .inFlight = open.request { return false }
        return true
    }

    /// Requests are accepted and the peer may still send: worth waiting until the socket is readable.
    var wantsInput: Bool {
        guard acceptsRequests, case .open(let open) = state else { return false }
        return !open.inputClosed
    }

    /// The peer may still send and the connection reads what it sends: also while a request is in
    /// flight (what arrives meanwhile waits in the buffer for its turn); not once the peer stopped
    /// sending or the connection is closing.
    var readsInput: Bool {
        guard case .open(let open) = state else { return false }
        return !open.inputClosed && !open.closingAfterFlush
    }

    // MARK: Handshake

    enum HandshakeAction: Equatable {
        /// Read and answer requests.
        case read
        /// Over the connection budget: answer 503, then close after the flush.
        case answer503
        /// Plain HTTP reached the TLS port: answer it in plain HTTP, shut our side and linger.
        case answerPlainHTTP
        case close
    }

    /// The handshake finished and the client passed verification; `admitted`: the connection budget has room for it.
    mutating func handshakeFinished(admitted: Bool) -> HandshakeAction {
        guard case .handshaking = state else { return isOpen ? .read : .close }
        state = .open(Open(idleSince: clock.now(), closingAfterFlush: !admitted))
        return admitted ? .read : .answer503
    }

    /// The handshake failed, the peer left during it, or the client failed verification after it.
    mutating func handshakeFailed(plainHTTP: Bool) -> HandshakeAction {
        guard case .handshaking = state else { return .close }
        if plainHTTP {
            state = .lingering(until: clock.now() &+ timeouts.linger, discarded: 0)
            return .answerPlainHTTP
        }
        state = .closed
        return .close
    }

    /// A newer connection took this one's handshake slot: closes it if it is still handshaking.
    mutating func handshakeDisplaced() -> CloseAction {
        guard case .handshaking = state else { return .none }
        state = .closed
        return .close
    }

    // MARK: Requests

    enum InputAction: Equatable {
        /// Wait for more bytes.
        case read
        /// The peer stopped sending in the middle of a request: nothing to answer; close after the flush.
        case closeAfterFlush
    }

    /// The parser needs more bytes; `phase`: where it is in the next request.
    mutating func awaitingInput(_ phase: HTTPRequestParser.Phase) -> InputAction {
        guard case .open(var open) = state else { return .read }
        switch (phase, open.request) {
        case (_, .inFlight), (.idle, .idle), (.head, .receivingHead), (.body, .receivingBody):
            break
        case (.idle, _):
            // Only leading empty lines were consumed: still idle, since the last response.
            open.request = .idle
        case (.head, _):
            open.request = .receivingHead(since: clock.now())
        case (.body, _):
            open.request = .receivingBody(since: clock.now())
        }
        if open.inputClosed && phase != .idle {
            open.closingAfterFlush = true
            state = .open(open)
            return .closeAfterFlush
        }
        state = .open(open)
        return .read
    }

    /// The peer shut its sending side (read returned end of file).
    mutating func inputClosed() {
        guard case .open(var open) = state else { return }
        open.inputClosed = true
        state = .open(open)
    }

    enum ContinueAction: Equatable {
        case writeContinue
        /// Draining: the client sends the body unasked or not at all, and gets the answer with `Connection: close`.
        case none
    }

    /// The request's head asked for `100 Continue` before its body.
    func expectContinue() -> ContinueAction {
        isDraining ? .none : .writeContinue
    }

    enum RequestAction: Equatable {
        /// Hand the request to the responder.
        case dispatch
        /// Answer nothing more: write what is queued, then close.
        case closeAfterFlush
    }

    /// A complete request arrived. `clientVerified`: the client certificate still passes verification
    /// (it may have expired, or a reload changed the CAs or the CRL, since the handshake).
    mutating func requestReceived(keepAlive: Bool, clientVerified: Bool) -> RequestAction {
        guard case .open(var open) = state, acceptsRequests else { return .closeAfterFlush }
        if clientVerified {
            open.request = .inFlight(keepAlive: keepAlive)
        } else {
            open.closingAfterFlush = true
        }
        state = .open(open)
        return clientVerified ? .dispatch : .closeAfterFlush
    }

    enum ResponseAction: Equatable {
        /// Queue the response, saying whether the connection stays open (`Connection: close` if not).
        case write(keepAlive: Bool)
        /// The connection closed meanwhile: drop the response.
        case discard
    }

    /// The responder answered the request in flight.
    mutating func responseReady() -> ResponseAction {
        guard case .open(var open) = state, case .inFlight(let asked) = open.request else { return .discard }
        let keepAlive = asked && !isDraining && !open.inputClosed && !open.lastResponse
        open.request = .idle
        open.idleSince = clock.now()
        if !keepAlive { open.closingAfterFlush = true }
        state = .open(open)
        return .write(keepAlive: keepAlive)
    }

    // MARK: Writing

    /// Queued output could not all be written. `blocked`: the socket is full (the write limit
    /// starts, unless it already runs); otherwise TLS must read before it can write.
    mutating func writeStalled(blocked: Bool) {
        guard case .open(var open) = state else { return }
        var since: UInt64? = nil
        if case .pending(let blockedSince) = open.output { since = blockedSince }
        if blocked && since == nil { since = clock.now() }
        open.output = .pending(blockedSince: since)
        state = .open(open)
    }

    enum FlushedAction: Equatable {
        case none
        /// Closing: shut our side and linger (discard input until the peer closes or the linger time passes).
        case linger
    }

    /// Everything queued is written.
    mutating func outputFlushed() -> FlushedAction {
        guard case .open(var open) = state else { return .none }
        if open.closingAfterFlush {
            state = .lingering(until: clock.now() &+ timeouts.linger, discarded: 0)
            return .linger
        }
        open.output = .flushed
        state = .open(open)
        return .none
    }

    /// Stop answering (a request could not be read, or was refused): what is queued is written,
    /// then the connection lingers and closes.
    mutating func closeAfterFlush() {
        guard case .open(var open) = state else { return }
        open.closingAfterFlush = true
        state = .open(open)
    }

    // MARK: Reading stopped, lingering

    /// Reading paused (no more bytes, or a limit): closes a connection whose peer has stopped
    /// sending once nothing is in flight or left to write.
    mutating func readingPaused() -> CloseAction {
        guard case .open(let open) = state, open.inputClosed, open.output == .flushed else { return .none }
        if case .inFlight = open.request { return .none }
        state = .closed
        return .close
    }

    /// A lingering connection read and discarded `byteCount` more bytes.
    mutating func discarded(byteCount: Int) -> CloseAction {
        guard case .lingering(let until, let discarded) = state else { return .none }
        let total = discarded + byteCount
        if total > ConnectionStateMachine.maxLingerBytes {
            state = .closed
            return .close
        }
        state = .lingering(until: until, discarded: total)
        return .none
    }

    // MARK: Time, draining, reloads

    enum TickAction: Equatable {
        case none
        /// Close now (an idle connection while draining, or the linger time is over).
        case close
        /// Close now: `Timeout` ran out (counted in the timeouts metric).
        case closeTimedOut(Timeout)
        /// The request did not arrive in time: answer 408 (counted), then close after the flush.
        case answer408(Timeout)
    }

    /// Checks the time limits (called every `EventLoop.tickInterval`).
    mutating func tick() -> TickAction {
        let now = clock.now()
        switch state {
        case .handshaking(let since):
            guard now &- since > timeouts.handshake else { return .none }
            state = .closed
            return .closeTimedOut(.handshake)
        case .open(var open):
            if case .pending(let blockedSince?) = open.output {
                guard now &- blockedSince > timeouts.write else { return .none }
                state = .closed
                return .closeTimedOut(.write)
            }
            if open.closingAfterFlush { return .none }
            switch open.request {
            case .inFlight:
                return .none
            case .idle:
                if isDraining {
                    state = .closed
                    return .close
                }
                guard now &- open.idleSince > timeouts.idle else { return .none }
                state = .closed
                return .closeTimedOut(.idle)
            case .receivingHead(let since):
                guard now &- since > timeouts.header else { return .none }
                open.closingAfterFlush = true
                state = .open(open)
                return .answer408(.header)
            case .receivingBody(let since):
                guard now &- since > timeouts.body else { return .none }
                open.closingAfterFlush = true
                state = .open(open)
                return .answer408(.body)
            }
        case .lingering(let until, _):
            guard now > until else { return .none }
            state = .closed
            return .close
        case .closed:
            return .none
        }
    }

    /// The server started draining, seen before `drain()` reached this connection: no answer
    /// keeps the connection alive, and no `100 Continue` is sent.
    mutating func serverIsDraining() {
        isDraining = true
    }

    /// The server started draining: a connection still handshaking or idle (between requests,
    /// nothing left to write) closes now; a busy one answers with `Connection: close` and closes after.
    mutating func drain() -> CloseAction {
        isDraining = true
        switch state {
        case .handshaking:
            state = .closed
            return .close
        case .open(let open):
            guard case .idle = open.request, open.output == .flushed, !open.closingAfterFlush else { return .none }
            state = .closed
            return .close
        case .lingering, .closed:
            return .none
        }
    }

    enum RecheckAction: Equatable {
        case none
        /// A request is in flight: its response is the last.
        case closeAfterResponse
        /// Nothing in flight: write what is queued, then close.
        case closeAfterFlush
    }

    /// After a reload, the client's certificate no longer passes verification.
    mutating func clientNoLongerVerified() -> RecheckAction {
        guard case .open(var open) = state else { return .none }
        let action: RecheckAction
        if case .inFlight = open.request {
            open.lastResponse = true
            action = .closeAfterResponse
        } else {
            open.closingAfterFlush = true
            action = .closeAfterFlush
        }
        state = .open(open)
        return action
    }

    /// The connection closed for a reason of its own (the peer hung up, a read or write failed, the drain time is over).
    mutating func closed() {
        state = .closed
    }
}
