import JSON

/// The answer to `GET /v1/subjects/{id}/export` and `refex subject export` (UK GDPR Art. 15):
/// everything held about the subject, decrypted, with every disclosure of it and its log entries.
package struct SubjectExport: Sendable, Hashable {
    /// A referral about the subject, with its document when it can still be opened.
    package struct Referral: Sendable, Hashable {
        package var id: String
        package var partnerID: String
        package var schemaID: String
        package var receivedAt: Timestamp
        /// The referral as received (or as rectified); nil once erased.
        package var document: JSONValue?
    }

    /// A consent for the subject, with its sealed details when they can still be opened.
    package struct Consent: Sendable, Hashable {
        package var record: ConsentRecord
        /// Who obtained it and notes; nil once erased.
        package var details: JSONValue?
    }

    package var subjectID: String
    package var createdAt: Timestamp
    package var restricted: Bool
    package var erasedAt: Timestamp?
    package var referrals: [Referral]
    package var consents: [Consent]
    package var disclosures: [DisclosureDetail]
    /// Every log entry about the subject, free text revealed where it can still be.
    package var log: [LogEntry]
    package var exportedAt: Timestamp
}

/// The answer to `POST /v1/subjects/{id}/erase` and `refex subject erase` (UK GDPR Art. 17).
package struct ErasureOutcome: Sendable, Hashable {
    package var subjectID: String
    /// When the subject was erased: now, or earlier when `alreadyErased`.
    package var erasedAt: Timestamp
    /// Erased before: nothing was done or sent.
    package var alreadyErased: Bool
    /// The ids of the disclosures stopped before they went.
    package var cancelled: [String]
    /// The erasure notices queued for recipients that received data.
    package var notices: [NoticeSummary]
}

/// What erasing a subject would do, without doing it (`refex subject erase` shows it and asks).
package struct ErasurePreview: Sendable, Hashable {
    /// A recipient that will be sent an erasure notice.
    package struct Notice: Sendable, Hashable {
        package var recipientID: String
        package var disclosureID: String
        /// A failed attempt that may still have arrived.
        package var possiblyReceived: Bool
    }

    package var subjectID: String
    /// Set when the subject is already erased: nothing more would happen.
    package var erasedAt: Timestamp?
    package var referralIDs: [String]
    package var consentCount: Int
    /// The disclosures that would be cancelled.
    package var cancelled: [String]
    package var recipientsToBeTold: [Notice]
}

/// The answer to `POST /v1/subjects/{id}/restrict` and `/unrestrict` (UK GDPR Art. 18).
package struct RestrictionOutcome: Sendable, Hashable {
    package var subjectID: String
    package var restricted: Bool
    /// The disclosures withheld (restricting) or decided afresh (lifting); empty when the subject
    /// was already so.
    package var changed: [String]
}

/// The answer to `PATCH /v1/subjects/{id}` and `refex subject rectify` (UK GDPR Art. 16).
package struct RectificationOutcome: Sendable, Hashable {
    package var subjectID: String
    /// The JSON Pointers whose values changed, sorted.
    package var changed: [String]
    /// The recipients sent a rectification notice, one entry per notice.
    package var noticeRecipients: [String]
}
