import JSON

/// One disclosure as an answer lists it: which recipient, for which service, where it stands.
package struct DisclosureSummary: Sendable, Hashable {
    package var id: String
    /// Nil when no recipient provides the service.
    package var recipientID: String?
    package var service: String
    package var state: DisclosureState
    /// Why it was withheld, cancelled or failed (a `WithholdingReason` or a delivery reason).
    package var reason: String?

    package init(id: String, recipientID: String?, service: String, state: DisclosureState, reason: String?) {
        self.id = id
        self.recipientID = recipientID
        self.service = service
        self.state = state
        self.reason = reason
    }

    package init(_ disclosure: DisclosureRecord) {
        self.init(id: disclosure.id, recipientID: disclosure.recipientID, service: disclosure.service, state: disclosure.state, reason: disclosure.reason)
    }

    /// The summary as receipts store it (`id`, `recipient`, `service`, `state`, `reason` when set).
    /// In Exchange, not the HTTP layer, because receipts are stored rendered (see `ReferralReceipt`).
    package var json: JSONValue {
        var object: JSONObject = [
            "id": .string(id),
            "recipient": recipientID.map { .string($0) } ?? .null,
            "service": .string(service),
            "state": .string(state.rawValue),
        ]
        if let reason { object["reason"] = .string(reason) }
        return .object(object)
    }

    /// Read back from a stored receipt; nil for anything that is not a summary.
    package init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, let service = json["service"]?.stringValue,
              let state = json["state"]?.stringValue.flatMap(DisclosureState.init(rawValue:)) else { return nil }
        self.init(id: id, recipientID: json["recipient"]?.stringValue, service: service, state: state, reason: json["reason"]?.stringValue)
    }
}

/// A disclosure in full, as a referral's status, an override and a subject export show it: the
/// summary, its basis, who authorised (or asked for) it, what it carries, and the justification of
/// an override as its readers may see it now (nil once erased, or for none).
package struct DisclosureDetail: Sendable, Hashable {
    package var summary: DisclosureSummary
    package var lawfulBasis: LawfulBasis?
    package var consentID: String?
    package var justification: String?
    /// Who authorised it when it has a lawful basis; otherwise who asked for it.
    package var actor: String
    package var pointers: [String]
    package var categories: [String]
    package var updatedAt: Timestamp

    package init(_ disclosure: DisclosureRecord, justification: String?) {
        summary = DisclosureSummary(disclosure)
        lawfulBasis = disclosure.lawfulBasis
        consentID = disclosure.consentID
        self.justification = justification
        actor = disclosure.actor
        pointers = disclosure.pointers
        categories = disclosure.categories
        updatedAt = disclosure.updatedAt
    }

    /// Only a decision to disclose has an authoriser; one still waiting (or refused) was asked for.
    package var authorisedBy: String? { lawfulBasis != nil ? actor : nil }
}

/// An erasure notice queued for a recipient, as an answer lists it.
package struct NoticeSummary: Sendable, Hashable {
    package var id: String
    package var disclosureID: String
    package var recipientID: String
    package var reason: String

    package init(id: String, disclosureID: String, recipientID: String, reason: String) {
        self.id = id
        self.disclosureID = disclosureID
        self.recipientID = recipientID
        self.reason = reason
    }

    /// As receipts store it.
    package var json: JSONValue {
        ["id": .string(id), "disclosureId": .string(disclosureID), "recipient": .string(recipientID), "reason": .string(reason)]
    }

    package init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, let disclosureID = json["disclosureId"]?.stringValue,
              let recipientID = json["recipient"]?.stringValue, let reason = json["reason"]?.stringValue else { return nil }
        self.init(id: id, disclosureID: disclosureID, recipientID: recipientID, reason: reason)
    }
}
