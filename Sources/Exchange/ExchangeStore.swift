/// Where the exchange keeps its state. One protocol, so that SQLite (one node) and PostgreSQL
/// (several) can both serve it.
package protocol ExchangeStore: Sendable {
    /// Runs `body` inside a write transaction and returns once the transaction is durably
    /// committed. Concurrent writes share commits (group commit). If `body` throws, its changes
    /// are rolled back and the error is rethrown; other writes in the same commit are unaffected.
    func write<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result

    /// Runs `body` in a read-only snapshot, beside the writer (it does not wait for commits).
    /// Anything `body` tries to change fails.
    func read<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result

    /// Stores subject keys made ahead (for subjects not yet created) in their own durable commit,
    /// apart from any write, so that a later write creating the subject
    /// (`StoreTransaction.insertSubject(keyStoredAhead:)`) need not write a key. Returns false,
    /// storing nothing, when the store gains nothing by it (its keys share the data's commit);
    /// the default. Issue 17.
    func storeSubjectKeysAhead(_ keys: [WrappedSubjectKey]) async throws -> Bool
    /// Whether `storeSubjectKeysAhead` can store keys at all (asked before any key is made).
    var storesSubjectKeysAhead: Bool { get }
}

extension ExchangeStore {
    package func storeSubjectKeysAhead(_ keys: [WrappedSubjectKey]) async throws -> Bool { false }
    package var storesSubjectKeysAhead: Bool { false }
}

/// A store as the daemon and the command line hold it (`any RefexStore`, opened from a
/// `StoreConfiguration` in Store): the exchange's transactions, plus its lifecycle and health.
/// Test hooks are not part of it.
package protocol RefexStore: ExchangeStore {
    /// Whether opening made a new, empty store (a first start on an empty folder).
    var wasCreated: Bool { get }

    /// Starts the store's background work (its writer). The first write starts it otherwise;
    /// calling it again, or after `close()`, does nothing.
    func start()

    /// Commits the writes already queued, then stops; later writes fail with `StoreError` kind
    /// `unavailable`. Returns once stopped. Calling it again does nothing.
    func close()

    /// What stops the store from taking writes now, in words for `/readyz` and the log (ids and
    /// file names only); nil when it takes them.
    var problem: String? { get }

    /// Whether an empty write commits within `timeout`, without blocking a thread while waiting
    /// (`/readyz`, the `refex_store_writable` metric).
    func isWritable(within timeout: Duration) async -> Bool

    /// Whether the writer finishes an empty write within `timeout`, blocking the calling thread
    /// (the systemd watchdog's): false means it is stuck.
    func writerIsResponsive(within timeout: Duration) -> Bool

    /// Whether commits have been failing for longer than `duration`: the watchdog then stops
    /// pinging, so that systemd restarts refex.
    func hasBeenFailing(longerThan duration: Duration) -> Bool

    /// Commits made and the writes they held, since the store opened (the group size the writer
    /// reaches is their ratio); nil when the store does not count them (the default).
    var commitGroupTotals: CommitGroupTotals? { get }
}

extension RefexStore {
    package var commitGroupTotals: CommitGroupTotals? { nil }
}

/// How many commits a store made and how many writes they held (group commit), since it opened.
package struct CommitGroupTotals: Sendable, Equatable {
    package var commits: Int
    package var writes: Int
    /// Database pages those commits wrote (SQLite: WAL frames of the main database and pages of
    /// the keys database); 0 when the store does not count them.
    package var pages: Int

    package init(commits: Int, writes: Int, pages: Int = 0) {
        self.commits = commits
        self.writes = writes
        self.pages = pages
    }
}

/// The operations available inside a write transaction. Called on the store's writer only.
package protocol StoreTransaction: AnyObject {
    /// The transaction's clock reading (one per write, so that its records and log entries agree).
    var now: Timestamp { get }

    func insertSubject(_ subject: SubjectRecord, key: WrappedSubjectKey) throws
    /// Creates a subject whose key is already stored (`ExchangeStore.storeSubjectKeysAhead`, for
    /// the same id); throws when that key is not there, storing nothing.
    func insertSubject(keyStoredAhead subject: SubjectRecord) throws
    func subject(id: String) throws -> SubjectRecord?
    func subjectKey(subjectID: String) throws -> WrappedSubjectKey?
    func setRestricted(subjectID: String, _ restricted: Bool) throws
    /// Stores the answer to the subject's leaving the service.
    func setSubjectWithdrawalReceipt(subjectID: String, _ receipt: [UInt8]) throws

    func insertReferral(_ referral: ReferralRecord) throws
    /// Replaces a referral's sealed body (rectification).
    func replaceSealedBody(referralID: String, _ sealed: [UInt8]) throws
    /// Stores the first answer given for a referral (returned again to an identical resubmission).
    func setReceipt(referralID: String, _ receipt: [UInt8]) throws
    func referral(id: String) throws -> ReferralRecord?
    func referral(partnerID: String, referenceKey: [UInt8]) throws -> ReferralRecord?
    func referrals(subjectID: String) throws -> [ReferralRecord]

    func insertConsent(_ consent: ConsentRecord) throws
    func consent(id: String) throws -> ConsentRecord?
    func consents(subjectID: String) throws -> [ConsentRecord]
    func markConsentWithdrawn(id: String, at time: Timestamp) throws
    /// The consent recorded for `referralID` from the same document (by its keyed digest), if any.
    func consent(referralID: String, documentDigest: [UInt8]) throws -> ConsentRecord?
    func setConsentReceipt(id: String, _ receipt: [UInt8]) throws
    func setConsentWithdrawalReceipt(id: String, _ receipt: [UInt8]) throws

    /// Stores free text (sealed under the subject key) under its commitment.
    func insertFreeText(digest: String, subjectID: String, sealed: [UInt8]) throws
    /// The sealed free text committed to by `digest` and whose subject it is, if still held.
    func freeText(digest: String) throws -> (subjectID: String, sealed: [UInt8])?

    /// Remembers when a mailbox item was first acknowledged.
    func recordAcknowledgement(itemID: String, recipientID: String, at time: Timestamp) throws
    func acknowledgement(itemID: String) throws -> (recipientID: String, at: Timestamp)?

    func insertDisclosure(_ disclosure: DisclosureRecord) throws
    func updateDisclosure(_ disclosure: DisclosureRecord) throws
    func disclosure(id: String) throws -> DisclosureRecord?
    func disclosures(referralID: String) throws -> [DisclosureRecord]
    func disclosures(subjectID: String) throws -> [DisclosureRecord]
    /// Disclosures whose justification an older refex kept in plain text, at most `limit`.
    func disclosuresWithPlainJustification(limit: Int) throws -> [DisclosureRecord]
    /// Removes a justification kept in plain text (once sealed, or its subject erased).
    func clearPlainJustification(disclosureID: String) throws

    /// Puts a disclosure or notice in the outbox (replacing one with the same id).
    func enqueue(_ item: OutboxItem) throws
    /// Takes an item out (delivered or cancelled).
    func dequeue(id: String) throws
    /// Changes an item's state, schedule, attempts or error.
    func updateOutbox(_ item: OutboxItem) throws
    func outboxItem(id: String) throws -> OutboxItem?
    /// A recipient's pending push items due by `now` that no one holds (never claimed, released,
    /// or their lease ended by `now`), soonest due first. Read-only: see `claimDueOutbox` to take them.
    func dueOutbox(recipientID: String, now: Timestamp, limit: Int) throws -> [OutboxItem]
    /// Takes up to `limit` of a recipient's pending push items due by `now` that no one holds
    /// (never claimed, released, or their lease ended by `now`), soonest due first, for `claimant`
    /// until `leaseUntil`; returns them with `claim` set. Within one write transaction, so that two
    /// claimants (two nodes) never hold the same item at once. Pull items are never claimed.
    func claimDueOutbox(recipientID: String, now: Timestamp, leaseUntil: Timestamp, claimant: String, limit: Int) throws -> [OutboxItem]
    /// Ends the lease `claim` on an item, so that it can be claimed again as soon as it is due;
    /// nothing if the item is gone or held under another claim now: another claimant's, or a
    /// later claim by the same claimant (its earlier lease ended and it claimed the item again),
    /// so that recording a late attempt never frees the item for a third while a second is under way.
    func releaseOutboxClaim(id: String, claim: OutboxClaim) throws
    /// Pending pull items of `recipientIDs`, oldest first, after the item `afterID` (a cursor).
    func mailbox(recipientIDs: [String], afterID: String?, limit: Int) throws -> [OutboxItem]
    /// Items in `state`, oldest first (for `refex outbox list`).
    func outboxItems(state: OutboxItem.State?, limit: Int) throws -> [OutboxItem]
    func outboxDepths() throws -> [OutboxDepth]

    /// Appends to the hash chain; returns the sealed entry.
    @discardableResult
    func appendLog(_ draft: LogEntryDraft) throws -> LogEntry
    /// Appends a draft whose canonical form was written ahead, off the writer. Default: `appendLog(draft)`.
    @discardableResult
    func appendLog(_ prepared: PreparedLogEntryDraft) throws -> LogEntry

    func insertCheckpoint(_ checkpoint: Checkpoint) throws
    /// Signed checkpoints, oldest first.
    func checkpoints() throws -> [Checkpoint]
    func latestCheckpoint() throws -> Checkpoint?

    /// Calls `body` with every log entry from `seq` on, in order, until it returns false.
    func forEachLogEntry(from seq: Int64, _ body: (StoredLogEntry) throws -> Bool) throws
    /// Entries matching `filter`, in seq order, after `filter.afterSeq`, at most `limit`.
    func logEntries(_ filter: LogFilter, limit: Int) throws -> [LogEntry]
    func logEntry(seq: Int64) throws -> LogEntry?
    /// How many entries of each of `events` fell on each day from `since` up to `until` (days
    /// begin `utcOffsetMilliseconds` past midnight UTC), by recipient and lawful basis (the
    /// console's charts and overview). With `afterSeq`, only entries after that seq (what was
    /// appended since a count was last taken: read from the seq, not the time index).
    func logEventCounts(since: Timestamp, until: Timestamp, afterSeq: Int64?, events: [String], utcOffsetMilliseconds: Int64) throws -> [LogEventCount]
    /// The first and last entries (seq and hash), if any.
    func logBounds() throws -> (first: Int64, last: Int64, lastHash: String)?
    /// The log checked against the rest of the store (default: nothing found); see the extension.
    func logCompletenessProblems(prunedUpTo: Timestamp?, limit: Int) throws -> [String]

    // Finding what people name (issue 10): ids by prefix, filter values, subjects by blind index.
    /// Ids of `kind` starting with `prefix` (lower-case hex and `-`), in order, at most `limit`.
    func ids(_ kind: StoredIDKind, prefix: String, limit: Int) throws -> [String]
    /// The ids of `kind` just before and just after `id` in order (to find its shortest unique prefix).
    func idNeighbours(_ kind: StoredIDKind, of id: String) throws -> (before: String?, after: String?)
    /// Every distinct value of a log column, sorted.
    func distinctLogValues(_ column: LogValueColumn) throws -> [String]
    /// Adds blind-index entries (existing ones are kept).
    func insertSubjectIndex(_ entries: [SubjectIndexEntry]) throws
    /// Adds blind-index entries durably, but possibly after this commit (a store that keeps them
    /// apart from the data writes them in a later commit of their own, and remembers in this one
    /// which referrals await them: `referralsAwaitingIndex`). Default: `insertSubjectIndex`.
    func queueSubjectIndex(_ entries: [SubjectIndexEntry]) throws
    /// Referrals whose blind-index entries may not be written yet (a crash came between), at most `limit`.
    func referralsAwaitingIndex(limit: Int) throws -> [String]
    /// Forgets that these referrals await their entries (they were written, or cannot be).
    func clearAwaitingIndex(referralIDs: [String]) throws
    /// Replaces the entries that came from one referral (after rectification).
    func replaceSubjectIndex(referralID: String, with entries: [SubjectIndexEntry]) throws
    /// The entries with this kind and digest.
    func subjectIndexEntries(kind: SubjectKeyKind, digest: [UInt8]) throws -> [SubjectIndexEntry]
    /// How far indexing the referrals stored before the index existed got (a referral id; "" at
    /// the start), or nil once it is done.
    func subjectIndexBackfillCursor() throws -> String?
    /// Records how far it got; nil: done.
    func setSubjectIndexBackfillCursor(_ cursor: String?) throws
    /// Referrals after `id` in id order: id, subject, sealed body (nil once erased).
    func sealedReferrals(after id: String, limit: Int) throws -> [(id: String, subjectID: String, sealedBody: [UInt8]?)]

    // Retention.
    /// Subjects not yet erased whose newest referral is older than `cutoff`.
    func subjectsLastReferred(before cutoff: Timestamp, limit: Int) throws -> [String]
    /// The newest referral time of the subject that will be due first, if any.
    func earliestLastReferral() throws -> Timestamp?
    /// Erases the sealed details of consents that ended (withdrawn, expired, or recorded) before `cutoff`; returns how many.
    func eraseConsentDetails(endedBefore cutoff: Timestamp) throws -> Int
    func earliestConsentDetails() throws -> Timestamp?
    /// Where a pruned log now starts: the last removed entry's seq and hash (a signed checkpoint).
    func logAnchor() throws -> (seq: Int64, hash: String)?
    /// Removes entries up to and including `seq` and records the anchor.
    func pruneLog(through seq: Int64, hash: String) throws
    func earliestLogTime() throws -> Timestamp?

    /// Crypto-shreds the subject: deletes its key, every sealed body, detail and free text (and any
    /// justification kept in plain text by an older refex), marks it erased.
    func eraseSubject(id: String, at time: Timestamp) throws

    /// Referrals received and disclosures by state, for metrics: read on every refresh, so it
    /// must cost the same on any size of store (both stores keep the counts as rows change).
    func statistics() throws -> StoreStatistics
}

extension StoreTransaction {
    package func insertSubject(keyStoredAhead subject: SubjectRecord) throws {
        // Only keys that `storeSubjectKeysAhead` stored (it returned true) are used so.
        preconditionFailure("insertSubject(keyStoredAhead:) on a store that stores no keys ahead")
    }

    package func queueSubjectIndex(_ entries: [SubjectIndexEntry]) throws {
        try insertSubjectIndex(entries)
    }

    package func referralsAwaitingIndex(limit: Int) throws -> [String] { [] }

    @discardableResult
    package func appendLog(_ prepared: PreparedLogEntryDraft) throws -> LogEntry {
        try appendLog(prepared.draft)
    }

    package func clearAwaitingIndex(referralIDs: [String]) throws {}

    /// What the log lacks, checked against the rest of the store (see `LogCompleteness` in Store):
    /// rows without the entries their creation and changes of state appended, entries naming rows
    /// that never existed. Rows older than `prunedUpTo` (the log's retention cut) are excepted.
    /// At most `limit` problems, each one line naming ids only. Stores that cannot tell say nothing.
    package func logCompletenessProblems(prunedUpTo: Timestamp?, limit: Int) throws -> [String] { [] }
}
