import Crypto
import JSON

extension Exchange {
    /// Records that `actor` read the log (the watchers are watched). A filter value is recorded
    /// only when it names something refex knows (a subject, referral or disclosure that exists,
    /// a known event, basis, recipient or actor): whatever else was typed into a filter (a
    /// person's name, say) must not enter a log that is never deleted.
    private func recordViewing(_ action: String, filter: LogFilter?, extra: [(String, JSONValue)] = [], by actor: Actor) async throws {
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
            try txn.appendLog(LogEntryDraft(
                event: .logViewed, actor: actor.id, referralID: recorded(known?.referralID), subjectID: recorded(known?.subjectID), details: details
            ))
        }
    }

    /// What a `log.viewed` entry holds in place of a filter value that named nothing refex knows.
    package static let unrecordedFilterValue = "(unknown: not recorded)"

    /// `refex log list` and `GET /v1/disclosures`: entries matching `filter`, oldest first, paged by `afterSeq`.
    package func logEntries(_ filter: LogFilter, limit: Int, by actor: Actor) async throws -> [LogEntry] {
        let page = max(1, min(limit, 10_000))
        let keyring = self.keyring
        let entries = try await store.read { txn in Exchange.revealed(try txn.logEntries(filter, limit: page), keyring: keyring, txn: txn) }
        try await recordViewing("list", filter: filter, by: actor)
        return entries
    }

    /// `refex log show`: one entry (by seq or disclosure id) and the other entries of its referral.
    package func logEntry(_ key: String, by actor: Actor) async throws -> (entry: LogEntry, related: [LogEntry]) {
        let keyring = self.keyring
        let found = try await store.read { txn -> (LogEntry, [LogEntry])? in
            var entry: LogEntry?
            if let seq = Int64(key) {
                entry = try txn.logEntry(seq: seq)
            } else {
                var filter = LogFilter()
                filter.disclosureID = key
                entry = try txn.logEntries(filter, limit: 1).first
            }
            guard let found = entry else { return nil }
            var related: [LogEntry] = []
            if let referral = found.draft.referralID {
                var filter = LogFilter()
                filter.referralID = referral
                related = try txn.logEntries(filter, limit: 10_000).filter { $0.seq != found.seq }
            }
            return (Exchange.revealed([found], keyring: keyring, txn: txn)[0], Exchange.revealed(related, keyring: keyring, txn: txn))
        }
        guard let found else { throw ExchangeError(.notFound, "There is no log entry \(key).") }
        var filter = LogFilter()
        filter.referralID = found.0.draft.referralID
        try await recordViewing("show", filter: filter, extra: [("entry", .number(JSONNumber(found.0.seq)))], by: actor)
        return found
    }

    /// `refex log export`: every entry matching `filter`, in order, to `emit` (streamed, not held in memory).
    package func exportLog(_ filter: LogFilter, by actor: Actor, emit: @escaping @Sendable (LogEntry) -> Void) async throws -> Int {
        let keyring = self.keyring
        let count = try await store.read { txn -> Int in
            var cursor = filter
            var total = 0
            while true {
                let page = Exchange.revealed(try txn.logEntries(cursor, limit: 5000), keyring: keyring, txn: txn)
                for entry in page { emit(entry) }
                total += page.count
                guard page.count == 5000, let last = page.last else { return total }
                cursor.afterSeq = last.seq
            }
        }
        try await recordViewing("export", filter: filter, extra: [("entries", .number(JSONNumber(count)))], by: actor)
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
    package func verifyLog(
        publicKey: Ed25519PublicKey?, kept: Checkpoint?, logRetention: Duration?, by actor: Actor
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
                let allowed = logRetention.map { txn.now.milliseconds - $0.milliseconds } ?? Int64.min
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
        try await recordViewing("verify", filter: nil, extra: [("valid", .bool(report.isValid))], by: actor)
        return report
    }
}
