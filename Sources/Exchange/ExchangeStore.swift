/// Where the exchange keeps its state. One protocol, so that SQLite (one node) and PostgreSQL
/// (several) can both serve it.
package protocol ExchangeStore: Sendable {
    /// Runs `body` inside a write transaction and returns once the transaction is durably
    /// committed. Concurrent writes share commits (group commit). If `body` throws, its changes
    /// are rolled back and the error is rethrown; other writes in the same commit are unaffected.
    func write<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result
}

/// The operations available inside a write transaction. Called on the store's writer only.
package protocol StoreTransaction: AnyObject {
    /// The transaction's clock reading (one per write, so that its records and log entries agree).
    var now: Timestamp { get }

    func insertSubject(_ subject: SubjectRecord, key: WrappedSubjectKey) throws
    func subject(id: String) throws -> SubjectRecord?
    func subjectKey(subjectID: String) throws -> WrappedSubjectKey?
    func setRestricted(subjectID: String, _ restricted: Bool) throws

    func insertReferral(_ referral: ReferralRecord) throws
    /// Stores the first answer given for a referral (returned again to an identical resubmission).
    func setReceipt(referralID: String, _ receipt: [UInt8]) throws
    func referral(id: String) throws -> ReferralRecord?
    func referral(partnerID: String, referenceKey: [UInt8]) throws -> ReferralRecord?
    func referrals(subjectID: String) throws -> [ReferralRecord]

    func insertConsent(_ consent: ConsentRecord) throws
    func consent(id: String) throws -> ConsentRecord?
    func consents(subjectID: String) throws -> [ConsentRecord]
    func markConsentWithdrawn(id: String, at time: Timestamp) throws

    func insertDisclosure(_ disclosure: DisclosureRecord) throws
    func updateDisclosure(_ disclosure: DisclosureRecord) throws
    func disclosure(id: String) throws -> DisclosureRecord?
    func disclosures(referralID: String) throws -> [DisclosureRecord]
    func disclosures(subjectID: String) throws -> [DisclosureRecord]

    /// Puts an authorised disclosure in the outbox for delivery.
    func enqueue(disclosureID: String, recipientID: String, at time: Timestamp) throws
    /// Takes it out (cancelled, delivered, failed).
    func dequeue(disclosureID: String) throws

    /// Appends to the hash chain; returns the sealed entry.
    @discardableResult
    func appendLog(_ draft: LogEntryDraft) throws -> LogEntry

    /// Crypto-shreds the subject: deletes its key and every sealed body and detail, marks it erased.
    func eraseSubject(id: String, at time: Timestamp) throws
}
