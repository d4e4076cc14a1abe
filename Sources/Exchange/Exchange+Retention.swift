import JSON
import Timekeeping

/// How long refex keeps each kind of data (nil: for ever).
package struct RetentionPolicy: Sendable, Hashable {
    /// A subject is erased this long after their last referral.
    package var referrals: Duration?
    /// A consent's details (who obtained it, notes) are erased this long after it ended.
    package var consents: Duration?
    /// Log entries older than this are removed, up to the last signed checkpoint before then
    /// (the log keeps verifying from that checkpoint). Keep it longer than the others.
    package var log: Duration?

    package init(referrals: Duration? = nil, consents: Duration? = nil, log: Duration? = nil) {
        self.referrals = referrals
        self.consents = consents
        self.log = log
    }
}

extension Exchange {
    /// Runs the purge: erases subjects past retention (logged `subject.erased`, reason
    /// `retention`, with erasure notices), consent details past retention, and old log entries.
    package func runRetention(_ policy: RetentionPolicy, by actor: Actor = .system) async throws -> JSONValue {
        var erasedSubjects = 0
        if let keep = policy.referrals {
            while true {
                let due = try await store.read { txn in
                    try txn.subjectsLastReferred(before: Timestamp(milliseconds: txn.now.milliseconds - keep.wholeMilliseconds), limit: 100)
                }
                if due.isEmpty { break }
                for subject in due {
                    _ = try await eraseSubject(subject, reason: "retention", by: actor)
                    erasedSubjects += 1
                }
            }
        }
        var consentDetails = 0
        if let keep = policy.consents {
            consentDetails = try await store.write { txn in
                try txn.eraseConsentDetails(endedBefore: Timestamp(milliseconds: txn.now.milliseconds - keep.wholeMilliseconds))
            }
        }
        var prunedThrough: Int64?
        if let keep = policy.log {
            prunedThrough = try await store.write { txn -> Int64? in
                let cutoff = txn.now.milliseconds - keep.wholeMilliseconds
                // The newest checkpoint signed before the cutoff: prune up to it, no further. (Its
                // signed time is what `log verify` checks the pruning against.)
                guard let anchor = try txn.checkpoints().last(where: { $0.time.milliseconds < cutoff }),
                      anchor.seq > (try txn.logAnchor()?.seq ?? 0) else { return nil }
                try txn.pruneLog(through: anchor.seq, hash: anchor.hash)
                return anchor.seq
            }
        }
        return [
            "subjectsErased": .number(JSONNumber(erasedSubjects)),
            "consentDetailsErased": .number(JSONNumber(consentDetails)),
            "logPrunedThrough": prunedThrough.map { .number(JSONNumber($0)) } ?? .null,
        ]
    }

    /// `refex retention status`: for each kind, the retention and when the next item is due.
    package func retentionStatus(_ policy: RetentionPolicy) async throws -> JSONValue {
        try await store.read { txn in
            func entry(_ keep: Duration?, _ oldest: Timestamp?) -> JSONValue {
                guard let keep else { return ["retention": "forever"] }
                let days = Double(keep.wholeMilliseconds) / 86_400_000
                let due = oldest.map { Timestamp(milliseconds: $0.milliseconds + keep.wholeMilliseconds) }
                return [
                    "retentionDays": .number(JSONNumber(days)),
                    "nextDue": due.map { .string($0.description) } ?? .null,
                    "overdue": .bool(due.map { $0 <= txn.now } ?? false),
                ]
            }
            return [
                "referrals": entry(policy.referrals, try txn.earliestLastReferral()),
                "consents": entry(policy.consents, try txn.earliestConsentDetails()),
                "log": entry(policy.log, try txn.earliestLogTime()),
                "logAnchor": (try txn.logAnchor()).map { ["seq": .number(JSONNumber($0.seq)), "hash": .string($0.hash)] } ?? .null,
            ]
        }
    }
}
