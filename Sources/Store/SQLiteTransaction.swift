import Exchange
import JSON
import SQLite

/// The exchange's operations as SQL, inside the writer's open transaction.
final class SQLiteTransaction: StoreTransaction {
    let now: Timestamp
    let main: SQLiteConnection
    let keys: SQLiteConnection
    private let chain: LogChain
    /// For a copy opened read-only: where log entries go instead of its own log (kept for the
    /// live store, or dropped). Nil: appended here.
    private let redirectedLog: ((LogEntryDraft, Timestamp) throws -> LogEntry)?
    /// Called before every change to the keys database: the writer opens its keys transaction (and
    /// the job's savepoint in it) only then, so that a commit that changes nothing there (intake
    /// with a key stored ahead) syncs the main database alone.
    private let keysWritable: () throws -> Void
    /// Blind-index entries to write to the keys database after the commit (`queueSubjectIndex`).
    var deferredIndex: [SubjectIndexEntry] = []
    /// Keys stored ahead by this process (nil: none may be used here), and those this transaction gave to subjects.
    private let storedAhead: StoredAheadKeys?
    var keysTakenFromAhead: [String] = []

    init(
        now: Timestamp, main: SQLiteConnection, keys: SQLiteConnection, chain: LogChain,
        keysWritable: @escaping () throws -> Void = {}, storedAhead: StoredAheadKeys? = nil,
        redirectedLog: ((LogEntryDraft, Timestamp) throws -> LogEntry)? = nil
    ) {
        self.storedAhead = storedAhead
        self.now = now
        self.main = main
        self.keys = keys
        self.chain = chain
        self.keysWritable = keysWritable
        self.redirectedLog = redirectedLog
    }

    /// Makes the keys database writable in this transaction (see `keysWritable`).
    func writingKeys() throws {
        try keysWritable()
    }

    // MARK: Subjects

    func insertSubject(_ subject: SubjectRecord, key: WrappedSubjectKey) throws {
        try writingKeys()
        try keys.query("INSERT INTO subject_keys (subject_id, wrapped, created_at) VALUES (?, ?, ?)", [key.subjectID, key.wrapped, now.milliseconds])
        try insertSubjectRow(subject)
    }

    func insertSubject(keyStoredAhead subject: SubjectRecord) throws {
        // The key was committed to the keys database before it was handed out (this process's
        // `storeSubjectKeysAhead`): a subject is never stored without the key that opens it, and
        // the check reads no file (a read of the keys database would wait on its commits).
        guard let storedAhead, storedAhead.contains(subject.id) else {
            throw StoreError("the subject key for a new subject was not stored ahead by this store; the referral was not stored", kind: .unavailable)
        }
        try insertSubjectRow(subject)
        keysTakenFromAhead.append(subject.id)
    }

    private func insertSubjectRow(_ subject: SubjectRecord) throws {
        try main.query(
            "INSERT INTO subjects (id, created_at, restricted, erased_at) VALUES (?, ?, ?, ?)",
            [subject.id, subject.createdAt.milliseconds, subject.restricted, subject.erasedAt?.milliseconds]
        )
    }

    func subject(id: String) throws -> SubjectRecord? {
        let columns = "id, created_at, restricted, erased_at, withdrawal_receipt"
        guard let found = try main.first("SELECT \(columns) FROM subjects WHERE id = ?", [id]) else { return nil }
        let row = StrictRow(found, table: "subjects", columnList: columns)
        return SubjectRecord(
            id: try row.text(0), createdAt: try row.timestamp(1), restricted: try row.flag(2), erasedAt: try row.optionalTimestamp(3),
            withdrawalReceipt: try row.optionalBlob(4)
        )
    }

    func setSubjectWithdrawalReceipt(subjectID: String, _ receipt: [UInt8]) throws {
        try main.query("UPDATE subjects SET withdrawal_receipt = ? WHERE id = ?", [receipt, subjectID])
    }

    func subjectKey(subjectID: String) throws -> WrappedSubjectKey? {
        guard let row = try keys.first("SELECT wrapped FROM subject_keys WHERE subject_id = ?", [subjectID]) else { return nil }
        return WrappedSubjectKey(subjectID: subjectID, wrapped: try StrictRow(row, table: "subject_keys", columns: ["wrapped"]).blob(0))
    }

    func setRestricted(subjectID: String, _ restricted: Bool) throws {
        try main.query("UPDATE subjects SET restricted = ? WHERE id = ?", [restricted, subjectID])
    }

    // MARK: Referrals

    private static let referralColumns = "id, partner_id, reference_key, subject_id, schema_id, body_digest, sealed_body, received_at, receipt"

    func insertReferral(_ referral: ReferralRecord) throws {
        try main.query(
            "INSERT INTO referrals (\(Self.referralColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [referral.id, referral.partnerID, referral.referenceKey, referral.subjectID, referral.schemaID,
             referral.bodyDigest, referral.sealedBody, referral.receivedAt.milliseconds, referral.receipt]
        )
    }

    func replaceSealedBody(referralID: String, _ sealed: [UInt8]) throws {
        try main.query("UPDATE referrals SET sealed_body = ? WHERE id = ? AND sealed_body IS NOT NULL", [sealed, referralID])
    }

    func setReceipt(referralID: String, _ receipt: [UInt8]) throws {
        try main.query("UPDATE referrals SET receipt = ? WHERE id = ?", [receipt, referralID])
    }

    func referral(id: String) throws -> ReferralRecord? {
        try main.first("SELECT \(Self.referralColumns) FROM referrals WHERE id = ?", [id]).map(Self.referral)
    }

    func referral(partnerID: String, referenceKey: [UInt8]) throws -> ReferralRecord? {
        try main.first("SELECT \(Self.referralColumns) FROM referrals WHERE partner_id = ? AND reference_key = ?", [partnerID, referenceKey])
            .map(Self.referral)
    }

    func referrals(subjectID: String) throws -> [ReferralRecord] {
        try main.query("SELECT \(Self.referralColumns) FROM referrals WHERE subject_id = ? ORDER BY received_at", [subjectID]).map(Self.referral)
    }

    private static func referral(_ found: SQLiteRow) throws -> ReferralRecord {
        let row = StrictRow(found, table: "referrals", columnList: referralColumns)
        return ReferralRecord(
            id: try row.text(0), partnerID: try row.text(1), referenceKey: try row.blob(2), subjectID: try row.text(3),
            schemaID: try row.text(4), bodyDigest: try row.blob(5), sealedBody: try row.optionalBlob(6),
            receivedAt: try row.timestamp(7), receipt: try row.blob(8)
        )
    }

    // MARK: Consents

    private static let consentColumns = """
        id, subject_id, referral_id, partner_id, purposes, recipients, method, obtained_at, expires_at, withdrawn_at, sealed_details, \
        recorded_at, document_digest, receipt, withdrawal_receipt
        """

    func insertConsent(_ consent: ConsentRecord) throws {
        try main.query(
            "INSERT INTO consents (\(Self.consentColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [consent.id, consent.subjectID, consent.referralID, consent.partnerID, encode(consent.purposes),
             consent.recipients.map(encode), consent.method, consent.obtainedAt.milliseconds, consent.expiresAt?.milliseconds,
             consent.withdrawnAt?.milliseconds, consent.sealedDetails, consent.recordedAt.milliseconds, consent.documentDigest,
             consent.receipt, consent.withdrawalReceipt]
        )
    }

    func consent(referralID: String, documentDigest: [UInt8]) throws -> ConsentRecord? {
        try main.first(
            "SELECT \(Self.consentColumns) FROM consents WHERE referral_id = ? AND document_digest = ? ORDER BY recorded_at LIMIT 1",
            [referralID, documentDigest]
        ).map(Self.consent)
    }

    func setConsentReceipt(id: String, _ receipt: [UInt8]) throws {
        try main.query("UPDATE consents SET receipt = ? WHERE id = ?", [receipt, id])
    }

    func setConsentWithdrawalReceipt(id: String, _ receipt: [UInt8]) throws {
        try main.query("UPDATE consents SET withdrawal_receipt = ? WHERE id = ?", [receipt, id])
    }

    // MARK: Free text

    func insertFreeText(digest: String, subjectID: String, sealed: [UInt8]) throws {
        try main.query(
            "INSERT OR IGNORE INTO free_texts (digest, subject_id, sealed, created_at) VALUES (?, ?, ?, ?)",
            [digest, subjectID, sealed, now.milliseconds]
        )
    }

    func freeText(digest: String) throws -> (subjectID: String, sealed: [UInt8])? {
        guard let found = try main.first("SELECT subject_id, sealed FROM free_texts WHERE digest = ?", [digest]) else { return nil }
        let row = StrictRow(found, table: "free_texts", columns: ["subject_id", "sealed"])
        return (try row.text(0), try row.blob(1))
    }

    // MARK: Acknowledgements

    func recordAcknowledgement(itemID: String, recipientID: String, at time: Timestamp) throws {
        try main.query(
            "INSERT OR IGNORE INTO acknowledgements (item_id, recipient_id, acknowledged_at) VALUES (?, ?, ?)",
            [itemID, recipientID, time.milliseconds]
        )
    }

    func acknowledgement(itemID: String) throws -> (recipientID: String, at: Timestamp)? {
        guard let found = try main.first("SELECT recipient_id, acknowledged_at FROM acknowledgements WHERE item_id = ?", [itemID]) else {
            return nil
        }
        let row = StrictRow(found, table: "acknowledgements", columns: ["recipient_id", "acknowledged_at"])
        return (try row.text(0), try row.timestamp(1))
    }

    func consent(id: String) throws -> ConsentRecord? {
        try main.first("SELECT \(Self.consentColumns) FROM consents WHERE id = ?", [id]).map(Self.consent)
    }

    func consents(subjectID: String) throws -> [ConsentRecord] {
        try main.query("SELECT \(Self.consentColumns) FROM consents WHERE subject_id = ? ORDER BY recorded_at", [subjectID]).map(Self.consent)
    }

    func markConsentWithdrawn(id: String, at time: Timestamp) throws {
        try main.query("UPDATE consents SET withdrawn_at = ? WHERE id = ? AND withdrawn_at IS NULL", [time.milliseconds, id])
    }

    private static func consent(_ found: SQLiteRow) throws -> ConsentRecord {
        let row = StrictRow(found, table: "consents", columnList: consentColumns)
        return ConsentRecord(
            id: try row.text(0), subjectID: try row.text(1), referralID: try row.text(2), partnerID: try row.text(3),
            purposes: try row.stringList(4), recipients: try row.optionalStringList(5), method: try row.text(6),
            obtainedAt: try row.timestamp(7), expiresAt: try row.optionalTimestamp(8), withdrawnAt: try row.optionalTimestamp(9),
            sealedDetails: try row.optionalBlob(10), recordedAt: try row.timestamp(11), documentDigest: try row.optionalBlob(12),
            receipt: try row.optionalBlob(13), withdrawalReceipt: try row.optionalBlob(14)
        )
    }

    // MARK: Disclosures

    // `justification` (plain text, written by older refex only) is read, never written.
    private static let disclosureColumns = """
        id, referral_id, subject_id, recipient_id, service, state, lawful_basis, consent_id, justification_digest, actor, pointers, \
        categories, reason, created_at, updated_at, justification
        """
    private static let writtenDisclosureColumns = """
        id, referral_id, subject_id, recipient_id, service, state, lawful_basis, consent_id, justification_digest, actor, pointers, \
        categories, reason, created_at, updated_at
        """

    func insertDisclosure(_ disclosure: DisclosureRecord) throws {
        try main.query(
            "INSERT INTO disclosures (\(Self.writtenDisclosureColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            Self.values(disclosure)
        )
    }

    func updateDisclosure(_ disclosure: DisclosureRecord) throws {
        var values = Self.values(disclosure)
        values.append(values.removeFirst())
        try main.query(
            """
            UPDATE disclosures SET referral_id = ?, subject_id = ?, recipient_id = ?, service = ?, state = ?, lawful_basis = ?,
            consent_id = ?, justification_digest = ?, actor = ?, pointers = ?, categories = ?, reason = ?, created_at = ?, updated_at = ?
            WHERE id = ?
            """,
            values
        )
    }

    func disclosure(id: String) throws -> DisclosureRecord? {
        try main.first("SELECT \(Self.disclosureColumns) FROM disclosures WHERE id = ?", [id]).map(Self.disclosure)
    }

    func disclosures(referralID: String) throws -> [DisclosureRecord] {
        try main.query("SELECT \(Self.disclosureColumns) FROM disclosures WHERE referral_id = ? ORDER BY created_at, rowid", [referralID])
            .map(Self.disclosure)
    }

    func disclosures(subjectID: String) throws -> [DisclosureRecord] {
        try main.query("SELECT \(Self.disclosureColumns) FROM disclosures WHERE subject_id = ? ORDER BY created_at, rowid", [subjectID])
            .map(Self.disclosure)
    }

    func disclosuresWithPlainJustification(limit: Int) throws -> [DisclosureRecord] {
        try main.query("SELECT \(Self.disclosureColumns) FROM disclosures WHERE justification IS NOT NULL LIMIT ?", [limit]).map(Self.disclosure)
    }

    func clearPlainJustification(disclosureID: String) throws {
        try main.query("UPDATE disclosures SET justification = NULL WHERE id = ?", [disclosureID])
    }

    private static func values(_ disclosure: DisclosureRecord) -> [any SQLiteBindable] {
        [disclosure.id, disclosure.referralID, disclosure.subjectID, disclosure.recipientID, disclosure.service,
         disclosure.state.rawValue, disclosure.lawfulBasis?.rawValue, disclosure.consentID, disclosure.justificationDigest,
         disclosure.actor, encode(disclosure.pointers), encode(disclosure.categories), disclosure.reason,
         disclosure.createdAt.milliseconds, disclosure.updatedAt.milliseconds]
    }

    private static func disclosure(_ found: SQLiteRow) throws -> DisclosureRecord {
        let row = StrictRow(found, table: "disclosures", columnList: disclosureColumns)
        return DisclosureRecord(
            id: try row.text(0), referralID: try row.text(1), subjectID: try row.text(2), recipientID: try row.optionalText(3),
            service: try row.text(4), state: try row.value(5, as: DisclosureState.self),
            lawfulBasis: try row.optionalValue(6, as: LawfulBasis.self), consentID: try row.optionalText(7),
            justificationDigest: try row.optionalText(8), actor: try row.text(9), pointers: try row.stringList(10),
            categories: try row.stringList(11), reason: try row.optionalText(12), createdAt: try row.timestamp(13),
            updatedAt: try row.timestamp(14), legacyJustification: try row.optionalText(15)
        )
    }

    // MARK: Outbox

    private static let outboxColumns =
        "id, kind, disclosure_id, recipient_id, mode, payload, state, enqueued_at, next_attempt_at, attempts, last_error"

    func enqueue(_ item: OutboxItem) throws {
        try main.query(
            "INSERT OR REPLACE INTO outbox (\(Self.outboxColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [item.id, item.kind.rawValue, item.disclosureID, item.recipientID, item.mode.rawValue, item.payload, item.state.rawValue,
             item.enqueuedAt.milliseconds, item.nextAttemptAt.milliseconds, item.attempts, item.lastError]
        )
    }

    func dequeue(id: String) throws {
        try main.query("DELETE FROM outbox WHERE id = ?", [id])
    }

    func updateOutbox(_ item: OutboxItem) throws {
        try main.query(
            "UPDATE outbox SET state = ?, next_attempt_at = ?, attempts = ?, last_error = ?, enqueued_at = ? WHERE id = ?",
            [item.state.rawValue, item.nextAttemptAt.milliseconds, item.attempts, item.lastError, item.enqueuedAt.milliseconds, item.id]
        )
    }

    func outboxItem(id: String) throws -> OutboxItem? {
        try main.first("SELECT \(Self.outboxColumns) FROM outbox WHERE id = ?", [id]).map(Self.outboxItem)
    }

    func dueOutbox(recipientID: String, now: Timestamp, limit: Int) throws -> [OutboxItem] {
        try main.query(
            """
            SELECT \(Self.outboxColumns) FROM outbox
            WHERE recipient_id = ?1 AND state = 'pending' AND mode = 'push' AND next_attempt_at <= ?2
              AND (lease_until IS NULL OR lease_until <= ?2)
            ORDER BY next_attempt_at, id LIMIT ?3
            """,
            [recipientID, now.milliseconds, limit]
        ).map(Self.outboxItem)
    }

    func claimDueOutbox(recipientID: String, now: Timestamp, leaseUntil: Timestamp, claimant: String, limit: Int) throws -> [OutboxItem] {
        guard limit > 0 else { return [] }
        // The writer runs one transaction at a time: nothing can claim between the read and the update.
        var items = try dueOutbox(recipientID: recipientID, now: now, limit: limit)
        for index in items.indices {
            try main.query("UPDATE outbox SET lease_holder = ?, lease_until = ? WHERE id = ?", [claimant, leaseUntil.milliseconds, items[index].id])
            items[index].claim = OutboxClaim(claimant: claimant, until: leaseUntil)
        }
        return items
    }

    func releaseOutboxClaim(id: String, claim: OutboxClaim) throws {
        try main.query(
            "UPDATE outbox SET lease_holder = NULL, lease_until = NULL WHERE id = ? AND lease_holder = ? AND lease_until = ?",
            [id, claim.claimant, claim.until.milliseconds]
        )
    }

    func mailbox(recipientIDs: [String], afterID: String?, limit: Int) throws -> [OutboxItem] {
        guard !recipientIDs.isEmpty else { return [] }
        let placeholders = Array(repeating: "?", count: recipientIDs.count).joined(separator: ", ")
        var values: [any SQLiteBindable] = recipientIDs
        var cursor = ""
        if let afterID, let after = try outboxItem(id: afterID) {
            cursor = "AND (enqueued_at, id) > (?, ?)"
            values += [after.enqueuedAt.milliseconds, after.id]
        }
        values.append(limit)
        return try main.query(
            """
            SELECT \(Self.outboxColumns) FROM outbox
            WHERE state = 'pending' AND mode = 'pull' AND recipient_id IN (\(placeholders)) \(cursor)
            ORDER BY enqueued_at, id LIMIT ?
            """,
            values
        ).map(Self.outboxItem)
    }

    func outboxItems(state: OutboxItem.State?, limit: Int) throws -> [OutboxItem] {
        if let state {
            return try main.query("SELECT \(Self.outboxColumns) FROM outbox WHERE state = ? ORDER BY enqueued_at, id LIMIT ?", [state.rawValue, limit])
                .map(Self.outboxItem)
        }
        return try main.query("SELECT \(Self.outboxColumns) FROM outbox ORDER BY enqueued_at, id LIMIT ?", [limit]).map(Self.outboxItem)
    }

    /// Read from `store_counts` (kept by triggers in each change's commit): a few rows, whatever
    /// the size of the store.
    func statistics() throws -> StoreStatistics {
        try StoreCounts.statistics(main.query(StoreCounts.selection).map {
            StrictRow($0, table: "store_counts", columns: ["name", "total"])
        })
    }

    func outboxDepths() throws -> [OutboxDepth] {
        try main.query(
            """
            SELECT recipient_id, sum(state = 'pending'), sum(state = 'failed'), min(CASE WHEN state = 'pending' THEN enqueued_at END)
            FROM outbox GROUP BY recipient_id ORDER BY recipient_id
            """
        ).map { found in
            let row = StrictRow(found, table: "outbox", columns: ["recipient_id", "sum(state = 'pending')", "sum(state = 'failed')", "min(enqueued_at)"])
            return OutboxDepth(
                recipientID: try row.text(0), pending: try row.count(1), failed: try row.count(2), oldestPending: try row.optionalTimestamp(3)
            )
        }
    }

    private static func outboxItem(_ found: SQLiteRow) throws -> OutboxItem {
        let row = StrictRow(found, table: "outbox", columnList: outboxColumns)
        return OutboxItem(
            id: try row.text(0), kind: try row.value(1, as: OutboxItem.Kind.self), disclosureID: try row.text(2),
            recipientID: try row.text(3), mode: try row.value(4, as: OutboxItem.Mode.self), payload: try row.optionalBlob(5),
            state: try row.value(6, as: OutboxItem.State.self), enqueuedAt: try row.timestamp(7), nextAttemptAt: try row.timestamp(8),
            attempts: try row.count(9), lastError: try row.optionalText(10)
        )
    }

    // MARK: Log

    func appendLog(_ draft: LogEntryDraft) throws -> LogEntry {
        if let redirectedLog { return try redirectedLog(draft, now) }
        return try append(LogEntry(sealing: draft, seq: chain.lastSeq + 1, time: now, prevHash: chain.lastHash))
    }

    func appendLog(_ prepared: PreparedLogEntryDraft) throws -> LogEntry {
        if let redirectedLog { return try redirectedLog(prepared.draft, now) }
        return try append(LogEntry(sealing: prepared, seq: chain.lastSeq + 1, time: now, prevHash: chain.lastHash))
    }

    /// Inserts a sealed entry at the head of the chain.
    private func append(_ entry: LogEntry) throws -> LogEntry {
        let draft = entry.draft
        try main.query(
            """
            INSERT INTO log_entries (seq, time, event, actor, referral_id, subject_id, disclosure_id, recipient_id, lawful_basis, entry, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [entry.seq, entry.time.milliseconds, draft.event.rawValue, draft.actor, draft.referralID, draft.subjectID,
             draft.disclosureID, draft.recipientID, draft.lawfulBasis?.rawValue, entry.canonical, entry.hash]
        )
        chain.lastSeq = entry.seq
        chain.lastHash = entry.hash
        return entry
    }

    // MARK: Checkpoints and reading the log

    func insertCheckpoint(_ checkpoint: Checkpoint) throws {
        try main.query(
            "INSERT OR REPLACE INTO checkpoints (seq, hash, time, signature, key_id) VALUES (?, ?, ?, ?, ?)",
            [checkpoint.seq, checkpoint.hash, checkpoint.time.milliseconds, checkpoint.signature, checkpoint.keyID]
        )
    }

    func checkpoints() throws -> [Checkpoint] {
        try main.query("SELECT seq, hash, time, signature, key_id FROM checkpoints ORDER BY seq").map(Self.checkpoint)
    }

    func latestCheckpoint() throws -> Checkpoint? {
        try main.first("SELECT seq, hash, time, signature, key_id FROM checkpoints ORDER BY seq DESC LIMIT 1").map(Self.checkpoint)
    }

    private static func checkpoint(_ found: SQLiteRow) throws -> Checkpoint {
        let row = StrictRow(found, table: "checkpoints", columns: ["seq", "hash", "time", "signature", "key_id"])
        return Checkpoint(seq: try row.integer(0), hash: try row.text(1), time: try row.timestamp(2), signature: try row.blob(3), keyID: try row.text(4))
    }

    private static let storedLogColumns = ["seq", "event", "actor", "entry", "hash", "time", "referral_id", "subject_id", "disclosure_id", "recipient_id", "lawful_basis"]

    func forEachLogEntry(from seq: Int64, _ body: (StoredLogEntry) throws -> Bool) throws {
        try main.iterate(
            """
            SELECT seq, event, actor, entry, hash, time, referral_id, subject_id, disclosure_id, recipient_id, lawful_basis
            FROM log_entries WHERE seq >= ? ORDER BY seq
            """,
            [seq]
        ) { found in
            let row = StrictRow(found, table: "log_entries", columns: Self.storedLogColumns)
            return try body(StoredLogEntry(
                seq: try row.integer(0), event: try row.text(1), actor: try row.text(2), canonical: try row.blob(3), hash: try row.text(4),
                indexed: StoredLogEntry.IndexedColumns(
                    timeMilliseconds: try row.integer(5), referralID: try row.optionalText(6), subjectID: try row.optionalText(7),
                    disclosureID: try row.optionalText(8), recipientID: try row.optionalText(9), lawfulBasis: try row.optionalText(10)
                )
            ))
        }
    }

    func logEntries(_ filter: LogFilter, limit: Int) throws -> [LogEntry] {
        var conditions: [String] = []
        var values: [any SQLiteBindable] = []
        func add(_ condition: String, _ value: (any SQLiteBindable)?) {
            guard let value else { return }
            conditions.append(condition)
            values.append(value)
        }
        add("subject_id = ?", filter.subjectID)
        add("referral_id = ?", filter.referralID)
        add("recipient_id = ?", filter.recipientID)
        add("event = ?", filter.event)
        add("lawful_basis = ?", filter.lawfulBasis)
        add("actor = ?", filter.actor)
        add("disclosure_id = ?", filter.disclosureID)
        add("time >= ?", filter.since?.milliseconds)
        add("time < ?", filter.until?.milliseconds)
        add("seq > ?", filter.afterSeq)
        add("seq < ?", filter.beforeSeq)
        if !filter.excludedEvents.isEmpty {
            conditions.append("event NOT IN (\(filter.excludedEvents.map { _ in "?" }.joined(separator: ", ")))")
            values.append(contentsOf: filter.excludedEvents.map { $0 as any SQLiteBindable })
        }
        values.append(limit)
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let order = filter.newestFirst ? "DESC" : ""
        // A time bound with nothing else to search by: without statistics SQLite rates one bound
        // as a quarter of the log and walks the primary key from one end to spare the sort,
        // reading every entry outside the range. The time index reads the range only. (`time`
        // is the writer's wall clock, which nothing keeps in seq order, so the range cannot be
        // turned into a seq range.) A page's cursor is a range of the primary key already.
        let searchedByValue = [filter.subjectID, filter.referralID, filter.recipientID, filter.event, filter.lawfulBasis, filter.actor,
                               filter.disclosureID].contains { $0 != nil }
        let byTime = (filter.since != nil || filter.until != nil) && !searchedByValue && filter.afterSeq == nil && filter.beforeSeq == nil
        let source = byTime ? "log_entries INDEXED BY log_time" : "log_entries"
        return try main.query("SELECT seq, entry, hash FROM \(source) \(whereClause) ORDER BY seq \(order) LIMIT ?", values).map(Self.logEntry)
    }

    func logEventCounts(since: Timestamp, until: Timestamp, afterSeq: Int64?, events: [String], utcOffsetMilliseconds: Int64) throws -> [LogEventCount] {
        guard !events.isEmpty else { return [] }
        var values: [any SQLiteBindable] = [utcOffsetMilliseconds, since.milliseconds, until.milliseconds]
        values.append(contentsOf: events.map { $0 as any SQLiteBindable })
        // After a seq: the few entries appended since, by the primary key (NOT INDEXED keeps the
        // planner off the time index, which would read the whole range); else the time index
        // (`+event`: without it SQLite reads every entry of those events, of all time, through log_event).
        var source = "log_entries"
        var seqCondition = ""
        if let afterSeq {
            source = "log_entries NOT INDEXED"
            seqCondition = " AND seq > ?"
            values.append(afterSeq)
        }
        let sql = """
            SELECT (time + ?) / 86400000, event, recipient_id, lawful_basis, count(*) FROM \(source)
            WHERE time >= ? AND time < ? AND +event IN (\(events.map { _ in "?" }.joined(separator: ", ")))\(seqCondition)
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            """
        return try main.query(sql, values).map { found in
            let row = StrictRow(found, table: "log_entries", columns: ["day", "event", "recipient_id", "lawful_basis", "count(*)"])
            return LogEventCount(
                day: try row.integer(0), event: try row.text(1), recipientID: try row.optionalText(2), lawfulBasis: try row.optionalText(3),
                count: try row.count(4)
            )
        }
    }

    func logEntry(seq: Int64) throws -> LogEntry? {
        try main.first("SELECT seq, entry, hash FROM log_entries WHERE seq = ?", [seq]).map(Self.logEntry)
    }

    private static func logEntry(_ found: SQLiteRow) throws -> LogEntry {
        let row = StrictRow(found, table: "log_entries", columns: ["seq", "entry", "hash"])
        let seq = try row.integer(0)
        guard let entry = LogEntry(canonical: try row.blob(1), hash: try row.text(2)) else {
            throw row.malformed(1, "of entry \(seq) does not hold a log entry refex can read")
        }
        return entry
    }

    func logBounds() throws -> (first: Int64, last: Int64, lastHash: String)? {
        // Two subqueries: each is one step down the primary key, where `min(seq), max(seq)` in
        // one SELECT is a scan of the whole log in SQLite.
        guard let found = try main.first("SELECT (SELECT min(seq) FROM log_entries), (SELECT max(seq) FROM log_entries)") else { return nil }
        let bounds = StrictRow(found, table: "log_entries", columns: ["min(seq)", "max(seq)"])
        guard let first = try bounds.optionalInteger(0), let last = try bounds.optionalInteger(1) else { return nil }
        guard let head = try main.first("SELECT hash FROM log_entries WHERE seq = ?", [last]) else { return nil }
        return (first, last, try StrictRow(head, table: "log_entries", columns: ["hash"]).text(0))
    }

    // MARK: Retention

    func subjectsLastReferred(before cutoff: Timestamp, limit: Int) throws -> [String] {
        try main.query(
            """
            SELECT subjects.id FROM subjects JOIN referrals ON referrals.subject_id = subjects.id
            WHERE subjects.erased_at IS NULL GROUP BY subjects.id HAVING max(referrals.received_at) < ? LIMIT ?
            """,
            [cutoff.milliseconds, limit]
        ).map { try StrictRow($0, table: "subjects", columns: ["id"]).text(0) }
    }

    func earliestLastReferral() throws -> Timestamp? {
        try main.first(
            """
            SELECT min(last) FROM (SELECT max(referrals.received_at) AS last FROM subjects
            JOIN referrals ON referrals.subject_id = subjects.id WHERE subjects.erased_at IS NULL GROUP BY subjects.id)
            """
        ).flatMap { try StrictRow($0, table: "referrals", columns: ["received_at"]).optionalTimestamp(0) }
    }

    func eraseConsentDetails(endedBefore cutoff: Timestamp) throws -> Int {
        try main.query(
            """
            UPDATE consents SET sealed_details = NULL
            WHERE sealed_details IS NOT NULL AND coalesce(withdrawn_at, expires_at, recorded_at) < ?
            """,
            [cutoff.milliseconds]
        )
        return main.changes
    }

    func earliestConsentDetails() throws -> Timestamp? {
        try main.first("SELECT min(coalesce(withdrawn_at, expires_at, recorded_at)) FROM consents WHERE sealed_details IS NOT NULL")
            .flatMap { try StrictRow($0, table: "consents", columns: ["withdrawn_at, expires_at or recorded_at"]).optionalTimestamp(0) }
    }

    func logCompletenessProblems(prunedUpTo: Timestamp?, limit: Int) throws -> [String] {
        try LogCompleteness.problems(main, prunedUpTo: prunedUpTo?.milliseconds, limit: limit)
    }

    func logAnchor() throws -> (seq: Int64, hash: String)? {
        guard let found = try main.first("SELECT seq, hash FROM log_anchor WHERE id = 1") else { return nil }
        let row = StrictRow(found, table: "log_anchor", columns: ["seq", "hash"])
        return (try row.integer(0), try row.text(1))
    }

    func pruneLog(through seq: Int64, hash: String) throws {
        try main.query("DELETE FROM log_entries WHERE seq <= ?", [seq])
        try main.query("INSERT OR REPLACE INTO log_anchor (id, seq, hash) VALUES (1, ?, ?)", [seq, hash])
    }

    func earliestLogTime() throws -> Timestamp? {
        try main.first("SELECT time FROM log_entries ORDER BY seq LIMIT 1").map { try StrictRow($0, table: "log_entries", columns: ["time"]).timestamp(0) }
    }

    /// A `count(*)` query's answer.
    static func count(_ connection: SQLiteConnection, _ sql: String, _ values: [any SQLiteBindable] = [], table: String) throws -> Int {
        guard let row = try connection.first(sql, values) else { return 0 }
        return try StrictRow(row, table: table, columns: ["count(*)"]).count(0)
    }

    // MARK: Erasure

    func eraseSubject(id: String, at time: Timestamp) throws {
        try writingKeys()
        try keys.query("DELETE FROM subject_keys WHERE subject_id = ?", [id])
        try keys.query("DELETE FROM subject_index WHERE subject_id = ?", [id])
        try main.query("UPDATE referrals SET sealed_body = NULL WHERE subject_id = ?", [id])
        try main.query("UPDATE consents SET sealed_details = NULL WHERE subject_id = ?", [id])
        try main.query("DELETE FROM free_texts WHERE subject_id = ?", [id])
        try main.query("UPDATE disclosures SET justification = NULL WHERE subject_id = ? AND justification IS NOT NULL", [id])
        try main.query("UPDATE subjects SET erased_at = COALESCE(erased_at, ?) WHERE id = ?", [time.milliseconds, id])
    }
}

/// The head of the log's hash chain, kept by the writer between transactions.
final class LogChain {
    var lastSeq: Int64
    var lastHash: String

    init(lastSeq: Int64, lastHash: String) {
        self.lastSeq = lastSeq
        self.lastHash = lastHash
    }
}

private func encode(_ strings: [String]) -> String {
    JSONValue.array(strings.map { .string($0) }).serializedString()
}
