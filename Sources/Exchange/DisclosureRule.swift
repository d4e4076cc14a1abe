import JSON

/// "May this disclosure go now, and on what basis?": the one answer that intake, recording
/// consent, an override, lifting or imposing a restriction, withdrawing a consent, rectification
/// and the re-check when data leaves (a push, a mailbox fetch, an operator's retry) all ask for.
///
/// Pure: it reads only what it is given, so that each caller gathers the facts from its own
/// transaction and every combination is tested in one table (`DisclosureRuleTests`).
/// Sources: UK GDPR Arts. 5(1)(c) (minimisation), 6(1) (lawful basis), 7(3) (withdrawal),
/// 17 (erasure), 18 (restriction).
package enum DisclosureRule {
    /// What the disclosure stands on when the question is asked.
    package enum Standing: Sendable, Hashable {
        /// Not authorised yet: a consent in force that covers it authorises it.
        case unauthorised
        /// Authorised on this recorded consent, which must still cover it; another consent does not stand in.
        case consent(id: String?)
        /// Authorised without consent on `basis` (an override), `justified` when a justification is on record.
        case override(LawfulBasis, justified: Bool)
        /// Recorded as authorised with no lawful basis (a damaged or hand-edited record).
        case noBasis

        /// What a stored disclosure stands on: its recorded basis. One waiting for consent or
        /// refused stands on no consent (one it was authorised on before it was withheld no
        /// longer holds it up); one meant to go with no basis recorded stands on nothing.
        package init(_ disclosure: DisclosureRecord) {
            let withheld = disclosure.state == .awaitingConsent || disclosure.state == .refused
            switch disclosure.lawfulBasis {
            case nil:
                self = withheld ? .unauthorised : .noBasis
            case .consent:
                self = withheld ? .unauthorised : .consent(id: disclosure.consentID)
            case let basis?:
                self = .override(basis, justified: disclosure.justificationDigest != nil || !(disclosure.legacyJustification ?? "").isEmpty)
            }
        }
    }

    /// The subject's state, as far as disclosure is concerned.
    package struct SubjectState: Sendable, Hashable {
        package var restricted: Bool
        package var erased: Bool

        package init(restricted: Bool = false, erased: Bool = false) {
            self.restricted = restricted
            self.erased = erased
        }

        /// A stored subject; nil (no such subject) counts as erased.
        package init(_ subject: SubjectRecord?) {
            self.init(restricted: subject?.restricted ?? false, erased: subject.map { $0.erasedAt != nil } ?? true)
        }
    }

    /// Decides. In order, the first that applies: the subject erased; no recipient (none
    /// configured provides `service`, or `configuration` no longer does); nothing to disclose
    /// (`pointers` empty: permanent, so it takes the place of anything that could pass); a field
    /// or special category `configuration` no longer allows; processing restricted;
    /// then the basis: a recorded consent that must still cover it (withdrawn, expired, missing,
    /// not covering), an override that needs a justification, or for an unauthorised disclosure
    /// the first of `consents` that covers `service` for the recipient at `time`.
    ///
    /// - Parameters:
    ///   - consents: the consents that may authorise an `unauthorised` disclosure (the subject's,
    ///     or only a newly recorded one), and among which a `consent(id:)` standing is looked up.
    ///   - recipientID: the recipient that provides `service`, nil when none is configured to.
    ///   - configuration: that recipient as configured now, when this process knows it (a host
    ///     command given only `--store` does not): a reload may have narrowed it since the
    ///     disclosure was decided. nil: its configuration is not checked.
    ///   - pointers: the JSON Pointers that would go to the recipient: what its configured
    ///     fields and categories select from the referral (`Minimiser`), or what was decided;
    ///     `categories`, the special categories among them.
    package static func decide(
        subject: SubjectState, consents: [ConsentRecord], recipientID: String?, configuration: Recipient?, service: String,
        standing: Standing, pointers: [String], categories: [String], at time: Timestamp
    ) -> DisclosureDecision {
        if subject.erased { return .withhold(.subjectErased) }
        guard let recipientID, configuration.map({ $0.services.contains(service) }) ?? true else {
            return .withhold(.noRecipient)
        }
        if pointers.isEmpty { return .withhold(.nothingToDisclose) }
        if let configuration {
            // The fields are parsed once for all the pointers, not once a pointer (on the store's writer, per disclosure).
            let patterns = FieldPatterns(configuration.fields)
            guard pointers.allSatisfy(patterns.allows) && categories.allSatisfy(configuration.categories.contains) else {
                return .withhold(.fieldsNotAllowed)
            }
        }
        if subject.restricted { return .withhold(.restricted) }
        switch standing {
        case .unauthorised:
            guard let consent = consents.first(where: { $0.covers(service: service, recipient: recipientID, at: time) }) else {
                return .withhold(.awaitingConsent)
            }
            return .disclose(basis: .consent, consentID: consent.id)
        case .consent(let id):
            guard let id, let consent = consents.first(where: { $0.id == id }) else { return .withhold(.consentMissing) }
            if consent.withdrawnAt != nil { return .withhold(.consentWithdrawn) }
            if let expiresAt = consent.expiresAt, expiresAt <= time { return .withhold(.consentExpired) }
            guard consent.covers(service: service, recipient: recipientID, at: time) else { return .withhold(.consentDoesNotCover) }
            return .disclose(basis: .consent, consentID: consent.id)
        case .override(let basis, let justified):
            guard basis != .consent else { return .withhold(.noLawfulBasis) }
            guard justified else { return .withhold(.noJustification) }
            return .disclose(basis: basis, consentID: nil)
        case .noBasis:
            return .withhold(.noLawfulBasis)
        }
    }
}

extension DisclosureRule {
    /// Whether a recipient configured with `fields` (JSON Pointers, `*` matching any one
    /// token) may receive the leaf at `pointer`: some field names it or a member or element it
    /// lies within, as `Minimiser` selects.
    package static func allows(_ fields: [String], _ pointer: String) -> Bool {
        FieldPatterns(fields).allows(pointer)
    }

    /// A recipient's configured fields, parsed (an unparsable one allows nothing).
    struct FieldPatterns {
        private let patterns: [[String]]

        init(_ fields: [String]) {
            patterns = fields.compactMap { try? JSONPointer(parsing: $0).tokens }
        }

        func allows(_ pointer: String) -> Bool {
            let utf8 = pointer.utf8
            if utf8.contains(UInt8(ascii: "~")) {
                guard let leaf = try? JSONPointer(parsing: pointer) else { return false }
                return patterns.contains { pattern in
                    pattern.count <= leaf.tokens.count && zip(pattern, leaf.tokens).allSatisfy { $0 == "*" || $0 == $1 }
                }
            }
            guard utf8.isEmpty || utf8.first == UInt8(ascii: "/") else { return false }
            return patterns.contains { Self.matches($0, unescaped: pointer) }
        }

        /// Whether `pattern` selects the leaf at `pointer` (a JSON Pointer with nothing escaped):
        /// its tokens read in place as slices of the text, no copy or array per leaf (this runs
        /// on the store's writer, for every leaf of every disclosure).
        private static func matches(_ pattern: [String], unescaped pointer: String) -> Bool {
            let utf8 = pointer.utf8
            // Where the leaf's next token starts; nil when it has no more.
            var next: String.Index? = utf8.isEmpty ? nil : utf8.index(after: utf8.startIndex)
            for token in pattern {
                guard let start = next else { return false }
                var end = start
                while end != utf8.endIndex && utf8[end] != UInt8(ascii: "/") { end = utf8.index(after: end) }
                guard token == "*" || token == pointer[start..<end] else { return false }
                next = end == utf8.endIndex ? nil : utf8.index(after: end)
            }
            return true
        }
    }
}

/// The rule's answer.
package enum DisclosureDecision: Sendable, Hashable {
    /// It may go now on `basis` (with `consentID` when the basis is consent).
    case disclose(basis: LawfulBasis, consentID: String?)
    /// It may not go now, for `reason`.
    case withhold(WithholdingReason)

    /// The reason it may not go, nil when it may.
    package var withholdingReason: WithholdingReason? {
        if case .withhold(let reason) = self { return reason }
        return nil
    }
}

/// Why a disclosure is not made. The raw values are the `reason` strings that answers, records
/// and disclosure-log entries carry.
package enum WithholdingReason: String, Sendable, Hashable, CaseIterable {
    /// No configured recipient provides the service.
    case noRecipient = "no-recipient"
    /// The subject's data was erased.
    case subjectErased = "subject-erased"
    /// The recipient's configured fields select nothing from the referral: sending `data: {}`
    /// would still tell it that the subject was referred (Art. 5(1)(c)).
    case nothingToDisclose = "nothing-to-disclose"
    /// The recipient's configuration no longer allows a field or special category the
    /// disclosure would carry (narrowed by a reload after it was decided; Art. 5(1)(c)).
    case fieldsNotAllowed = "fields-not-allowed"
    /// The subject's processing is restricted (Art. 18).
    case restricted
    /// No consent in force covers it yet (nor an override).
    case awaitingConsent = "awaiting-consent"
    /// Recorded as authorised, but on no lawful basis.
    case noLawfulBasis = "no-lawful-basis"
    /// The consent it was authorised on is not on record.
    case consentMissing = "consent-missing"
    /// The consent it was authorised on was withdrawn (Art. 7(3)).
    case consentWithdrawn = "consent-withdrawn"
    /// The consent it was authorised on has expired.
    case consentExpired = "consent-expired"
    /// The consent it was authorised on does not cover this service or recipient.
    case consentDoesNotCover = "consent-does-not-cover"
    /// Authorised without consent, but with no justification on record.
    case noJustification = "no-justification"

    /// The state a disclosure withheld for this reason is left in: refused when nothing but a
    /// change of configuration, data or restriction could let it go; cancelled once its subject is
    /// erased; otherwise awaiting a (new) consent or an override.
    package var state: DisclosureState {
        switch self {
        case .noRecipient, .nothingToDisclose, .fieldsNotAllowed, .restricted: .refused
        case .subjectErased: .cancelled
        case .awaitingConsent, .noLawfulBasis, .consentMissing, .consentWithdrawn, .consentExpired, .consentDoesNotCover, .noJustification:
            .awaitingConsent
        }
    }
}
