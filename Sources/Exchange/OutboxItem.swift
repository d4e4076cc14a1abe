/// Something waiting to reach a recipient: a disclosure, or a notice about one.
package struct OutboxItem: Sendable, Hashable {
    package enum Kind: String, Sendable, Hashable {
        case disclosure
        /// UK GDPR Art. 19: the recipient must erase what it received.
        case erasureNotice = "erasure-notice"
        /// UK GDPR Art. 19: corrected values for what the recipient received.
        case rectificationNotice = "rectification-notice"
    }

    package enum State: String, Sendable, Hashable {
        case pending
        case failed
    }

    package enum Mode: String, Sendable, Hashable {
        case push
        case pull
    }

    /// For a disclosure, the disclosure id; for a notice, its own id. Sent as `Idempotency-Key`.
    package var id: String
    package var kind: Kind
    package var disclosureID: String
    package var recipientID: String
    package var mode: Mode
    /// A notice's body: ids and a reason only, or (rectification) sealed under the subject key.
    package var payload: [UInt8]?
    package var state: State
    package var enqueuedAt: Timestamp
    package var nextAttemptAt: Timestamp
    package var attempts: Int
    package var lastError: String?
    /// Who holds the item for an attempt, and until when: set on the items `claimDueOutbox`
    /// returns, nil on items read otherwise.
    package var claim: OutboxClaim?

    package init(
        id: String, kind: Kind, disclosureID: String, recipientID: String, mode: Mode, payload: [UInt8]? = nil,
        state: State = .pending, enqueuedAt: Timestamp, nextAttemptAt: Timestamp, attempts: Int = 0, lastError: String? = nil,
        claim: OutboxClaim? = nil
    ) {
        self.id = id
        self.kind = kind
        self.disclosureID = disclosureID
        self.recipientID = recipientID
        self.mode = mode
        self.payload = payload
        self.state = state
        self.enqueuedAt = enqueuedAt
        self.nextAttemptAt = nextAttemptAt
        self.attempts = attempts
        self.lastError = lastError
        self.claim = claim
    }
}

/// A lease on an outbox item: `claimant` (a node) attempts it, and no one else may until `until`.
/// A claimant that dies holding one delays the item until then; it is attempted again under the
/// same `Idempotency-Key`, so a recipient sees at most a repeat it recognises.
package struct OutboxClaim: Sendable, Hashable {
    /// The node's id (random for each process).
    package var claimant: String
    package var until: Timestamp

    package init(claimant: String, until: Timestamp) {
        self.claimant = claimant
        self.until = until
    }
}

/// How deep a recipient's queue is, for metrics and `refex outbox list`.
package struct OutboxDepth: Sendable, Hashable {
    package var recipientID: String
    package var pending: Int
    package var failed: Int
    package var oldestPending: Timestamp?

    package init(recipientID: String, pending: Int, failed: Int, oldestPending: Timestamp?) {
        self.recipientID = recipientID
        self.pending = pending
        self.failed = failed
        self.oldestPending = oldestPending
    }
}
