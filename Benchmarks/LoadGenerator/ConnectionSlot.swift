import TLS

/// One of the connections a worker drives: its socket, its TLS session, and where its current
/// request stands. Touched only by the worker that owns it.
final class ConnectionSlot {
    enum Stage {
        /// No request in flight: waiting for its start time (open loop) or a retry delay.
        case idle
        case connecting
        case handshaking
        case sending
        case receiving
        /// Past the end of the run.
        case finished
    }

    /// Across all workers: staggers the open-loop schedule and picks the first request body.
    let index: Int
    /// Within its worker: the epoll data that leads events back to it.
    let localIndex: Int
    let reader: ResponseReader
    var stage = Stage.idle
    var fd: Int32 = -1
    var tls: TLSConnection?
    /// The epoll events registered for `fd`.
    var interest: UInt32 = 0
    var sequence: Int
    /// Requests this slot has begun (for unique tokens).
    var counter = 0
    /// Requests begun on the current connection, and connections this slot has opened (for diagnosing a timeout).
    var requestsOnConnection = 0
    var connectionsOpened = 0
    var request: [UInt8] = []
    var sent = 0
    /// What the current request's latency counts from: its scheduled time (open loop) or when it began.
    var startedAt: UInt64 = 0
    /// When the current request actually began (for the timeout).
    var beganAt: UInt64 = 0
    var measured = false
    /// When the next request may begin: its scheduled time (open loop), or after a retry delay.
    var nextStart: UInt64 = 0

    init(index: Int, localIndex: Int, noBody: Bool) {
        self.index = index
        self.localIndex = localIndex
        sequence = index
        reader = ResponseReader(noBody: noBody)
    }
}
