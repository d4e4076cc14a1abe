import Exchange
import Foundation
import Synchronization

/// An `ExchangeStore` held in memory, for testing the domain in process and as the second
/// implementation the store conformance suite (`StoreConformance`) runs against.
///
/// It behaves like `SQLiteStore` wherever the domain can tell: a write sees the committed
/// state and its own changes; a write whose body throws leaves nothing (its copy of the tables
/// is dropped) while the writes around it commit; reads see committed state only and cannot
/// change anything; log entries are sealed into one hash chain that `LogVerifier` accepts;
/// uniqueness and references are enforced as the SQLite schema enforces them; orderings and
/// cursors are the SQL queries'. Time comes from the injected clock, read once per transaction.
///
/// Durability is the `InMemoryStoreState` object: a store opened again over the same state is
/// the same store after a restart.
package final class InMemoryStore: ExchangeStore {
    /// The committed state; another `InMemoryStore` over it is this store reopened.
    package let state: InMemoryStoreState
    private let clock: @Sendable () -> Timestamp

    package init(state: InMemoryStoreState = InMemoryStoreState(), clock: @escaping @Sendable () -> Timestamp = { Timestamp(Date()) }) {
        self.state = state
        self.clock = clock
    }

    package func write<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result {
        try state.write { committed in
            let transaction = InMemoryTransaction(tables: committed, now: clock(), isReadOnly: false)
            let result = try body(transaction)
            committed = transaction.tables
            return result
        }
    }

    package func read<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result {
        try body(InMemoryTransaction(tables: state.tables, now: clock(), isReadOnly: true))
    }
}

/// What an in-memory store keeps between restarts: its committed tables. Writers take turns;
/// readers take a snapshot without waiting for them.
package final class InMemoryStoreState: Sendable {
    private let committed = Mutex(InMemoryTables())
    private let writer = Mutex(())

    package init() {}

    /// A snapshot of the committed tables.
    package var tables: InMemoryTables { committed.withLock { $0 } }

    /// Changes the committed tables directly, outside any transaction: for tests that set up
    /// what an older refex left (a plain-text justification) or that damage the store.
    package func modify(_ change: (inout InMemoryTables) -> Void) {
        writer.withLock { _ in committed.withLock { change(&$0) } }
    }

    /// Runs `body` on a copy of the committed tables and publishes the copy only if it returns.
    func write<Result>(_ body: (inout InMemoryTables) throws -> Result) throws -> Result {
        try writer.withLock { _ in
            var copy = committed.withLock { $0 }
            let result = try body(&copy)
            committed.withLock { $0 = copy }
            return result
        }
    }
}

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
