import HTTP
import Server

/// What `refex sink` does: where it listens, where it writes, and how it misbehaves on purpose.
package struct SinkConfiguration: Sendable {
    package var listen: ListenAddress
    package var certificatePath: String
    package var keyPath: String
    /// The CA that refex's client certificate must chain to.
    package var clientCAPath: String
    /// One JSON file per delivery or notice, named by disclosure id.
    package var directory: String
    /// Answer the first N requests with `failStatus`.
    package var failFirst: Int
    package var failStatus: Int
    /// Send `Retry-After` with failures: this text as it is, or, with `retryAfterDateForm`, the
    /// HTTP-date this many seconds after the answer, written in that form.
    package var retryAfter: String?
    package var retryAfterDateForm: HTTPDateForm?
    /// Answer every request with this status (and write nothing).
    package var alwaysStatus: Int?
    /// Wait this long before answering.
    package var delayMilliseconds: Int

    package init(
        listen: ListenAddress, certificatePath: String, keyPath: String, clientCAPath: String, directory: String,
        failFirst: Int = 0, failStatus: Int = 503, retryAfter: String? = nil, retryAfterDateForm: HTTPDateForm? = nil,
        alwaysStatus: Int? = nil, delayMilliseconds: Int = 0
    ) {
        self.listen = listen
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.clientCAPath = clientCAPath
        self.directory = directory
        self.failFirst = failFirst
        self.failStatus = failStatus
        self.retryAfter = retryAfter
        self.retryAfterDateForm = retryAfterDateForm
        self.alwaysStatus = alwaysStatus
        self.delayMilliseconds = delayMilliseconds
    }
}
