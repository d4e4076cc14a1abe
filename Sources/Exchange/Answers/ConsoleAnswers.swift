import JSON

/// How many log entries of one event fell on one day, for one recipient and lawful basis: what
/// the console's charts and overview count (ids, event names and numbers only).
package struct LogEventCount: Sendable, Hashable {
    /// Days since 1970-01-01 in the time zone the counts were asked for.
    package var day: Int64
    package var event: String
    package var recipientID: String?
    package var lawfulBasis: String?
    package var count: Int

    package init(day: Int64, event: String, recipientID: String?, lawfulBasis: String?, count: Int) {
        self.day = day
        self.event = event
        self.recipientID = recipientID
        self.lawfulBasis = lawfulBasis
        self.count = count
    }
}

/// A subject as the console's subject page shows it: the records (no referral bodies), the
/// consents with their sealed details opened, every disclosure, and the subject's log entries.
package struct SubjectTimeline: Sendable, Hashable {
    package struct Referral: Sendable, Hashable {
        package var id: String
        package var partnerID: String
        package var receivedAt: Timestamp
        /// Whether its body can still be opened (not erased).
        package var isReadable: Bool
    }

    package var subject: SubjectRecord
    package var referrals: [Referral]
    package var consents: [ConsentView]
    package var disclosures: [DisclosureDetail]
    /// Newest first, at most the limit asked for.
    package var log: [LogEntry]
    /// Whether there are more entries than `log` holds.
    package var logTruncated: Bool
}

/// One referral opened for an admin who asked (logged `referral.viewed`).
package struct RevealedReferral: Sendable, Hashable {
    package var id: String
    package var subjectID: String
    package var partnerID: String
    package var schemaID: String
    package var receivedAt: Timestamp
    /// Nil once erased.
    package var document: JSONValue?

    package init(id: String, subjectID: String, partnerID: String, schemaID: String, receivedAt: Timestamp, document: JSONValue?) {
        self.id = id
        self.subjectID = subjectID
        self.partnerID = partnerID
        self.schemaID = schemaID
        self.receivedAt = receivedAt
        self.document = document
    }
}

/// The newest log verification recorded in the log (a `log.viewed` entry whose action is `verify`).
package struct RecordedVerification: Sendable, Hashable {
    /// The seq of the `log.viewed` entry that records it.
    package var seq: Int64
    package var time: Timestamp
    package var actor: String
    package var valid: Bool
    /// Entries checked and the last seq, when the entry records them.
    package var entries: Int64?
    package var lastSeq: Int64?

    package init(seq: Int64, time: Timestamp, actor: String, valid: Bool, entries: Int64?, lastSeq: Int64?) {
        self.seq = seq
        self.time = time
        self.actor = actor
        self.valid = valid
        self.entries = entries
        self.lastSeq = lastSeq
    }

    /// Read from a `log.viewed` entry; nil for any other.
    package init?(_ entry: LogEntry) {
        guard entry.draft.event == .logViewed, let details = entry.draft.details, details["action"]?.stringValue == "verify",
              let valid = details["valid"]?.boolValue else { return nil }
        self.init(
            seq: entry.seq, time: entry.time, actor: entry.draft.actor, valid: valid,
            entries: details["entries"]?.int64Value, lastSeq: details["lastSeq"]?.int64Value
        )
    }
}
