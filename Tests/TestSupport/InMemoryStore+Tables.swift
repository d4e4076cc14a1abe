import Exchange

/// Why an in-memory transaction refused a change: what SQLite would refuse.
package struct InMemoryStoreError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Hashable {
        /// A primary key, unique or foreign key constraint (SQLITE_CONSTRAINT).
        case constraint
        /// A change attempted in a read (SQLITE_READONLY).
        case readOnly
    }

    package var kind: Kind
    package var message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    package var description: String { "in-memory store: \(message)" }
}

/// A row with its insertion order: SQLite's rowid, which breaks ties in the queries' orderings.
package struct InMemoryRow<Record: Sendable>: Sendable {
    package var rowID: Int64
    package var record: Record
}

/// The tables of an in-memory store, as one value (copied per write).
package struct InMemoryTables: Sendable {
    package struct FreeText: Sendable, Hashable {
        package var subjectID: String
        package var sealed: [UInt8]
    }

    package struct Acknowledgement: Sendable, Hashable {
        package var recipientID: String
        package var at: Timestamp
    }

    /// The subject index's primary key.
    package struct IndexKey: Sendable, Hashable {
        package var kind: SubjectKeyKind
        package var digest: [UInt8]
        package var referralID: String
    }

    package var subjects: [String: InMemoryRow<SubjectRecord>] = [:]
    package var subjectKeys: [String: WrappedSubjectKey] = [:]
    package var referrals: [String: InMemoryRow<ReferralRecord>] = [:]
    package var consents: [String: InMemoryRow<ConsentRecord>] = [:]
    /// `legacyJustification` is what an older refex kept in plain text: never written by
    /// `insertDisclosure` or `updateDisclosure`, as in SQLite (set it with `modify`).
    package var disclosures: [String: InMemoryRow<DisclosureRecord>] = [:]
    package var outbox: [String: InMemoryRow<OutboxItem>] = [:]
    /// Outbox leases by item id (`outbox.lease_holder`, `lease_until`): kept apart, because only
    /// `claimDueOutbox` returns an item with its claim.
    package var outboxLeases: [String: OutboxClaim] = [:]
    package var freeTexts: [String: FreeText] = [:]
    package var acknowledgements: [String: Acknowledgement] = [:]
    /// The log in seq order, as stored (canonical bytes, hash, indexed columns).
    package var log: [StoredLogEntry] = []
    package var logAnchor: (seq: Int64, hash: String)?
    package var checkpoints: [Int64: Checkpoint] = [:]
    package var subjectIndex: [IndexKey: SubjectIndexEntry] = [:]
    /// A new store has indexed everything (""), as a new SQLite store's migration records.
    package var subjectIndexBackfillCursor: String? = ""
    package var nextRowID: Int64 = 1

    package init() {}

    mutating func takeRowID() -> Int64 {
        defer { nextRowID += 1 }
        return nextRowID
    }

    /// The head of the hash chain: the last entry, else where pruning left the log, else genesis.
    var chainHead: (seq: Int64, hash: String) {
        if let last = log.last { return (last.seq, last.hash) }
        return logAnchor ?? (0, LogEntry.genesisHash)
    }
}
