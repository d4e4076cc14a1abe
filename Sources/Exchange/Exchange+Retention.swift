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
    /// Cancelled, it ends between subjects with `CancellationError` (each erasure is its own
    /// commit; the next run carries on).
    package func runRetention(_ policy: RetentionPolicy, by actor: Actor = .system) async throws -> RetentionReport {
        var erasedSubjects = 0
        if let keep = policy.referrals {
            while true {
                let due = try await store.read { txn in
                    try txn.subjectsLastReferred(before: Timestamp(milliseconds: txn.now.milliseconds - keep.wholeMilliseconds), limit: 100)
                }
                if due.isEmpty { break }
                for subject in due {
                    try Task.checkCancellation()
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
        return RetentionReport(subjectsErased: erasedSubjects, consentDetailsErased: consentDetails, logPrunedThrough: prunedThrough)
    }

    /// `refex retention status`: for each kind, the retention and when the next item is due.
    package func retentionStatus(_ policy: RetentionPolicy) async throws -> RetentionStatus {
        try await store.read { txn in
            func kind(_ keep: Duration?, _ oldest: Timestamp?) -> RetentionStatus.Kind {
                guard let keep else { return .forever }
                let due = oldest.map { Timestamp(milliseconds: $0.milliseconds + keep.wholeMilliseconds) }
                return .kept(retention: keep, nextDue: due, overdue: due.map { $0 <= txn.now } ?? false)
            }
            return RetentionStatus(
                referrals: kind(policy.referrals, try txn.earliestLastReferral()),
                consents: kind(policy.consents, try txn.earliestConsentDetails()),
                log: kind(policy.log, try txn.earliestLogTime()),
                logAnchor: (try txn.logAnchor()).map { ($0.seq, $0.hash) }
            )
        }
    }
}
