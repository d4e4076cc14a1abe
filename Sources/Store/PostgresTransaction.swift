import Exchange
import Foundation
import JSON
import Postgres

/// The exchange's operations as SQL on PostgreSQL, inside the writer's open transactions (one on
/// the data database, one on the keys database) or a reader's read-only snapshot.
final class PostgresTransaction: StoreTransaction {
    let now: Timestamp
    let main: PostgresConnection
    let keys: PostgresConnection
    private let chain: PostgresLogChain
    /// Set when a subject was erased: the writer vacuums the key tables after the commit.
    private(set) var erased = false

    init(now: Timestamp, main: PostgresConnection, keys: PostgresConnection, chain: PostgresLogChain) {
        self.now = now
        self.main = main
        self.keys = keys
        self.chain = chain
    }

    // MARK: Subjects

    func insertSubject(_ subject: SubjectRecord, key: WrappedSubjectKey) throws {
        try keys.query("INSERT INTO subject_keys (subject_id, wrapped, created_at) VALUES ($1, $2, $3)", [key.subjectID, key.wrapped, now.milliseconds])
        try main.query(
            "INSERT INTO subjects (id, created_at, restricted, erased_at) VALUES ($1, $2, $3, $4)",
            [subject.id, subject.createdAt.milliseconds, subject.restricted ? 1 : 0, subject.erasedAt?.milliseconds]
        )
    }

    func subject(id: String) throws -> SubjectRecord? {
        let columns = "id, created_at, restricted, erased_at, withdrawal_receipt"
        guard let found = try main.first("SELECT \(columns) FROM subjects WHERE id = $1", [id]) else { return nil }
        let row = StrictRow(found, table: "subjects", columnList: columns)
        return SubjectRecord(
            id: try row.text(0), createdAt: try row.timestamp(1), restricted: try row.flag(2), erasedAt: try row.optionalTimestamp(3),
            withdrawalReceipt: try row.optionalBlob(4)
        )
    }

    func setSubjectWithdrawalReceipt(subjectID: String, _ receipt: [UInt8]) throws {
        try main.query("UPDATE subjects SET withdrawal_receipt = $1 WHERE id = $2", [receipt, subjectID])
    }

    func subjectKey(subjectID: String) throws -> WrappedSubjectKey? {
        guard let row = try keys.first("SELECT wrapped FROM subject_keys WHERE subject_id = $1", [subjectID]) else { return nil }
        return WrappedSubjectKey(subjectID: subjectID, wrapped: try StrictRow(row, table: "subject_keys", columns: ["wrapped"]).blob(0))
    }

    func setRestricted(subjectID: String, _ restricted: Bool) throws {
        try main.query("UPDATE subjects SET restricted = $1 WHERE id = $2", [restricted ? 1 : 0, subjectID])
    }

    // MARK: Referrals

    private static let referralColumns = "id, partner_id, reference_key, subject_id, schema_id, body_digest, sealed_body, received_at, receipt"

    func insertReferral(_ referral: ReferralRecord) throws {
        try lockCountsBehindLogHead()
        try main.query(
            "INSERT INTO referrals (\(Self.referralColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            [referral.id, referral.partnerID, referral.referenceKey, referral.subjectID, referral.schemaID,
             referral.bodyDigest, referral.sealedBody, referral.receivedAt.milliseconds, referral.receipt]
        )
    }

    func replaceSealedBody(referralID: String, _ sealed: [UInt8]) throws {
        try main.query("UPDATE referrals SET sealed_body = $1 WHERE id = $2 AND sealed_body IS NOT NULL", [sealed, referralID])
    }

    func setReceipt(referralID: String, _ receipt: [UInt8]) throws {
        try main.query("UPDATE referrals SET receipt = $1 WHERE id = $2", [receipt, referralID])
    }

    func referral(id: String) throws -> ReferralRecord? {
        try main.first("SELECT \(Self.referralColumns) FROM referrals WHERE id = $1", [id]).map(Self.referral)
    }

    func referral(partnerID: String, referenceKey: [UInt8]) throws -> ReferralRecord? {
        try main.first("SELECT \(Self.referralColumns) FROM referrals WHERE partner_id = $1 AND reference_key = $2", [partnerID, referenceKey])
            .map(Self.referral)
    }

    func referrals(subjectID: String) throws -> [ReferralRecord] {
        try main.query("SELECT \(Self.referralColumns) FROM referrals WHERE subject_id = $1 ORDER BY received_at, id", [subjectID]).map(Self.referral)
    }

    private static func referral(_ found: PostgresRow) throws -> ReferralRecord {
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
            "INSERT INTO consents (\(Self.consentColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            [consent.id, consent.subjectID, consent.referralID, consent.partnerID, encode(consent.purposes),
             consent.recipients.map(encode), consent.method, consent.obtainedAt.milliseconds, consent.expiresAt?.milliseconds,
             consent.withdrawnAt?.milliseconds, consent.sealedDetails, consent.recordedAt.milliseconds, consent.documentDigest,
             consent.receipt, consent.withdrawalReceipt]
        )
    }

    func consent(referralID: String, documentDigest: [UInt8]) throws -> ConsentRecord? {
        try main.first(
            "SELECT \(Self.consentColumns) FROM consents WHERE referral_id = $1 AND document_digest = $2 ORDER BY recorded_at, id LIMIT 1",
            [referralID, documentDigest]
        ).map(Self.consent)
    }

    func setConsentReceipt(id: String, _ receipt: [UInt8]) throws {
        try main.query("UPDATE consents SET receipt = $1 WHERE id = $2", [receipt, id])
    }

    func setConsentWithdrawalReceipt(id: String, _ receipt: [UInt8]) throws {
        try main.query("UPDATE consents SET withdrawal_receipt = $1 WHERE id = $2", [receipt, id])
    }

    func consent(id: String) throws -> ConsentRecord? {
        try main.first("SELECT \(Self.consentColumns) FROM consents WHERE id = $1", [id]).map(Self.consent)
    }

    func consents(subjectID: String) throws -> [ConsentRecord] {
        try main.query("SELECT \(Self.consentColumns) FROM consents WHERE subject_id = $1 ORDER BY recorded_at, id", [subjectID]).map(Self.consent)
    }

    func markConsentWithdrawn(id: String, at time: Timestamp) throws {
        try main.query("UPDATE consents SET withdrawn_at = $1 WHERE id = $2 AND withdrawn_at IS NULL", [time.milliseconds, id])
    }

    private static func consent(_ found: PostgresRow) throws -> ConsentRecord {
        let row = StrictRow(found, table: "consents", columnList: consentColumns)
        return ConsentRecord(
            id: try row.text(0), subjectID: try row.text(1), referralID: try row.text(2), partnerID: try row.text(3),
            purposes: try row.stringList(4), recipients: try row.optionalStringList(5), method: try row.text(6),
            obtainedAt: try row.timestamp(7), expiresAt: try row.optionalTimestamp(8), withdrawnAt: try row.optionalTimestamp(9),
            sealedDetails: try row.optionalBlob(10), recordedAt: try row.timestamp(11), documentDigest: try row.optionalBlob(12),
            receipt: try row.optionalBlob(13), withdrawalReceipt: try row.optionalBlob(14)
        )
    }

    // MARK: Free text and acknowledgements

    func insertFreeText(digest: String, subjectID: String, sealed: [UInt8]) throws {
        try main.query(
            "INSERT INTO free_texts (digest, subject_id, sealed, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING",
            [digest, subjectID, sealed, now.milliseconds]
        )
    }

    func freeText(digest: String) throws -> (subjectID: String, sealed: [UInt8])? {
        guard let found = try main.first("SELECT subject_id, sealed FROM free_texts WHERE digest = $1", [digest]) else { return nil }
        let row = StrictRow(found, table: "free_texts", columns: ["subject_id", "sealed"])
        return (try row.text(0), try row.blob(1))
    }

    func recordAcknowledgement(itemID: String, recipientID: String, at time: Timestamp) throws {
        try main.query(
            "INSERT INTO acknowledgements (item_id, recipient_id, acknowledged_at) VALUES ($1, $2, $3) ON CONFLICT (item_id) DO NOTHING",
            [itemID, recipientID, time.milliseconds]
        )
    }

    func acknowledgement(itemID: String) throws -> (recipientID: String, at: Timestamp)? {
        guard let found = try main.first("SELECT recipient_id, acknowledged_at FROM acknowledgements WHERE item_id = $1", [itemID]) else {
            return nil
        }
        let row = StrictRow(found, table: "acknowledgements", columns: ["recipient_id", "acknowledged_at"])
        return (try row.text(0), try row.timestamp(1))
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
        try lockCountsBehindLogHead()
        try main.query(
            "INSERT INTO disclosures (\(Self.writtenDisclosureColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            Self.values(disclosure)
        )
    }

    func updateDisclosure(_ disclosure: DisclosureRecord) throws {
        try lockCountsBehindLogHead()
        try main.query(
            """
            UPDATE disclosures SET referral_id = $2, subject_id = $3, recipient_id = $4, service = $5, state = $6, lawful_basis = $7,
            consent_id = $8, justification_digest = $9, actor = $10, pointers = $11, categories = $12, reason = $13, created_at = $14,
            updated_at = $15 WHERE id = $1
            """,
            Self.values(disclosure)
        )
    }

    func disclosure(id: String) throws -> DisclosureRecord? {
        try main.first("SELECT \(Self.disclosureColumns) FROM disclosures WHERE id = $1", [id]).map(Self.disclosure)
    }

    func disclosures(referralID: String) throws -> [DisclosureRecord] {
        try main.query("SELECT \(Self.disclosureColumns) FROM disclosures WHERE referral_id = $1 ORDER BY created_at, row_order", [referralID])
            .map(Self.disclosure)
    }

    func disclosures(subjectID: String) throws -> [DisclosureRecord] {
        try main.query("SELECT \(Self.disclosureColumns) FROM disclosures WHERE subject_id = $1 ORDER BY created_at, row_order", [subjectID])
            .map(Self.disclosure)
    }

    func disclosuresWithPlainJustification(limit: Int) throws -> [DisclosureRecord] {
        try main.query("SELECT \(Self.disclosureColumns) FROM disclosures WHERE justification IS NOT NULL ORDER BY row_order LIMIT $1", [limit])
            .map(Self.disclosure)
    }

    func clearPlainJustification(disclosureID: String) throws {
        try main.query("UPDATE disclosures SET justification = NULL WHERE id = $1", [disclosureID])
    }

    private static func values(_ disclosure: DisclosureRecord) -> [any PostgresBindable] {
        [disclosure.id, disclosure.referralID, disclosure.subjectID, disclosure.recipientID, disclosure.service,
         disclosure.state.rawValue, disclosure.lawfulBasis?.rawValue, disclosure.consentID, disclosure.justificationDigest,
         disclosure.actor, encode(disclosure.pointers), encode(disclosure.categories), disclosure.reason,
         disclosure.createdAt.milliseconds, disclosure.updatedAt.milliseconds]
    }

    private static func disclosure(_ found: PostgresRow) throws -> DisclosureRecord {
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
        // As SQLite's INSERT OR REPLACE: a replaced item starts unclaimed.
        try main.query(
            """
            INSERT INTO outbox (\(Self.outboxColumns), lease_holder, lease_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL)
            ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, disclosure_id = EXCLUDED.disclosure_id, recipient_id = EXCLUDED.recipient_id,
            mode = EXCLUDED.mode, payload = EXCLUDED.payload, state = EXCLUDED.state, enqueued_at = EXCLUDED.enqueued_at,
            next_attempt_at = EXCLUDED.next_attempt_at, attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error,
            lease_holder = NULL, lease_until = NULL
            """,
            [item.id, item.kind.rawValue, item.disclosureID, item.recipientID, item.mode.rawValue, item.payload, item.state.rawValue,
             item.enqueuedAt.milliseconds, item.nextAttemptAt.milliseconds, item.attempts, item.lastError]
        )
    }

    func dequeue(id: String) throws {
        try main.query("DELETE FROM outbox WHERE id = $1", [id])
    }

    func updateOutbox(_ item: OutboxItem) throws {
        try main.query(
            "UPDATE outbox SET state = $1, next_attempt_at = $2, attempts = $3, last_error = $4, enqueued_at = $5 WHERE id = $6",
            [item.state.rawValue, item.nextAttemptAt.milliseconds, item.attempts, item.lastError, item.enqueuedAt.milliseconds, item.id]
        )
    }

    func outboxItem(id: String) throws -> OutboxItem? {
        try main.first("SELECT \(Self.outboxColumns) FROM outbox WHERE id = $1", [id]).map(Self.outboxItem)
    }

    func dueOutbox(recipientID: String, now: Timestamp, limit: Int) throws -> [OutboxItem] {
        try main.query(
            """
            SELECT \(Self.outboxColumns) FROM outbox
            WHERE recipient_id = $1 AND state = 'pending' AND mode = 'push' AND next_attempt_at <= $2
              AND (lease_until IS NULL OR lease_until <= $2)
            ORDER BY next_attempt_at, id LIMIT $3
            """,
            [recipientID, now.milliseconds, limit]
        ).map(Self.outboxItem)
    }

    func claimDueOutbox(recipientID: String, now: Timestamp, leaseUntil: Timestamp, claimant: String, limit: Int) throws -> [OutboxItem] {
        guard limit > 0 else { return [] }
        // Several nodes claim at once: SKIP LOCKED passes over the items another node is claiming
        // now, and an item it claimed and committed fails `lease_until <= now` on the re-check.
        let claimed = try main.query(
            """
            UPDATE outbox SET lease_holder = $4, lease_until = $5
            WHERE id IN (
                SELECT id FROM outbox
                WHERE recipient_id = $1 AND state = 'pending' AND mode = 'push' AND next_attempt_at <= $2
                  AND (lease_until IS NULL OR lease_until <= $2)
                ORDER BY next_attempt_at, id LIMIT $3
                FOR UPDATE SKIP LOCKED
            )
            RETURNING \(Self.outboxColumns)
            """,
            [recipientID, now.milliseconds, limit, claimant, leaseUntil.milliseconds]
        )
        return try claimed.map(Self.outboxItem)
            .sorted { ($0.nextAttemptAt.milliseconds, $0.id) < ($1.nextAttemptAt.milliseconds, $1.id) }
            .map { item in
                var item = item
                item.claim = OutboxClaim(claimant: claimant, until: leaseUntil)
                return item
            }
    }

    func releaseOutboxClaim(id: String, claim: OutboxClaim) throws {
        try main.query(
            "UPDATE outbox SET lease_holder = NULL, lease_until = NULL WHERE id = $1 AND lease_holder = $2 AND lease_until = $3",
            [id, claim.claimant, claim.until.milliseconds]
        )
    }

    func mailbox(recipientIDs: [String], afterID: String?, limit: Int) throws -> [OutboxItem] {
        guard !recipientIDs.isEmpty else { return [] }
        var values: [any PostgresBindable] = recipientIDs
        let placeholders = (1...recipientIDs.count).map { "$\($0)" }.joined(separator: ", ")
        var cursor = ""
        if let afterID, let after = try outboxItem(id: afterID) {
            cursor = "AND (enqueued_at, id) > ($\(values.count + 1), $\(values.count + 2))"
            values += [after.enqueuedAt.milliseconds, after.id]
        }
        values.append(limit)
        return try main.query(
            """
            SELECT \(Self.outboxColumns) FROM outbox
            WHERE state = 'pending' AND mode = 'pull' AND recipient_id IN (\(placeholders)) \(cursor)
            ORDER BY enqueued_at, id LIMIT $\(values.count)
            """,
            values
        ).map(Self.outboxItem)
    }

    func outboxItems(state: OutboxItem.State?, limit: Int) throws -> [OutboxItem] {
        if let state {
            return try main.query("SELECT \(Self.outboxColumns) FROM outbox WHERE state = $1 ORDER BY enqueued_at, id LIMIT $2", [state.rawValue, limit])
                .map(Self.outboxItem)
        }
        return try main.query("SELECT \(Self.outboxColumns) FROM outbox ORDER BY enqueued_at, id LIMIT $1", [limit]).map(Self.outboxItem)
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
            SELECT recipient_id, count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'failed'),
                   min(enqueued_at) FILTER (WHERE state = 'pending')
            FROM outbox GROUP BY recipient_id ORDER BY recipient_id
            """
        ).map { found in
            let row = StrictRow(found, table: "outbox", columns: ["recipient_id", "pending", "failed", "min(enqueued_at)"])
            return OutboxDepth(
                recipientID: try row.text(0), pending: try row.count(1), failed: try row.count(2), oldestPending: try row.optionalTimestamp(3)
            )
        }
    }

    private static func outboxItem(_ found: PostgresRow) throws -> OutboxItem {
        let row = StrictRow(found, table: "outbox", columnList: outboxColumns)
        return OutboxItem(
            id: try row.text(0), kind: try row.value(1, as: OutboxItem.Kind.self), disclosureID: try row.text(2),
            recipientID: try row.text(3), mode: try row.value(4, as: OutboxItem.Mode.self), payload: try row.optionalBlob(5),
            state: try row.value(6, as: OutboxItem.State.self), enqueuedAt: try row.timestamp(7), nextAttemptAt: try row.timestamp(8),
            attempts: try row.count(9), lastError: try row.optionalText(10)
        )
    }

    /// Takes the log head's lock before a change the `store_counts` triggers count. Every
    /// commit of another node that moves a count waits here first, so that two commits never
    /// hold one count's row each and wait for the other's (nor one the head and the other a
    /// count): the counts add no lock order of their own. Such changes go with a log entry in
    /// the same commit, which takes this lock anyway.
    private func lockCountsBehindLogHead() throws {
        _ = try chain.take(main)
    }

    // MARK: Log

    func appendLog(_ draft: LogEntryDraft) throws -> LogEntry {
        // The head is taken (locked, across nodes) at the first append of the commit, not before.
        let head = try chain.take(main)
        let entry = LogEntry(sealing: draft, seq: head.seq + 1, time: now, prevHash: head.hash)
        try main.query(
            """
            INSERT INTO log_entries (seq, time, event, actor, referral_id, subject_id, disclosure_id, recipient_id, lawful_basis, entry, hash)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """,
            [entry.seq, entry.time.milliseconds, draft.event.rawValue, draft.actor, draft.referralID, draft.subjectID,
             draft.disclosureID, draft.recipientID, draft.lawfulBasis?.rawValue, entry.canonical, entry.hash]
        )
        chain.advance(seq: entry.seq, hash: entry.hash)
        return entry
    }

    func insertCheckpoint(_ checkpoint: Checkpoint) throws {
        // One signature per position: a second node's checkpoint of the same head is dropped.
        try main.query(
            "INSERT INTO checkpoints (seq, hash, time, signature, key_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING",
            [checkpoint.seq, checkpoint.hash, checkpoint.time.milliseconds, checkpoint.signature, checkpoint.keyID]
        )
    }

    func checkpoints() throws -> [Checkpoint] {
        try main.query("SELECT seq, hash, time, signature, key_id FROM checkpoints ORDER BY seq").map(Self.checkpoint)
    }

    func latestCheckpoint() throws -> Checkpoint? {
        try main.first("SELECT seq, hash, time, signature, key_id FROM checkpoints ORDER BY seq DESC LIMIT 1").map(Self.checkpoint)
    }

    private static func checkpoint(_ found: PostgresRow) throws -> Checkpoint {
        let row = StrictRow(found, table: "checkpoints", columns: ["seq", "hash", "time", "signature", "key_id"])
        return Checkpoint(seq: try row.integer(0), hash: try row.text(1), time: try row.timestamp(2), signature: try row.blob(3), keyID: try row.text(4))
    }

    private static let storedLogColumns = ["seq", "event", "actor", "entry", "hash", "time", "referral_id", "subject_id", "disclosure_id", "recipient_id", "lawful_basis"]

    func forEachLogEntry(from seq: Int64, _ body: (StoredLogEntry) throws -> Bool) throws {
        // In pages, so that a long log is never held in memory at once.
        var next = seq
        while true {
            let page = try main.query(
                """
                SELECT seq, event, actor, entry, hash, time, referral_id, subject_id, disclosure_id, recipient_id, lawful_basis
                FROM log_entries WHERE seq >= $1 ORDER BY seq LIMIT 1000
                """,
                [next]
            )
            for found in page {
                let row = StrictRow(found, table: "log_entries", columns: Self.storedLogColumns)
                let stored = StoredLogEntry(
                    seq: try row.integer(0), event: try row.text(1), actor: try row.text(2), canonical: try row.blob(3), hash: try row.text(4),
                    indexed: StoredLogEntry.IndexedColumns(
                        timeMilliseconds: try row.integer(5), referralID: try row.optionalText(6), subjectID: try row.optionalText(7),
                        disclosureID: try row.optionalText(8), recipientID: try row.optionalText(9), lawfulBasis: try row.optionalText(10)
                    )
                )
                guard try body(stored) else { return }
                next = stored.seq + 1
            }
            if page.count < 1000 { return }
        }
    }

    func logEntries(_ filter: LogFilter, limit: Int) throws -> [LogEntry] {
        var conditions: [String] = []
        var values: [any PostgresBindable] = []
        func add(_ condition: String, _ value: (any PostgresBindable)?) {
            guard let value else { return }
            values.append(value)
            conditions.append(condition.replacingOccurrences(of: "?", with: "$\(values.count)"))
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
            var placeholders: [String] = []
            for event in filter.excludedEvents {
                values.append(event)
                placeholders.append("$\(values.count)")
            }
            conditions.append("event NOT IN (\(placeholders.joined(separator: ", ")))")
        }
        values.append(limit)
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let order = filter.newestFirst ? "DESC" : ""
        return try main.query("SELECT seq, entry, hash FROM log_entries \(whereClause) ORDER BY seq \(order) LIMIT $\(values.count)", values)
            .map(Self.logEntry)
    }

    func logEntry(seq: Int64) throws -> LogEntry? {
        try main.first("SELECT seq, entry, hash FROM log_entries WHERE seq = $1", [seq]).map(Self.logEntry)
    }

    private static func logEntry(_ found: PostgresRow) throws -> LogEntry {
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
        guard let head = try main.first("SELECT hash FROM log_entries WHERE seq = $1", [last]) else { return nil }
        return (first, last, try StrictRow(head, table: "log_entries", columns: ["hash"]).text(0))
    }

    // MARK: Retention

    func subjectsLastReferred(before cutoff: Timestamp, limit: Int) throws -> [String] {
        try main.query(
            """
            SELECT subjects.id FROM subjects JOIN referrals ON referrals.subject_id = subjects.id
            WHERE subjects.erased_at IS NULL GROUP BY subjects.id HAVING max(referrals.received_at) < $1 ORDER BY subjects.id LIMIT $2
            """,
            [cutoff.milliseconds, limit]
        ).map { try StrictRow($0, table: "subjects", columns: ["id"]).text(0) }
    }

    func earliestLastReferral() throws -> Timestamp? {
        try main.first(
            """
            SELECT min(last) FROM (SELECT max(referrals.received_at) AS last FROM subjects
            JOIN referrals ON referrals.subject_id = subjects.id WHERE subjects.erased_at IS NULL GROUP BY subjects.id) AS lasts
            """
        ).flatMap { try StrictRow($0, table: "referrals", columns: ["received_at"]).optionalTimestamp(0) }
    }

    func eraseConsentDetails(endedBefore cutoff: Timestamp) throws -> Int {
        try main.update(
            """
            UPDATE consents SET sealed_details = NULL
            WHERE sealed_details IS NOT NULL AND coalesce(withdrawn_at, expires_at, recorded_at) < $1
            """,
            [cutoff.milliseconds]
        )
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
        try main.query("DELETE FROM log_entries WHERE seq <= $1", [seq])
        try main.query(
            "INSERT INTO log_anchor (id, seq, hash) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash",
            [seq, hash]
        )
    }

    func earliestLogTime() throws -> Timestamp? {
        try main.first("SELECT time FROM log_entries ORDER BY seq LIMIT 1").map { try StrictRow($0, table: "log_entries", columns: ["time"]).timestamp(0) }
    }

    /// A `count(*)` query's answer.
    func count(_ sql: String, _ values: [any PostgresBindable] = [], table: String, on connection: PostgresConnection? = nil) throws -> Int {
        guard let row = try (connection ?? main).first(sql, values) else { return 0 }
        return try StrictRow(row, table: table, columns: ["count(*)"]).count(0)
    }

    // MARK: Erasure

    func eraseSubject(id: String, at time: Timestamp) throws {
        try keys.query("DELETE FROM subject_keys WHERE subject_id = $1", [id])
        try keys.query("DELETE FROM subject_index WHERE subject_id = $1", [id])
        try main.query("UPDATE referrals SET sealed_body = NULL WHERE subject_id = $1", [id])
        try main.query("UPDATE consents SET sealed_details = NULL WHERE subject_id = $1", [id])
        try main.query("DELETE FROM free_texts WHERE subject_id = $1", [id])
        try main.query("UPDATE disclosures SET justification = NULL WHERE subject_id = $1 AND justification IS NOT NULL", [id])
        try main.query("UPDATE subjects SET erased_at = COALESCE(erased_at, $1) WHERE id = $2", [time.milliseconds, id])
        erased = true
    }

    // MARK: Finding

    private static func table(_ kind: StoredIDKind) -> String {
        switch kind {
        case .subject: "subjects"
        case .referral: "referrals"
        case .disclosure: "disclosures"
        }
    }

    func ids(_ kind: StoredIDKind, prefix: String, limit: Int) throws -> [String] {
        // Ids are lower-case hex and '-', all below '~' in the "C" collation of the id columns.
        try main.query(
            "SELECT id FROM \(Self.table(kind)) WHERE id >= $1 AND id < $2 ORDER BY id LIMIT $3", [prefix, prefix + "~", limit]
        ).map { try StrictRow($0, table: Self.table(kind), columns: ["id"]).text(0) }
    }

    func idNeighbours(_ kind: StoredIDKind, of id: String) throws -> (before: String?, after: String?) {
        let table = Self.table(kind)
        let before = try main.first("SELECT id FROM \(table) WHERE id < $1 ORDER BY id DESC LIMIT 1", [id])
            .map { try StrictRow($0, table: table, columns: ["id"]).text(0) }
        let after = try main.first("SELECT id FROM \(table) WHERE id > $1 ORDER BY id LIMIT 1", [id])
            .map { try StrictRow($0, table: table, columns: ["id"]).text(0) }
        return (before, after)
    }

    func distinctLogValues(_ column: LogValueColumn) throws -> [String] {
        let name = switch column {
        case .recipient: "recipient_id"
        case .actor: "actor"
        }
        return try main.query("SELECT DISTINCT \(name) FROM log_entries WHERE \(name) IS NOT NULL ORDER BY \(name)")
            .map { try StrictRow($0, table: "log_entries", columns: [name]).text(0) }
    }

    func insertSubjectIndex(_ entries: [SubjectIndexEntry]) throws {
        for entry in entries {
            try keys.query(
                "INSERT INTO subject_index (kind, digest, subject_id, referral_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                [entry.kind.rawValue, entry.digest, entry.subjectID, entry.referralID]
            )
        }
    }

    func replaceSubjectIndex(referralID: String, with entries: [SubjectIndexEntry]) throws {
        try keys.query("DELETE FROM subject_index WHERE referral_id = $1", [referralID])
        try insertSubjectIndex(entries)
    }

    func subjectIndexEntries(kind: SubjectKeyKind, digest: [UInt8]) throws -> [SubjectIndexEntry] {
        try keys.query(
            "SELECT subject_id, referral_id FROM subject_index WHERE kind = $1 AND digest = $2 ORDER BY referral_id LIMIT 1000", [kind.rawValue, digest]
        ).map { found in
            let row = StrictRow(found, table: "subject_index", columns: ["subject_id", "referral_id"])
            return SubjectIndexEntry(kind: kind, digest: digest, subjectID: try row.text(0), referralID: try row.text(1))
        }
    }

    func subjectIndexBackfillCursor() throws -> String? {
        try keys.first("SELECT after_referral FROM subject_index_backfill WHERE id = 1")
            .map { try StrictRow($0, table: "subject_index_backfill", columns: ["after_referral"]).text(0) }
    }

    func setSubjectIndexBackfillCursor(_ cursor: String?) throws {
        if let cursor {
            try keys.query("UPDATE subject_index_backfill SET after_referral = $1 WHERE id = 1", [cursor])
        } else {
            try keys.query("DELETE FROM subject_index_backfill")
        }
    }

    func sealedReferrals(after id: String, limit: Int) throws -> [(id: String, subjectID: String, sealedBody: [UInt8]?)] {
        try main.query("SELECT id, subject_id, sealed_body FROM referrals WHERE id > $1 ORDER BY id LIMIT $2", [id, limit]).map { found in
            let row = StrictRow(found, table: "referrals", columns: ["id", "subject_id", "sealed_body"])
            return (try row.text(0), try row.text(1), try row.optionalBlob(2))
        }
    }
}

private func encode(_ strings: [String]) -> String {
    JSONValue.array(strings.map { .string($0) }).serializedString()
}
