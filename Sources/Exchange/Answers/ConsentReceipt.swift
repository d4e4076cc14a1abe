import JSON

/// The answer to `POST /v1/consents` (201): the consent's id and the disclosures it released.
/// Stored and replayed like `ReferralReceipt` (a repeat gets `firstAnswer` back unchanged).
package struct ConsentReceipt: Sendable, Hashable {
    package var id: String
    package var referralID: String
    package var subjectID: String
    package var recordedAt: Timestamp
    /// The disclosures this consent let go, now queued.
    package var released: [DisclosureSummary]
    /// On a repeat, the first answer as stored; nil on the first answer.
    package var firstAnswer: JSONValue?

    package init(id: String, referralID: String, subjectID: String, recordedAt: Timestamp, released: [DisclosureSummary]) {
        self.id = id
        self.referralID = referralID
        self.subjectID = subjectID
        self.recordedAt = recordedAt
        self.released = released
    }

    package var isRepeat: Bool { firstAnswer != nil }

    /// The stored form, which is also the partner's body.
    package var json: JSONValue {
        [
            "id": .string(id),
            "referralId": .string(referralID),
            "subjectId": .string(subjectID),
            "recordedAt": .string(recordedAt.description),
            "released": .array(released.map(\.json)),
        ]
    }

    /// A stored receipt read back; what it lacks is taken from `known` (the consent's record).
    init(stored: JSONValue, known: ConsentReceipt) {
        self.init(
            id: stored["id"]?.stringValue ?? known.id, referralID: stored["referralId"]?.stringValue ?? known.referralID,
            subjectID: stored["subjectId"]?.stringValue ?? known.subjectID,
            recordedAt: stored["recordedAt"]?.stringValue.flatMap(Timestamp.init(rfc3339:)) ?? known.recordedAt,
            released: stored["released"]?.arrayValue?.compactMap(DisclosureSummary.init(json:)) ?? known.released
        )
        firstAnswer = stored
    }
}

/// The answer to `GET /v1/consents/{id}`: the record, its state now, and (for an admin who asks)
/// its sealed details.
package struct ConsentView: Sendable, Hashable {
    /// `in-force`, `expired`, `withdrawn`, or `erased` (never withdrawn, but its subject is gone).
    package enum State: String, Sendable, Hashable {
        case inForce = "in-force", expired, withdrawn, erased
    }

    /// The sealed details (who obtained it, notes), when asked for.
    package enum Details: Sendable, Hashable {
        /// Not asked for: the answer has no `details` member.
        case notAsked
        /// Opened: the sealed JSON object as recorded.
        case shown(JSONValue)
        /// Asked for, but erased (retention, or the subject's erasure).
        case erased
    }

    package var record: ConsentRecord
    package var state: State
    package var details: Details
}
