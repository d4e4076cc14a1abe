import JSON

/// The answer to `POST /v1/referrals` (202): the referral's id and status, and one summary per
/// intended disclosure.
///
/// Receipts are stored: a repeat of the same referral (same `referenceId`, same body) gets the
/// first answer again, byte for byte (DESIGN.md). The stored form is the rendered JSON (`json`),
/// kept in Exchange because the commit writes it; a repeat reads it back into the typed fields
/// and keeps it whole in `firstAnswer`, which the HTTP layer returns unchanged, so that a receipt
/// stored by an earlier refex (which may have had other members) replays as it was.
package struct ReferralReceipt: Sendable, Hashable {
    package var id: String
    /// `Exchange.referralStatus`: `in-progress`, `awaiting-consent`, `delivered`, …
    package var status: String
    package var subjectID: String
    package var receivedAt: Timestamp
    package var disclosures: [DisclosureSummary]
    /// On a repeat, the first answer as stored; nil on the first answer.
    package var firstAnswer: JSONValue?

    package init(id: String, status: String, subjectID: String, receivedAt: Timestamp, disclosures: [DisclosureSummary]) {
        self.id = id
        self.status = status
        self.subjectID = subjectID
        self.receivedAt = receivedAt
        self.disclosures = disclosures
    }

    /// True for a repeat of an earlier submission.
    package var isRepeat: Bool { firstAnswer != nil }

    /// The stored form, which is also the partner's body.
    package var json: JSONValue {
        [
            "id": .string(id),
            "status": .string(status),
            "subjectId": .string(subjectID),
            "receivedAt": .string(receivedAt.description),
            "disclosures": .array(disclosures.map(\.json)),
        ]
    }

    /// A stored receipt read back; what it lacks is taken from `known` (the referral's record).
    init(stored: JSONValue, known: ReferralReceipt) {
        self.init(
            id: stored["id"]?.stringValue ?? known.id, status: stored["status"]?.stringValue ?? known.status,
            subjectID: stored["subjectId"]?.stringValue ?? known.subjectID,
            receivedAt: stored["receivedAt"]?.stringValue.flatMap(Timestamp.init(rfc3339:)) ?? known.receivedAt,
            disclosures: stored["disclosures"]?.arrayValue?.compactMap(DisclosureSummary.init(json:)) ?? known.disclosures
        )
        firstAnswer = stored
    }
}

/// The answer to `GET /v1/referrals/{id}`: the referral's state and each disclosure's.
package struct ReferralView: Sendable, Hashable {
    package var id: String
    package var status: String
    package var schemaID: String
    package var subjectID: String
    package var receivedAt: Timestamp
    package var disclosures: [DisclosureDetail]
    /// When the subject was erased; nil while their data is held.
    package var erasedAt: Timestamp?
}
