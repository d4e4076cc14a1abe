import Crypto
import JSON
import Timekeeping

extension Exchange {
    /// Records that `actor` read the log (the watchers are watched). A filter value is recorded
    /// only when it names something refex knows (a subject, referral or disclosure that exists,
    /// a known event, basis, recipient or actor): whatever else was typed into a filter (a
    /// person's name, say) must not enter a log that is never deleted.
    func recordViewing(_ action: String, filter: LogFilter?, extra: [(String, JSONValue)] = [], by actor: Actor) async throws {
        let recipientIDs = Set(recipients.map(\.id))
        try await store.write { txn in
            var details: JSONObject = ["action": .string(action)]
            var known = filter
            if var checked = filter {
                func appears(_ narrowed: (inout LogFilter) -> Void) throws -> Bool {
                    var probe = LogFilter()
                    narrowed(&probe)
                    return try !txn.logEntries(probe, limit: 1).isEmpty
                }
                if let id = checked.subjectID, try txn.subject(id: id) == nil { checked.subjectID = Exchange.unrecordedFilterValue }
                if let id = checked.referralID, try txn.referral(id: id) == nil { checked.referralID = Exchange.unrecordedFilterValue }
                if let id = checked.disclosureID, try txn.disclosure(id: id) == nil { checked.disclosureID = Exchange.unrecordedFilterValue }
                if let id = checked.recipientID, !recipientIDs.contains(id), try !appears({ $0.recipientID = id }) {
                    checked.recipientID = Exchange.unrecordedFilterValue
                }
                if let event = checked.event, LogEvent(rawValue: event) == nil { checked.event = Exchange.unrecordedFilterValue }
                if let basis = checked.lawfulBasis, LawfulBasis(rawValue: basis) == nil { checked.lawfulBasis = Exchange.unrecordedFilterValue }
                if let name = checked.actor, try !appears({ $0.actor = name }) { checked.actor = Exchange.unrecordedFilterValue }
                if !checked.description.isEmpty {
                    details["filter"] = .object(JSONObject(checked.description.map { ($0.0, JSONValue.string($0.1)) }))
                }
                known = checked
            }
            for (key, value) in extra { details[key] = value }
            func recorded(_ id: String?) -> String? { id == Exchange.unrecordedFilterValue ? nil : id }
            _ = try txn.appendLog(LogEntryDraft(
                event: .logViewed, actor: actor.id, referralID: recorded(known?.referralID), subjectID: recorded(known?.subjectID), details: details
            ))
        }
    }

    /// What a `log.viewed` entry holds in place of a filter value that named nothing refex knows.
    package static let unrecordedFilterValue = "(unknown: not recorded)"

    /// `refex log list` and `GET /v1/disclosures`: entries matching `filter`, oldest first (or newest
    /// first), paged by `afterSeq` (or `beforeSeq`). The filter is checked first (see `resolve`).
    package func logEntries(_ filter: LogFilter, limit: Int, knownPartners: [String] = [], by actor: Actor) async throws -> [LogEntry] {
        // 10 000 a page, and one more for `logPage` to know whether there is a next.
        let page = max(1, min(limit, 10_001))
        let recipients = self.recipients.map(\.id)
        let keyring = self.keyring
        let (resolved, entries) = try await store.read { txn in
            let resolved = try Exchange.resolve(filter, txn: txn, recipients: recipients, partners: knownPartners)
            return (resolved, Exchange.revealed(try txn.logEntries(resolved, limit: page), keyring: keyring, txn: txn))
        }
        try await recordViewing("list", filter: resolved, by: actor)
        return entries
    }

    /// `GET /v1/disclosures`: one page of `logEntries`, with the seq to ask for the next page
    /// from (`after`, or `before` newest first) when there is more.
    package func logPage(_ filter: LogFilter, limit: Int, knownPartners: [String] = [], by actor: Actor) async throws -> LogPage {
        let limit = max(1, min(limit, 10_000))
        let entries = try await logEntries(filter, limit: limit + 1, knownPartners: knownPartners, by: actor)
        let shown = Array(entries.prefix(limit))
        return LogPage(entries: shown, next: entries.count > limit ? shown.last?.seq : nil)
    }

    /// Checks every value of `filter` against what exists, so that a mistake is an error and never
    /// an empty answer: events and bases against their lists; recipients against the configured
    /// ones and those in the log; actors against the configured partners, `system` and those in the
    /// log; subject, referral and disclosure ids whole or as a unique prefix (returned whole).
    static func resolve(_ filter: LogFilter, txn: any StoreTransaction, recipients: [String], partners: [String]) throws -> LogFilter {
        var resolved = filter
        let events = LogEvent.allCases.map(\.rawValue)
        if let event = filter.event, !events.contains(event) {
            throw FilterError("event", "event is not a log event", validValues: events)
        }
        for event in filter.excludedEvents where !events.contains(event) {
            throw FilterError("exclude", "exclude names something that is not a log event", validValues: events)
        }
        if let basis = filter.lawfulBasis, LawfulBasis(rawValue: basis) == nil {
            throw FilterError("basis", "basis is not a lawful basis", validValues: LawfulBasis.allCases.map(\.rawValue))
        }
        if let recipient = filter.recipientID, !recipients.contains(recipient) {
            let known = Set(recipients).union(try txn.distinctLogValues(.recipient)).sorted()
            guard known.contains(recipient) else {
                throw FilterError("recipient", "recipient is neither configured nor in the log", validValues: known)
            }
        }
        if let actor = filter.actor, !partners.contains(actor), actor != "system" {
            let known = Set(partners).union(["system"]).union(try txn.distinctLogValues(.actor)).sorted()
            guard known.contains(actor) else {
                throw FilterError("actor", "actor is neither a configured partner nor an actor in the log", validValues: known)
            }
        }
        resolved.subjectID = try filter.subjectID.map { try resolveID($0, .subject, txn: txn) }
        resolved.referralID = try filter.referralID.map { try resolveID($0, .referral, txn: txn) }
        resolved.disclosureID = try filter.disclosureID.map { try resolveID($0, .disclosure, txn: txn) }
        return resolved
    }

    /// A whole id, or a prefix of exactly one (upper case taken as lower).
    static func resolveID(_ text: String, _ kind: StoredIDKind, txn: any StoreTransaction) throws -> String {
        let prefix = text.lowercased()
        guard !prefix.isEmpty, prefix.count <= 36,
              prefix.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x2D }) else {
            throw FilterError(kind.rawValue, "\(kind.rawValue) must be a \(kind.rawValue) id or the start of one (hex digits and -)")
        }
        let found = try txn.ids(kind, prefix: prefix, limit: 21)
        switch found.count {
        case 0:
            throw FilterError(kind.rawValue, "no \(kind.rawValue) has that id" + (prefix.count < 36 ? " or starts with it" : ""))
        case 1:
            return found[0]
        default:
            if found.contains(prefix) { return prefix }
            let shown = found.count > 20 ? Array(found.prefix(20)) + ["…"] : found
            let count = found.count > 20 ? "more than 20" : String(found.count)
            throw FilterError(kind.rawValue, "that prefix is ambiguous: \(count) \(kind.rawValue) ids start with it; give more of the id",
                              validValues: shown)
        }
    }

    /// A stored id given whole or as a unique prefix (for host commands beside the log's, e.g.
    /// `refex consent list`). Throws `FilterError` as the log's filters do.
    package func resolveStoredID(_ text: String, _ kind: StoredIDKind) async throws -> String {
        try await store.read { txn in try Exchange.resolveID(text, kind, txn: txn) }
    }

    /// The shortest prefix (at least 8 characters) of each id that no other stored id of its kind
    /// shares: what tables show, and what filters take back.
    package func shortIDs(_ ids: Set<String>, _ kind: StoredIDKind) async throws -> [String: String] {
        try await store.read { txn in
            var out: [String: String] = [:]
            for id in ids {
                let (before, after) = try txn.idNeighbours(kind, of: id)
                let shared = [before, after].compactMap { $0 }.map { neighbour in
                    zip(id.utf8, neighbour.utf8).prefix { $0 == $1 }.count
                }.max() ?? 0
                out[id] = String(id.prefix(max(8, shared + 1)))
            }
            return out
        }
    }

    /// `refex log show`: one entry (by seq, or by disclosure id whole or a unique prefix) and the
    /// other entries of its referral.
    package func logEntry(_ key: String, by actor: Actor) async throws -> (entry: LogEntry, related: [LogEntry]) {
        let keyring = self.keyring
        let found = try await store.read { txn -> (LogEntry, [LogEntry]) in
            var entry: LogEntry?
            if let seq = Int64(key) {
                entry = try txn.logEntry(seq: seq)
            }
            // All digits can also start a disclosure id: a number with no entry is tried as one.
            if entry == nil, Int64(key) == nil || key.count >= 8 {
                var filter = LogFilter()
                filter.disclosureID = try Exchange.resolveID(key, .disclosure, txn: txn)
                entry = try txn.logEntries(filter, limit: 1).first
            }
            guard let found = entry else {
                let bounds = try txn.logBounds().map { "the log holds entries \($0.first) to \($0.last)" } ?? "the log is empty"
                throw FilterError("seq", "no entry has that seq (\(bounds))")
            }
            var related: [LogEntry] = []
            if let referral = found.draft.referralID {
                var filter = LogFilter()
                filter.referralID = referral
                related = try txn.logEntries(filter, limit: 10_000).filter { $0.seq != found.seq }
            }
            return (Exchange.revealed([found], keyring: keyring, txn: txn)[0], Exchange.revealed(related, keyring: keyring, txn: txn))
        }
        var filter = LogFilter()
        filter.referralID = found.0.draft.referralID
        try await recordViewing("show", filter: filter, extra: [("entry", .number(JSONNumber(found.0.seq)))], by: actor)
        return found
    }

    /// `refex log export`: every entry matching `filter`, in order, to `emit` (streamed, not held in memory).
    /// `start` is called once the filter is found good, before the first entry.
    package func exportLog(
        _ filter: LogFilter, knownPartners: [String] = [], by actor: Actor, start: @escaping @Sendable () -> Void = {},
        emit: @escaping @Sendable (LogEntry) -> Void
    ) async throws -> Int {
        let recipients = self.recipients.map(\.id)
        let keyring = self.keyring
        let (resolved, count) = try await store.read { txn -> (LogFilter, Int) in
            let resolved = try Exchange.resolve(filter, txn: txn, recipients: recipients, partners: knownPartners)
            start()
            var cursor = resolved
            var total = 0
            while true {
                let page = Exchange.revealed(try txn.logEntries(cursor, limit: 5000), keyring: keyring, txn: txn)
                for entry in page { emit(entry) }
                total += page.count
                guard page.count == 5000, let last = page.last else { return (resolved, total) }
                if cursor.newestFirst { cursor.beforeSeq = last.seq } else { cursor.afterSeq = last.seq }
            }
        }
        try await recordViewing("export", filter: resolved, extra: [("entries", .number(JSONNumber(count)))], by: actor)
        return count
    }

    /// `refex log checkpoint`: the latest signed checkpoint.
    package func latestCheckpoint(by actor: Actor) async throws -> Checkpoint? {
        let checkpoint = try await store.read { txn in try txn.latestCheckpoint() }
        try await recordViewing("checkpoint", filter: nil, by: actor)
        return checkpoint
    }

    /// `refex log verify` and `GET /v1/disclosures/verify`: recomputes the chain and checks every
    /// checkpoint (signatures with `publicKey` when given), plus a checkpoint an auditor kept.
    ///
    /// A pruned log must have been pruned as retention allows: at a signed checkpoint made more
    /// than `logRetention` ago. Without a log retention, any pruning is a failure: whoever can
    /// write the store could otherwise delete history by claiming it was pruned.
    /// `recordsReading` false only for `refex store migrate`, whose check of a copy it has just
    /// made must leave that copy's log as the original's.
    package func verifyLog(
        publicKey: Ed25519PublicKey?, kept: Checkpoint?, logRetention: Duration?, by actor: Actor, recordsReading: Bool = true
    ) async throws -> LogVerificationReport {
        let report = try await store.read { txn -> LogVerificationReport in
            let stored = try txn.checkpoints()
            var all = stored
            if let kept { all.append(kept) }
            var failure: LogVerificationFailure?
            if let publicKey {
                if let bad = all.first(where: { !$0.isSigned(by: publicKey) }) {
                    failure = LogVerificationFailure(seq: bad.seq, reason: "the checkpoint at entry \(bad.seq) is not signed by the given key")
                }
            }
            let anchor = try txn.logAnchor()
            if failure == nil, let anchor, let anchorCheckpoint = stored.first(where: { $0.seq == anchor.seq }) {
                let allowed = logRetention.map { txn.now.milliseconds - $0.wholeMilliseconds } ?? Int64.min
                if anchorCheckpoint.time.milliseconds >= allowed {
                    failure = LogVerificationFailure(
                        seq: anchor.seq,
                        reason: logRetention == nil
                            ? "entries up to \(anchor.seq) were removed, but no log retention is configured (with --store, verify with the --config that sets it): history was deleted"
                            : "entries up to \(anchor.seq) were removed before the log retention allows (checkpoint \(anchor.seq) was signed at \(anchorCheckpoint.time)): history was deleted"
                    )
                }
            }
            var verifier = LogVerifier(checkpoints: stored, kept: kept, anchor: anchor)
            if failure == nil, verifier.failure == nil {
                verifier = try LogVerification.run(txn, from: anchor, verifier: verifier)
            }
            failure = failure ?? verifier.failure
            let lastCheckpoint = stored.last { $0.seq <= verifier.lastSeq }
            return LogVerificationReport(
                entries: verifier.count, lastSeq: verifier.lastSeq, lastHash: verifier.lastHash,
                checkpointsChecked: all.count, signaturesChecked: publicKey != nil, lastCheckpoint: lastCheckpoint,
                prunedThrough: anchor?.seq, keptCheckpointPruned: kept.map { kept in anchor.map { kept.seq < $0.seq } ?? false } ?? false,
                failure: failure
            )
        }
        // The entry is where the last verification is kept (the console's overview reads it back).
        if recordsReading {
            try await recordViewing("verify", filter: nil, extra: [
                ("valid", .bool(report.isValid)), ("entries", .number(JSONNumber(report.entries))), ("lastSeq", .number(JSONNumber(report.lastSeq))),
            ], by: actor)
        }
        return report
    }
}
