/// What one retention run did (`refex retention run`, and the daemon's timer).
package struct RetentionReport: Sendable, Hashable {
    package var subjectsErased: Int
    package var consentDetailsErased: Int
    /// The seq the log was pruned through; nil when nothing was pruned.
    package var logPrunedThrough: Int64?
}

/// `refex retention status`: for each kind of data, its retention and when the next item is due.
package struct RetentionStatus: Sendable, Hashable {
    /// One kind of data.
    package enum Kind: Sendable, Hashable {
        /// Kept for ever (no retention configured).
        case forever
        /// Kept `retention`; the oldest item is due at `nextDue` (nil: none held).
        case kept(retention: Duration, nextDue: Timestamp?, overdue: Bool)
    }

    package var referrals: Kind
    package var consents: Kind
    package var log: Kind
    /// Where the pruned log now starts verifying from; nil when never pruned.
    package var logAnchor: (seq: Int64, hash: String)?

    package static func == (lhs: RetentionStatus, rhs: RetentionStatus) -> Bool {
        lhs.referrals == rhs.referrals && lhs.consents == rhs.consents && lhs.log == rhs.log
            && lhs.logAnchor?.seq == rhs.logAnchor?.seq && lhs.logAnchor?.hash == rhs.logAnchor?.hash
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(referrals)
        hasher.combine(consents)
        hasher.combine(log)
        hasher.combine(logAnchor?.seq)
    }
}
