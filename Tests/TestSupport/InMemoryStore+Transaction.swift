import Exchange
import Foundation

/// The exchange's operations over a copy of the in-memory tables: a write publishes the copy
/// when its body returns; a read refuses every change. Each method does what its SQL does in
/// `SQLiteTransaction` (same conditions, same order, same constraints).
final class InMemoryTransaction: StoreTransaction {
    let now: Timestamp
    private(set) var tables: InMemoryTables
    private let isReadOnly: Bool

    init(tables: InMemoryTables, now: Timestamp, isReadOnly: Bool) {
        self.tables = tables
        self.now = now
        self.isReadOnly = isReadOnly
    }

    /// Every change goes through here: a read may not change anything.
    private func change() throws {
        if isReadOnly { throw InMemoryStoreError(.readOnly, "a read transaction cannot change the store") }
    }

    private func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw InMemoryStoreError(.constraint, message()) }
    }

    // MARK: Subjects

    func insertSubject(_ subject: SubjectRecord, key: WrappedSubjectKey) throws {
        try change()
        try require(tables.subjectKeys[key.subjectID] == nil, "subject_keys.subject_id \(key.subjectID) exists")
        try require(tables.subjects[subject.id] == nil, "subjects.id \(subject.id) exists")
        tables.subjectKeys[key.subjectID] = key
        tables.subjects[subject.id] = InMemoryRow(rowID: tables.takeRowID(), record: subject)
    }

    func subject(id: String) throws -> SubjectRecord? { tables.subjects[id]?.record }

    func subjectKey(subjectID: String) throws -> WrappedSubjectKey? { tables.subjectKeys[subjectID] }

    func setRestricted(subjectID: String, _ restricted: Bool) throws {
        try change()
        tables.subjects[subjectID]?.record.restricted = restricted
    }

    func setSubjectWithdrawalReceipt(subjectID: String, _ receipt: [UInt8]) throws {
        try change()
        tables.subjects[subjectID]?.record.withdrawalReceipt = receipt
    }

    // MARK: Referrals

    func insertReferral(_ referral: ReferralRecord) throws {
        try change()
        try require(tables.referrals[referral.id] == nil, "referrals.id \(referral.id) exists")
        try require(
            !tables.referrals.values.contains { $0.record.partnerID == referral.partnerID && $0.record.referenceKey == referral.referenceKey },
            "referrals (partner_id, reference_key) exists"
        )
        try require(tables.subjects[referral.subjectID] != nil, "referrals.subject_id \(referral.subjectID) names no subject")
        tables.referrals[referral.id] = InMemoryRow(rowID: tables.takeRowID(), record: referral)
    }

    func replaceSealedBody(referralID: String, _ sealed: [UInt8]) throws {
        try change()
        guard tables.referrals[referralID]?.record.sealedBody != nil else { return }
        tables.referrals[referralID]?.record.sealedBody = sealed
    }

    func setReceipt(referralID: String, _ receipt: [UInt8]) throws {
        try change()
        tables.referrals[referralID]?.record.receipt = receipt
    }

    func referral(id: String) throws -> ReferralRecord? { tables.referrals[id]?.record }

    func referral(partnerID: String, referenceKey: [UInt8]) throws -> ReferralRecord? {
        tables.referrals.values.first { $0.record.partnerID == partnerID && $0.record.referenceKey == referenceKey }?.record
    }

    func referrals(subjectID: String) throws -> [ReferralRecord] {
        ordered(tables.referrals.values.filter { $0.record.subjectID == subjectID }) { $0.receivedAt.milliseconds }
    }

    // MARK: Consents

    func insertConsent(_ consent: ConsentRecord) throws {
        try change()
        try require(tables.consents[consent.id] == nil, "consents.id \(consent.id) exists")
        try require(tables.subjects[consent.subjectID] != nil, "consents.subject_id \(consent.subjectID) names no subject")
        try require(tables.referrals[consent.referralID] != nil, "consents.referral_id \(consent.referralID) names no referral")
        tables.consents[consent.id] = InMemoryRow(rowID: tables.takeRowID(), record: consent)
    }

    func consent(id: String) throws -> ConsentRecord? { tables.consents[id]?.record }

    func consents(subjectID: String) throws -> [ConsentRecord] {
        ordered(tables.consents.values.filter { $0.record.subjectID == subjectID }) { $0.recordedAt.milliseconds }
    }

    func markConsentWithdrawn(id: String, at time: Timestamp) throws {
        try change()
        guard tables.consents[id]?.record.withdrawnAt == nil else { return }
        tables.consents[id]?.record.withdrawnAt = time
    }

    func consent(referralID: String, documentDigest: [UInt8]) throws -> ConsentRecord? {
        ordered(tables.consents.values.filter { $0.record.referralID == referralID && $0.record.documentDigest == documentDigest }) {
            $0.recordedAt.milliseconds
        }.first
    }

    func setConsentReceipt(id: String, _ receipt: [UInt8]) throws {
        try change()
        tables.consents[id]?.record.receipt = receipt
    }

    func setConsentWithdrawalReceipt(id: String, _ receipt: [UInt8]) throws {
        try change()
        tables.consents[id]?.record.withdrawalReceipt = receipt
    }

    // MARK: Free text and acknowledgements

    func insertFreeText(digest: String, subjectID: String, sealed: [UInt8]) throws {
        try change()
        try require(tables.subjects[subjectID] != nil, "free_texts.subject_id \(subjectID) names no subject")
        if tables.freeTexts[digest] == nil { tables.freeTexts[digest] = .init(subjectID: subjectID, sealed: sealed) }
    }

    func freeText(digest: String) throws -> (subjectID: String, sealed: [UInt8])? {
        tables.freeTexts[digest].map { ($0.subjectID, $0.sealed) }
    }

    func recordAcknowledgement(itemID: String, recipientID: String, at time: Timestamp) throws {
        try change()
        if tables.acknowledgements[itemID] == nil { tables.acknowledgements[itemID] = .init(recipientID: recipientID, at: time) }
    }

    func acknowledgement(itemID: String) throws -> (recipientID: String, at: Timestamp)? {
        tables.acknowledgements[itemID].map { ($0.recipientID, $0.at) }
    }

    // MARK: Disclosures

    func insertDisclosure(_ disclosure: DisclosureRecord) throws {
        try change()
        try require(tables.disclosures[disclosure.id] == nil, "disclosures.id \(disclosure.id) exists")
        try require(tables.referrals[disclosure.referralID] != nil, "disclosures.referral_id \(disclosure.referralID) names no referral")
        try require(tables.subjects[disclosure.subjectID] != nil, "disclosures.subject_id \(disclosure.subjectID) names no subject")
        var stored = disclosure
        stored.legacyJustification = nil
        tables.disclosures[disclosure.id] = InMemoryRow(rowID: tables.takeRowID(), record: stored)
    }

    func updateDisclosure(_ disclosure: DisclosureRecord) throws {
        try change()
        guard let row = tables.disclosures[disclosure.id] else { return }
        var stored = disclosure
        stored.legacyJustification = row.record.legacyJustification
        tables.disclosures[disclosure.id]?.record = stored
    }

    func disclosure(id: String) throws -> DisclosureRecord? { tables.disclosures[id]?.record }

    func disclosures(referralID: String) throws -> [DisclosureRecord] {
        ordered(tables.disclosures.values.filter { $0.record.referralID == referralID }) { $0.createdAt.milliseconds }
    }

    func disclosures(subjectID: String) throws -> [DisclosureRecord] {
        ordered(tables.disclosures.values.filter { $0.record.subjectID == subjectID }) { $0.createdAt.milliseconds }
    }

    func disclosuresWithPlainJustification(limit: Int) throws -> [DisclosureRecord] {
        limited(ordered(tables.disclosures.values.filter { $0.record.legacyJustification != nil }) { _ in 0 }, limit)
    }

    func clearPlainJustification(disclosureID: String) throws {
        try change()
        tables.disclosures[disclosureID]?.record.legacyJustification = nil
    }

    // MARK: Outbox

    func enqueue(_ item: OutboxItem) throws {
        try change()
        try require(tables.disclosures[item.disclosureID] != nil, "outbox.disclosure_id \(item.disclosureID) names no disclosure")
        // INSERT OR REPLACE: a replaced row is a new row, without a lease.
        var stored = item
        stored.claim = nil
        tables.outbox[item.id] = InMemoryRow(rowID: tables.takeRowID(), record: stored)
        tables.outboxLeases[item.id] = nil
    }

    func dequeue(id: String) throws {
        try change()
        tables.outbox[id] = nil
        tables.outboxLeases[id] = nil
    }

    func updateOutbox(_ item: OutboxItem) throws {
        try change()
        guard var stored = tables.outbox[item.id]?.record else { return }
        stored.state = item.state
        stored.nextAttemptAt = item.nextAttemptAt
        stored.attempts = item.attempts
        stored.lastError = item.lastError
        stored.enqueuedAt = item.enqueuedAt
        tables.outbox[item.id]?.record = stored
    }

    func outboxItem(id: String) throws -> OutboxItem? { tables.outbox[id]?.record }

    func dueOutbox(recipientID: String, now: Timestamp, limit: Int) throws -> [OutboxItem] {
        let due = tables.outbox.values.filter {
            $0.record.recipientID == recipientID && $0.record.state == .pending && $0.record.mode == .push && $0.record.nextAttemptAt <= now
                && (tables.outboxLeases[$0.record.id].map { $0.until <= now } ?? true)
        }
        return limited(ordered(due) { $0.nextAttemptAt.milliseconds }, limit)
    }

    func claimDueOutbox(recipientID: String, now: Timestamp, leaseUntil: Timestamp, claimant: String, limit: Int) throws -> [OutboxItem] {
        try change()
        guard limit > 0 else { return [] }
        var items = try dueOutbox(recipientID: recipientID, now: now, limit: limit)
        for index in items.indices {
            let claim = OutboxClaim(claimant: claimant, until: leaseUntil)
            tables.outboxLeases[items[index].id] = claim
            items[index].claim = claim
        }
        return items
    }

    func releaseOutboxClaim(id: String, claim: OutboxClaim) throws {
        try change()
        if tables.outboxLeases[id] == claim { tables.outboxLeases[id] = nil }
    }

    func mailbox(recipientIDs: [String], afterID: String?, limit: Int) throws -> [OutboxItem] {
        guard !recipientIDs.isEmpty else { return [] }
        // As in SQL: a cursor naming an item no longer there is no cursor.
        let cursor = afterID.flatMap { tables.outbox[$0]?.record }
        let items = tables.outbox.values.map(\.record).filter { item in
            guard item.state == .pending, item.mode == .pull, recipientIDs.contains(item.recipientID) else { return false }
            guard let cursor else { return true }
            return item.enqueuedAt > cursor.enqueuedAt || (item.enqueuedAt == cursor.enqueuedAt && precedes(cursor.id, item.id))
        }
        return limited(items.sorted(by: byEnqueuedAtThenID), limit)
    }

    func outboxItems(state: OutboxItem.State?, limit: Int) throws -> [OutboxItem] {
        let items = tables.outbox.values.map(\.record).filter { state == nil || $0.state == state }
        return limited(items.sorted(by: byEnqueuedAtThenID), limit)
    }

    func outboxDepths() throws -> [OutboxDepth] {
        var depths: [String: OutboxDepth] = [:]
        for item in tables.outbox.values.map(\.record) {
            var depth = depths[item.recipientID] ?? OutboxDepth(recipientID: item.recipientID, pending: 0, failed: 0, oldestPending: nil)
            switch item.state {
            case .pending:
                depth.pending += 1
                depth.oldestPending = min(depth.oldestPending ?? item.enqueuedAt, item.enqueuedAt)
            case .failed:
                depth.failed += 1
            }
            depths[item.recipientID] = depth
        }
        return depths.values.sorted { precedes($0.recipientID, $1.recipientID) }
    }

    // MARK: Log

    func appendLog(_ draft: LogEntryDraft) throws -> LogEntry {
        try change()
        let head = tables.chainHead
        let entry = LogEntry(sealing: draft, seq: head.seq + 1, time: now, prevHash: head.hash)
        tables.log.append(StoredLogEntry(
            seq: entry.seq, event: draft.event.rawValue, actor: draft.actor, canonical: entry.canonical, hash: entry.hash,
            indexed: StoredLogEntry.IndexedColumns(
                timeMilliseconds: now.milliseconds, referralID: draft.referralID, subjectID: draft.subjectID,
                disclosureID: draft.disclosureID, recipientID: draft.recipientID, lawfulBasis: draft.lawfulBasis?.rawValue
            )
        ))
        return entry
    }

    func insertCheckpoint(_ checkpoint: Checkpoint) throws {
        try change()
        tables.checkpoints[checkpoint.seq] = checkpoint
    }

    func checkpoints() throws -> [Checkpoint] { tables.checkpoints.values.sorted { $0.seq < $1.seq } }

    func latestCheckpoint() throws -> Checkpoint? { tables.checkpoints.values.max { $0.seq < $1.seq } }

    func forEachLogEntry(from seq: Int64, _ body: (StoredLogEntry) throws -> Bool) throws {
        for entry in tables.log where entry.seq >= seq {
            guard try body(entry) else { return }
        }
    }

    func logEntries(_ filter: LogFilter, limit: Int) throws -> [LogEntry] {
        func matches(_ wanted: String?, _ value: String?) -> Bool { wanted == nil || wanted == value }
        let selected = tables.log.filter { entry in
            let columns = entry.indexed
            return matches(filter.subjectID, columns.subjectID) && matches(filter.referralID, columns.referralID)
                && matches(filter.recipientID, columns.recipientID) && matches(filter.event, entry.event)
                && matches(filter.lawfulBasis, columns.lawfulBasis) && matches(filter.actor, entry.actor)
                && matches(filter.disclosureID, columns.disclosureID)
                && filter.since.map { columns.timeMilliseconds >= $0.milliseconds } ?? true
                && filter.until.map { columns.timeMilliseconds < $0.milliseconds } ?? true
                && filter.afterSeq.map { entry.seq > $0 } ?? true
                && filter.beforeSeq.map { entry.seq < $0 } ?? true
                && !filter.excludedEvents.contains(entry.event)
        }
        let inOrder = filter.newestFirst ? Array(selected.reversed()) : selected
        return limited(inOrder, limit).compactMap { LogEntry(canonical: $0.canonical, hash: $0.hash) }
    }

    func logEntry(seq: Int64) throws -> LogEntry? {
        tables.log.first { $0.seq == seq }.flatMap { LogEntry(canonical: $0.canonical, hash: $0.hash) }
    }

    func logBounds() throws -> (first: Int64, last: Int64, lastHash: String)? {
        guard let first = tables.log.first, let last = tables.log.last else { return nil }
        return (first.seq, last.seq, last.hash)
    }

    // MARK: Finding

    private func idColumn(_ kind: StoredIDKind) -> [String] {
        switch kind {
        case .subject: Array(tables.subjects.keys)
        case .referral: Array(tables.referrals.keys)
        case .disclosure: Array(tables.disclosures.keys)
        }
    }

    func ids(_ kind: StoredIDKind, prefix: String, limit: Int) throws -> [String] {
        let end = prefix + "~"
        return limited(idColumn(kind).filter { !precedes($0, prefix) && precedes($0, end) }.sorted(by: precedes), limit)
    }

    func idNeighbours(_ kind: StoredIDKind, of id: String) throws -> (before: String?, after: String?) {
        let sorted = idColumn(kind).sorted(by: precedes)
        return (sorted.last { precedes($0, id) }, sorted.first { precedes(id, $0) })
    }

    func distinctLogValues(_ column: LogValueColumn) throws -> [String] {
        let values = tables.log.compactMap { entry -> String? in
            switch column {
            case .recipient: entry.indexed.recipientID
            case .actor: entry.actor
            }
        }
        return Set(values).sorted(by: precedes)
    }

    func insertSubjectIndex(_ entries: [SubjectIndexEntry]) throws {
        try change()
        for entry in entries {
            let key = InMemoryTables.IndexKey(kind: entry.kind, digest: entry.digest, referralID: entry.referralID)
            if tables.subjectIndex[key] == nil { tables.subjectIndex[key] = entry }
        }
    }

    func replaceSubjectIndex(referralID: String, with entries: [SubjectIndexEntry]) throws {
        try change()
        tables.subjectIndex = tables.subjectIndex.filter { $0.key.referralID != referralID }
        try insertSubjectIndex(entries)
    }

    func subjectIndexEntries(kind: SubjectKeyKind, digest: [UInt8]) throws -> [SubjectIndexEntry] {
        let matching = tables.subjectIndex.values.filter { $0.kind == kind && $0.digest == digest }
        return limited(matching.sorted { precedes($0.referralID, $1.referralID) }, 1000)
    }

    func subjectIndexBackfillCursor() throws -> String? { tables.subjectIndexBackfillCursor }

    func setSubjectIndexBackfillCursor(_ cursor: String?) throws {
        try change()
        // As in SQL: an UPDATE of a row deleted once the backfill finished changes nothing.
        if let cursor {
            if tables.subjectIndexBackfillCursor != nil { tables.subjectIndexBackfillCursor = cursor }
        } else {
            tables.subjectIndexBackfillCursor = nil
        }
    }

    func sealedReferrals(after id: String, limit: Int) throws -> [(id: String, subjectID: String, sealedBody: [UInt8]?)] {
        let after = tables.referrals.values.map(\.record).filter { precedes(id, $0.id) }.sorted { precedes($0.id, $1.id) }
        return limited(after, limit).map { ($0.id, $0.subjectID, $0.sealedBody) }
    }

    // MARK: Retention

    /// The newest referral time of each subject not yet erased that has referrals.
    private func lastReferrals() -> [String: Timestamp] {
        var last: [String: Timestamp] = [:]
        for referral in tables.referrals.values.map(\.record) where tables.subjects[referral.subjectID]?.record.erasedAt == nil {
            guard tables.subjects[referral.subjectID] != nil else { continue }
            last[referral.subjectID] = max(last[referral.subjectID] ?? referral.receivedAt, referral.receivedAt)
        }
        return last
    }

    func subjectsLastReferred(before cutoff: Timestamp, limit: Int) throws -> [String] {
        limited(lastReferrals().filter { $0.value < cutoff }.keys.sorted(by: precedes), limit)
    }

    func earliestLastReferral() throws -> Timestamp? { lastReferrals().values.min() }

    private static func ended(_ consent: ConsentRecord) -> Timestamp {
        consent.withdrawnAt ?? consent.expiresAt ?? consent.recordedAt
    }

    func eraseConsentDetails(endedBefore cutoff: Timestamp) throws -> Int {
        try change()
        var count = 0
        for (id, row) in tables.consents where row.record.sealedDetails != nil && Self.ended(row.record) < cutoff {
            tables.consents[id]?.record.sealedDetails = nil
            count += 1
        }
        return count
    }

    func earliestConsentDetails() throws -> Timestamp? {
        tables.consents.values.map(\.record).filter { $0.sealedDetails != nil }.map(Self.ended).min()
    }

    func logAnchor() throws -> (seq: Int64, hash: String)? { tables.logAnchor }

    func pruneLog(through seq: Int64, hash: String) throws {
        try change()
        tables.log.removeAll { $0.seq <= seq }
        tables.logAnchor = (seq, hash)
    }

    func earliestLogTime() throws -> Timestamp? { tables.log.first.map { Timestamp(milliseconds: $0.indexed.timeMilliseconds) } }

    // MARK: Erasure

    func eraseSubject(id: String, at time: Timestamp) throws {
        try change()
        tables.subjectKeys[id] = nil
        tables.subjectIndex = tables.subjectIndex.filter { $0.value.subjectID != id }
        for (referralID, row) in tables.referrals where row.record.subjectID == id {
            tables.referrals[referralID]?.record.sealedBody = nil
        }
        for (consentID, row) in tables.consents where row.record.subjectID == id {
            tables.consents[consentID]?.record.sealedDetails = nil
        }
        tables.freeTexts = tables.freeTexts.filter { $0.value.subjectID != id }
        for (disclosureID, row) in tables.disclosures where row.record.subjectID == id {
            tables.disclosures[disclosureID]?.record.legacyJustification = nil
        }
        if tables.subjects[id]?.record.erasedAt == nil { tables.subjects[id]?.record.erasedAt = time }
    }

    func logEventCounts(since: Timestamp, until: Timestamp, afterSeq: Int64?, events: [String], utcOffsetMilliseconds: Int64) throws -> [LogEventCount] {
        struct Key: Hashable { var day: Int64; var event: String; var recipient: String?; var basis: String? }
        var counts: [Key: Int] = [:]
        for entry in tables.log where events.contains(entry.event) && entry.seq > (afterSeq ?? 0) {
            let time = entry.indexed.timeMilliseconds
            guard time >= since.milliseconds, time < until.milliseconds else { continue }
            let shifted = time + utcOffsetMilliseconds
            // SQLite's integer division truncates towards zero, as Swift's does.
            counts[Key(day: shifted / 86_400_000, event: entry.event, recipient: entry.indexed.recipientID, basis: entry.indexed.lawfulBasis), default: 0] += 1
        }
        return counts.map { LogEventCount(day: $0.key.day, event: $0.key.event, recipientID: $0.key.recipient, lawfulBasis: $0.key.basis, count: $0.value) }
            .sorted { ($0.day, $0.event, $0.recipientID ?? "", $0.lawfulBasis ?? "") < ($1.day, $1.event, $1.recipientID ?? "", $1.lawfulBasis ?? "") }
    }

    func statistics() throws -> StoreStatistics {
        var states: [String: Int] = [:]
        for row in tables.disclosures.values { states[row.record.state.rawValue, default: 0] += 1 }
        return StoreStatistics(referrals: tables.referrals.count, disclosuresByState: states)
    }
}

/// SQLite's BINARY collation: byte order of the UTF-8.
private func precedes(_ lhs: String, _ rhs: String) -> Bool {
    lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
}

private func byEnqueuedAtThenID(_ lhs: OutboxItem, _ rhs: OutboxItem) -> Bool {
    lhs.enqueuedAt != rhs.enqueuedAt ? lhs.enqueuedAt < rhs.enqueuedAt : precedes(lhs.id, rhs.id)
}

/// Rows ordered by `key`, ties by insertion (rowid).
private func ordered<Record>(_ rows: some Sequence<InMemoryRow<Record>>, by key: (Record) -> Int64) -> [Record] {
    rows.sorted { lhs, rhs in
        let (left, right) = (key(lhs.record), key(rhs.record))
        return left != right ? left < right : lhs.rowID < rhs.rowID
    }.map(\.record)
}

/// SQL's LIMIT: a negative limit is none.
private func limited<Element>(_ items: [Element], _ limit: Int) -> [Element] {
    limit < 0 ? items : Array(items.prefix(limit))
}
