extension Exchange {
    /// Withholds `disclosure` for `reason` inside `txn`, as `DisclosureRule` decided: out of the
    /// outbox if it was queued, left in the reason's state, and logged `disclosure.withheld` by
    /// `actor`. One left waiting for a consent no longer stands on the basis it was authorised
    /// on (the entry records which it was): it has no authoriser until a consent or an override
    /// authorises it again.
    static func withhold(_ disclosure: inout DisclosureRecord, for reason: WithholdingReason, actor: String, txn: any StoreTransaction) throws {
        if disclosure.state == .queued { try txn.dequeue(id: disclosure.id) }
        disclosure.state = reason.state
        disclosure.reason = reason.rawValue
        disclosure.updatedAt = txn.now
        try txn.appendLog(LogEntryDraft(.disclosureWithheld, disclosure: disclosure, actor: actor, reason: reason.rawValue))
        if reason.state == .awaitingConsent {
            disclosure.lawfulBasis = nil
            disclosure.consentID = nil
        }
        try txn.updateDisclosure(disclosure)
    }
}
