import JSON

/// The answer to `POST /v1/consents/{id}/withdraw`: what withdrawing the consent did. Stored and
/// replayed like `ReferralReceipt` (a repeat gets `firstAnswer` back unchanged).
package struct ConsentWithdrawal: Sendable, Hashable {
    /// What still makes holding the subject's data lawful after the withdrawal (so it was not erased).
    package enum Ground: Sendable, Hashable {
        /// The subject's processing is restricted (UK GDPR Art. 18): kept, not used.
        case restriction
        /// Another consent in force.
        case consent(id: String, purposes: [String])
        /// A disclosure authorised on a basis other than consent, queued, delivered or failed.
        case disclosure(basis: LawfulBasis, disclosureID: String, recipientID: String?, service: String)
    }

    /// A disclosure that another consent in force also covers: it stands on that one from now.
    package struct Kept: Sendable, Hashable {
        package var disclosureID: String
        package var recipientID: String?
        package var service: String
        package var consentID: String?
    }

    package var consentID: String
    package var subjectID: String
    package var withdrawnAt: Timestamp
    /// Withdrawn because the subject withdrew altogether (`POST /v1/subjects/{id}/withdraw`).
    package var withSubject = false
    package var erased: Bool
    /// When the subject's data was erased by this withdrawal.
    package var erasedAt: Timestamp?
    /// Why the data was kept (empty when it was erased).
    package var retainedBecause: [Ground] = []
    /// The disclosures stopped before they went.
    package var cancelled: [DisclosureSummary]
    /// The erasure notices queued for recipients that received data under the consent.
    package var notices: [NoticeSummary]
    /// Nil for a withdrawal with the subject (none can be kept: every consent goes).
    package var keptUnderAnotherConsent: [Kept]?
    /// On a repeat, the first answer as stored; nil on the first answer.
    package var firstAnswer: JSONValue?

    package var isRepeat: Bool { firstAnswer != nil }

    package init(
        consentID: String, subjectID: String, withdrawnAt: Timestamp, withSubject: Bool = false, erased: Bool, erasedAt: Timestamp?,
        retainedBecause: [Ground] = [], cancelled: [DisclosureSummary], notices: [NoticeSummary], keptUnderAnotherConsent: [Kept]?
    ) {
        self.consentID = consentID
        self.subjectID = subjectID
        self.withdrawnAt = withdrawnAt
        self.withSubject = withSubject
        self.erased = erased
        self.erasedAt = erasedAt
        self.retainedBecause = retainedBecause
        self.cancelled = cancelled
        self.notices = notices
        self.keptUnderAnotherConsent = keptUnderAnotherConsent
    }

    /// The stored form, which is also the partner's body. `erasureNotices` (the recipients told)
    /// is kept beside `notices` for partners that read it.
    package var json: JSONValue {
        var body: JSONObject = ["id": .string(consentID), "subjectId": .string(subjectID), "withdrawnAt": .string(withdrawnAt.description)]
        if withSubject { body["withSubject"] = true }
        body["erased"] = .bool(erased)
        if erased {
            if let erasedAt { body["erasedAt"] = .string(erasedAt.description) }
        } else {
            body["retainedBecause"] = .array(retainedBecause.map(\.json))
        }
        body["cancelled"] = .array(cancelled.map(\.json))
        body["erasureNotices"] = .array(notices.map { .string($0.recipientID) })
        body["notices"] = .array(notices.map(\.json))
        if let keptUnderAnotherConsent {
            body["keptUnderAnotherConsent"] = .array(keptUnderAnotherConsent.map { kept in
                [
                    "disclosureId": .string(kept.disclosureID), "recipient": kept.recipientID.map { .string($0) } ?? .null,
                    "service": .string(kept.service), "consentId": kept.consentID.map { .string($0) } ?? .null,
                ]
            })
        }
        return .object(body)
    }

    /// A stored answer read back (or the answer for a consent withdrawn by an older refex, which
    /// kept none). The ids, the time and whether the subject was erased are taken from `known`
    /// when the stored form lacks them; a member that may be absent reads as absent (no erasure
    /// time, no grounds, nothing kept).
    init(stored: JSONValue, known: ConsentWithdrawal) {
        self = known
        consentID = stored["id"]?.stringValue ?? known.consentID
        subjectID = stored["subjectId"]?.stringValue ?? known.subjectID
        withdrawnAt = stored["withdrawnAt"]?.stringValue.flatMap(Timestamp.init(rfc3339:)) ?? known.withdrawnAt
        withSubject = stored["withSubject"]?.boolValue ?? false
        erased = stored["erased"]?.boolValue ?? known.erased
        erasedAt = stored["erasedAt"]?.stringValue.flatMap(Timestamp.init(rfc3339:))
        retainedBecause = stored["retainedBecause"]?.arrayValue?.compactMap(Ground.init(json:)) ?? []
        cancelled = stored["cancelled"]?.arrayValue?.compactMap(DisclosureSummary.init(json:)) ?? []
        notices = stored["notices"]?.arrayValue?.compactMap(NoticeSummary.init(json:)) ?? []
        keptUnderAnotherConsent = stored["keptUnderAnotherConsent"]?.arrayValue.map { items in
            items.compactMap { item in
                item["disclosureId"]?.stringValue.flatMap { id in
                    item["service"]?.stringValue.map { Kept(disclosureID: id, recipientID: item["recipient"]?.stringValue, service: $0, consentID: item["consentId"]?.stringValue) }
                }
            }
        }
        firstAnswer = stored
    }
}

extension ConsentWithdrawal.Ground {
    var json: JSONValue {
        switch self {
        case .restriction:
            ["basis": "restriction", "article": "UK GDPR Art. 18"]
        case .consent(let id, let purposes):
            ["basis": "consent", "consentId": .string(id), "purposes": .array(purposes.map { .string($0) })]
        case .disclosure(let basis, let disclosureID, let recipientID, let service):
            [
                "basis": .string(basis.rawValue), "disclosureId": .string(disclosureID),
                "recipient": recipientID.map { .string($0) } ?? .null, "service": .string(service),
            ]
        }
    }

    init?(json: JSONValue) {
        switch json["basis"]?.stringValue {
        case "restriction": self = .restriction
        case "consent":
            guard let id = json["consentId"]?.stringValue else { return nil }
            self = .consent(id: id, purposes: json["purposes"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        case let text?:
            guard let basis = LawfulBasis(rawValue: text), let id = json["disclosureId"]?.stringValue,
                  let service = json["service"]?.stringValue else { return nil }
            self = .disclosure(basis: basis, disclosureID: id, recipientID: json["recipient"]?.stringValue, service: service)
        case nil: return nil
        }
    }
}

/// The answer to `POST /v1/subjects/{id}/withdraw`: the subject left the service. Stored and
/// replayed like `ReferralReceipt` (a repeat gets `firstAnswer` back unchanged).
package struct SubjectWithdrawal: Sendable, Hashable {
    package var subjectID: String
    package var withdrawnAt: Timestamp
    package var consentsWithdrawn: [String]
    package var cancelled: [DisclosureSummary]
    package var notices: [NoticeSummary]
    /// When the subject was erased: the same moment (a withdrawal always erases).
    package var erasedAt: Timestamp
    /// On a repeat, the first answer as stored; nil on the first answer.
    package var firstAnswer: JSONValue?

    package init(
        subjectID: String, withdrawnAt: Timestamp, consentsWithdrawn: [String], cancelled: [DisclosureSummary], notices: [NoticeSummary],
        erasedAt: Timestamp
    ) {
        self.subjectID = subjectID
        self.withdrawnAt = withdrawnAt
        self.consentsWithdrawn = consentsWithdrawn
        self.cancelled = cancelled
        self.notices = notices
        self.erasedAt = erasedAt
    }

    package var isRepeat: Bool { firstAnswer != nil }

    /// The stored form, which is also the partner's body.
    package var json: JSONValue {
        [
            "subjectId": .string(subjectID),
            "withdrawnAt": .string(withdrawnAt.description),
            "consentsWithdrawn": .array(consentsWithdrawn.map { .string($0) }),
            "cancelled": .array(cancelled.map(\.json)),
            "erasureNotices": .array(notices.map { .string($0.recipientID) }),
            "notices": .array(notices.map(\.json)),
            "erased": true,
            "erasedAt": .string(erasedAt.description),
        ]
    }

    /// A stored answer read back; what it lacks is taken from `known`.
    init(stored: JSONValue, known: SubjectWithdrawal) {
        self.init(
            subjectID: stored["subjectId"]?.stringValue ?? known.subjectID,
            withdrawnAt: stored["withdrawnAt"]?.stringValue.flatMap(Timestamp.init(rfc3339:)) ?? known.withdrawnAt,
            consentsWithdrawn: stored["consentsWithdrawn"]?.arrayValue?.compactMap(\.stringValue) ?? known.consentsWithdrawn,
            cancelled: stored["cancelled"]?.arrayValue?.compactMap(DisclosureSummary.init(json:)) ?? known.cancelled,
            notices: stored["notices"]?.arrayValue?.compactMap(NoticeSummary.init(json:)) ?? known.notices,
            erasedAt: stored["erasedAt"]?.stringValue.flatMap(Timestamp.init(rfc3339:)) ?? known.erasedAt
        )
        firstAnswer = stored
    }
}
