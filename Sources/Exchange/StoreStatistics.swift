/// Counts over the whole store, for metrics: ids and numbers only.
package struct StoreStatistics: Sendable, Hashable {
    /// Referrals ever received (referral rows are never deleted; erasure removes their bodies).
    package var referrals: Int
    /// Disclosures by state (`queued`, `awaiting-consent`, …); a state with none is absent.
    package var disclosuresByState: [String: Int]

    package init(referrals: Int, disclosuresByState: [String: Int]) {
        self.referrals = referrals
        self.disclosuresByState = disclosuresByState
    }
}

/// What the metrics show of the exchange's state at one moment.
package struct ExchangeSnapshot: Sendable, Hashable {
    package var statistics: StoreStatistics
    /// The disclosure log's head: its seq is the number of entries ever appended.
    package var logHeadSeq: Int64
    /// The newest signed checkpoint's seq and time, if any.
    package var lastCheckpointSeq: Int64?
    package var lastCheckpointTime: Timestamp?
}

extension Exchange {
    /// Counts for `/metrics`, read in one snapshot beside the writer.
    package func snapshot() async throws -> ExchangeSnapshot {
        try await store.read { txn in
            let checkpoint = try txn.latestCheckpoint()
            return ExchangeSnapshot(
                statistics: try txn.statistics(), logHeadSeq: try txn.logBounds()?.last ?? txn.logAnchor()?.seq ?? 0,
                lastCheckpointSeq: checkpoint?.seq, lastCheckpointTime: checkpoint?.time
            )
        }
    }
}
