/// A person a referral is about, known to the log only by a random pseudonymous id.
package struct SubjectRecord: Sendable, Hashable {
    package var id: String
    package var createdAt: Timestamp
    /// Processing restricted (UK GDPR Art. 18): no further disclosure.
    package var restricted: Bool
    package var erasedAt: Timestamp?
    /// The answer to the subject's leaving the service (`POST /v1/subjects/{id}/withdraw`),
    /// given again to a repeat; ids and times only.
    package var withdrawalReceipt: [UInt8]?

    package init(id: String, createdAt: Timestamp, restricted: Bool = false, erasedAt: Timestamp? = nil, withdrawalReceipt: [UInt8]? = nil) {
        self.id = id
        self.createdAt = createdAt
        self.restricted = restricted
        self.erasedAt = erasedAt
        self.withdrawalReceipt = withdrawalReceipt
    }
}

/// A subject's data key, wrapped (AES-256-GCM) under the master key.
package struct WrappedSubjectKey: Sendable, Hashable {
    package var subjectID: String
    package var wrapped: [UInt8]

    package init(subjectID: String, wrapped: [UInt8]) {
        self.subjectID = subjectID
        self.wrapped = wrapped
    }
}

/// A stored referral. The body is only ever stored sealed under the subject's key.
package struct ReferralRecord: Sendable, Hashable {
    package var id: String
    package var partnerID: String
    /// HMAC of the partner's referenceId: the idempotency key, without storing the reference itself.
    package var referenceKey: [UInt8]
    package var subjectID: String
    package var schemaID: String
    /// HMAC of the body's canonical (RFC 8785) form: tells a resubmission from a different body.
    package var bodyDigest: [UInt8]
    /// AES-256-GCM under the subject key; nil once erased.
    package var sealedBody: [UInt8]?
    package var receivedAt: Timestamp
    /// The first 202 answer, returned again for an identical resubmission (holds no personal data).
    package var receipt: [UInt8]

    package init(
        id: String, partnerID: String, referenceKey: [UInt8], subjectID: String, schemaID: String,
        bodyDigest: [UInt8], sealedBody: [UInt8]?, receivedAt: Timestamp, receipt: [UInt8]
    ) {
        self.id = id
        self.partnerID = partnerID
        self.referenceKey = referenceKey
        self.subjectID = subjectID
        self.schemaID = schemaID
        self.bodyDigest = bodyDigest
        self.sealedBody = sealedBody
        self.receivedAt = receivedAt
        self.receipt = receipt
    }
}

/// Consent recorded for a subject: what for, for whom, until when.
package struct ConsentRecord: Sendable, Hashable {
    package var id: String
    package var subjectID: String
    package var referralID: String
    package var partnerID: String
    /// Services consented to.
    package var purposes: [String]
    /// When set, only these recipients.
    package var recipients: [String]?
    package var method: String
    package var obtainedAt: Timestamp
    package var expiresAt: Timestamp?
    package var withdrawnAt: Timestamp?
    /// Who obtained it and any notes: personal data, sealed under the subject key; nil once erased.
    package var sealedDetails: [UInt8]?
    package var recordedAt: Timestamp
    /// Keyed digest of the consent document as posted: the same document again is the same consent.
    package var documentDigest: [UInt8]?
    /// The first answer to recording it, and to withdrawing it (ids and times only), given again to a repeat.
    package var receipt: [UInt8]?
    package var withdrawalReceipt: [UInt8]?

    package init(
        id: String, subjectID: String, referralID: String, partnerID: String, purposes: [String], recipients: [String]?,
        method: String, obtainedAt: Timestamp, expiresAt: Timestamp?, withdrawnAt: Timestamp?, sealedDetails: [UInt8]?,
        recordedAt: Timestamp, documentDigest: [UInt8]? = nil, receipt: [UInt8]? = nil, withdrawalReceipt: [UInt8]? = nil
    ) {
        self.documentDigest = documentDigest
        self.receipt = receipt
        self.withdrawalReceipt = withdrawalReceipt
        self.id = id
        self.subjectID = subjectID
        self.referralID = referralID
        self.partnerID = partnerID
        self.purposes = purposes
        self.recipients = recipients
        self.method = method
        self.obtainedAt = obtainedAt
        self.expiresAt = expiresAt
        self.withdrawnAt = withdrawnAt
        self.sealedDetails = sealedDetails
        self.recordedAt = recordedAt
    }

    /// Whether the consent is still a ground for processing at `time`: not withdrawn, not expired.
    package func isInForce(at time: Timestamp) -> Bool {
        guard withdrawnAt == nil else { return false }
        if let expiresAt, expiresAt <= time { return false }
        return true
    }

    /// Whether this consent lets `recipient` receive data for `service` at `time`.
    package func covers(service: String, recipient: String, at time: Timestamp) -> Bool {
        guard withdrawnAt == nil, purposes.contains(service) else { return false }
        if let expiresAt, expiresAt <= time { return false }
        if let recipients, !recipients.contains(recipient) { return false }
        return true
    }
}

/// One decision to disclose (or not) a referral to a recipient for a service.
package struct DisclosureRecord: Sendable, Hashable {
    package var id: String
    package var referralID: String
    package var subjectID: String
    /// nil when no recipient provides the service.
    package var recipientID: String?
    package var service: String
    package var state: DisclosureState
    package var lawfulBasis: LawfulBasis?
    package var consentID: String?
    /// For an override: the commitment (salted SHA-256, hex) to its justification, whose text is
    /// sealed under the subject key (`FreeText`) and goes with it on erasure.
    package var justificationDigest: String?
    /// A justification stored in plain text before it was sealed (older stores); cleared on erasure.
    package var legacyJustification: String?
    /// Who decided it. Queued, delivered, failed or cancelled after authorisation: who authorised
    /// it (the referring partner, whose recorded consent it relies on, or the override partner).
    /// Awaiting consent: who asked for it (the referring partner); nobody has authorised it yet.
    /// Refused: `system`.
    package var actor: String
    /// The JSON Pointers that go to the recipient, and the special categories among them.
    package var pointers: [String]
    package var categories: [String]
    /// Why it is withheld, refused, cancelled or failed; for a delivered one, why the recipient
    /// was sent an erasure notice (`consent-withdrawn`, `subject-erased`), nil if it was not.
    package var reason: String?
    package var createdAt: Timestamp
    package var updatedAt: Timestamp

    package init(
        id: String, referralID: String, subjectID: String, recipientID: String?, service: String, state: DisclosureState,
        lawfulBasis: LawfulBasis?, consentID: String?, justificationDigest: String?, actor: String, pointers: [String],
        categories: [String], reason: String?, createdAt: Timestamp, updatedAt: Timestamp, legacyJustification: String? = nil
    ) {
        self.legacyJustification = legacyJustification
        self.id = id
        self.referralID = referralID
        self.subjectID = subjectID
        self.recipientID = recipientID
        self.service = service
        self.state = state
        self.lawfulBasis = lawfulBasis
        self.consentID = consentID
        self.justificationDigest = justificationDigest
        self.actor = actor
        self.pointers = pointers
        self.categories = categories
        self.reason = reason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
