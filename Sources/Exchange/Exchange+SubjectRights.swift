import Crypto
import Foundation
import JSON
import JSONSchema

/// A victim's rights from the privacy notice (UK GDPR Arts. 15–19), each one call.
extension Exchange {
    /// Access (Art. 15): everything held about the subject, decrypted, with every disclosure of
    /// it and its log entries; logged as `subject.exported`.
    package func exportSubject(_ subjectID: String, by actor: Actor) async throws -> SubjectExport {
        let keyring = self.keyring
        let limits = self.limits
        return try await store.write { txn in
            guard let subject = try txn.subject(id: subjectID) else { throw ExchangeError(.notFound, "There is no subject \(subjectID).") }
            let key = try txn.subjectKey(subjectID: subjectID).map { try keyring.unwrap($0) }
            let referrals: [SubjectExport.Referral] = try txn.referrals(subjectID: subjectID).map { referral in
                var document: JSONValue?
                if let key, let sealed = referral.sealedBody {
                    document = try JSONValue.parse(try keyring.open(sealed, key: key, context: "referral|\(referral.id)"), limits: limits)
                }
                return SubjectExport.Referral(
                    id: referral.id, partnerID: referral.partnerID, schemaID: referral.schemaID, receivedAt: referral.receivedAt, document: document
                )
            }
            let consents: [SubjectExport.Consent] = try txn.consents(subjectID: subjectID).map { consent in
                var details: JSONValue?
                if let key, let sealed = consent.sealedDetails,
                   let opened = try? JSONValue.parse(try keyring.open(sealed, key: key, context: "consent|\(consent.id)")) {
                    details = opened
                }
                return SubjectExport.Consent(record: consent, details: details)
            }
            var keys: [String: SymmetricKey?] = [:]
            let disclosures = try txn.disclosures(subjectID: subjectID).map {
                DisclosureDetail($0, justification: Exchange.justification(of: $0, keyring: keyring, txn: txn, keys: &keys))
            }
            var filter = LogFilter()
            filter.subjectID = subjectID
            let log = Exchange.revealed(try txn.logEntries(filter, limit: 100_000), keyring: keyring, txn: txn)
            try txn.appendLog(LogEntryDraft(event: .subjectExported, actor: actor.id, subjectID: subjectID))
            return SubjectExport(
                subjectID: subjectID, createdAt: subject.createdAt, restricted: subject.restricted, erasedAt: subject.erasedAt,
                referrals: referrals, consents: consents, disclosures: disclosures, log: log, exportedAt: txn.now
            )
        }
    }

    /// Erasure (Art. 17): crypto-shreds the subject; recipients that received data get notices.
    /// `justification`, when given, is the officer's reason in words: checked by
    /// `FreeTextPolicy`, committed to in the `subject.erased` entry, and sealed under the key
    /// that the erasure deletes, so that it goes with the subject. Erasing again answers with
    /// when it was erased and sends nothing.
    package func eraseSubject(
        _ subjectID: String, reason: String = "erasure-request", justification: String? = nil, by actor: Actor
    ) async throws -> ErasureOutcome {
        let recipients = self.recipients
        let keyring = self.keyring
        let limits = self.limits
        let statement = try Exchange.shapedReason(justification, field: "reason")
        return try await store.write { txn in
            guard let subject = try txn.subject(id: subjectID) else { throw ExchangeError(.notFound, "There is no subject \(subjectID).") }
            if let erasedAt = subject.erasedAt {
                return ErasureOutcome(subjectID: subjectID, erasedAt: erasedAt, alreadyErased: true, cancelled: [], notices: [])
            }
            let digest = try Exchange.commitReason(statement, field: "reason", subjectID: subjectID, keyring: keyring, limits: limits, txn: txn)
            let (cancelled, notices) = try Exchange.erase(
                subjectID: subjectID, reason: reason, consentID: nil, actor: actor, recipients: recipients, txn: txn, justificationDigest: digest
            )
            return ErasureOutcome(subjectID: subjectID, erasedAt: txn.now, alreadyErased: false, cancelled: cancelled.map(\.id), notices: notices)
        }
    }

    /// What erasing the subject would do, without doing it (`refex subject erase` shows it
    /// before asking): the referrals whose data goes, the disclosures cancelled, and the
    /// recipients that will be told to erase what they received. `reason`, when given, is
    /// checked as the erasure will check it.
    package func erasurePreview(_ subjectID: String, reason: String? = nil) async throws -> ErasurePreview {
        let keyring = self.keyring
        let limits = self.limits
        return try await store.read { txn in
            guard let subject = try txn.subject(id: subjectID) else { throw ExchangeError(.notFound, "There is no subject \(subjectID).") }
            if let reason {
                var personal = FreeTextPolicy.PersonalValues()
                if subject.erasedAt == nil, let wrapped = try txn.subjectKey(subjectID: subjectID) {
                    personal = try Exchange.personalValues(subjectID: subjectID, key: try keyring.unwrap(wrapped), keyring: keyring, limits: limits, txn: txn)
                }
                try FreeTextPolicy.check(reason, field: "reason", personal: personal)
            }
            let referrals = try txn.referrals(subjectID: subjectID)
            var cancelled: [String] = []
            var told: [ErasurePreview.Notice] = []
            for disclosure in try txn.disclosures(subjectID: subjectID) {
                switch disclosure.state {
                case .queued, .awaitingConsent: cancelled.append(disclosure.id)
                case .failed:
                    cancelled.append(disclosure.id)
                    if let recipient = disclosure.recipientID, try txn.outboxItem(id: disclosure.id).map({ $0.attempts > 0 }) ?? true {
                        told.append(ErasurePreview.Notice(recipientID: recipient, disclosureID: disclosure.id, possiblyReceived: true))
                    }
                case .delivered where disclosure.reason == nil:
                    if let recipient = disclosure.recipientID {
                        told.append(ErasurePreview.Notice(recipientID: recipient, disclosureID: disclosure.id, possiblyReceived: false))
                    }
                default: break
                }
            }
            return ErasurePreview(
                subjectID: subjectID, erasedAt: subject.erasedAt, referralIDs: referrals.map(\.id),
                consentCount: try txn.consents(subjectID: subjectID).count, cancelled: cancelled, recipientsToBeTold: told
            )
        }
    }

    /// Restriction (Art. 18): no further disclosure while restricted. Disclosures waiting to go
    /// are withheld (reason `restricted`); lifting the restriction releases those consent or an
    /// override still covers.
    /// `reason`, when given, is checked as free text and committed to in the entry.
    package func restrictSubject(_ subjectID: String, _ restricted: Bool, reason: String? = nil, by actor: Actor) async throws -> RestrictionOutcome {
        let recipients = self.recipients
        let keyring = self.keyring
        let limits = self.limits
        let statement = try Exchange.shapedReason(reason, field: "reason")
        return try await store.write { txn in
            guard let subject = try txn.subject(id: subjectID) else { throw ExchangeError(.notFound, "There is no subject \(subjectID).") }
            if let erasedAt = subject.erasedAt { throw ExchangeError(.erased, "Subject \(subjectID) was erased on \(erasedAt); there is nothing to restrict.") }
            let now = txn.now
            var changed: [String] = []
            guard subject.restricted != restricted else {
                return RestrictionOutcome(subjectID: subjectID, restricted: restricted, changed: [])
            }
            let digest = try Exchange.commitReason(statement, field: "reason", subjectID: subjectID, keyring: keyring, limits: limits, txn: txn)
            try txn.setRestricted(subjectID: subjectID, restricted)
            try txn.appendLog(LogEntryDraft(
                event: restricted ? .subjectRestricted : .subjectUnrestricted, actor: actor.id, subjectID: subjectID, justificationDigest: digest
            ))
            let consents = try txn.consents(subjectID: subjectID)
            let state = DisclosureRule.SubjectState(restricted: restricted, erased: false)
            for var disclosure in try txn.disclosures(subjectID: subjectID) {
                let recipient = recipients.first { $0.id == disclosure.recipientID }
                if restricted, disclosure.state == .queued || disclosure.state == .awaitingConsent {
                    // Restricted: nothing waiting goes, whatever it stood on.
                    let reason = DisclosureRule.decide(
                        subject: state, consents: consents, recipientID: disclosure.recipientID, configuration: recipient,
                        service: disclosure.service, standing: DisclosureRule.Standing(disclosure), pointers: disclosure.pointers,
                        categories: disclosure.categories, at: now
                    ).withholdingReason ?? .restricted
                    try Exchange.withhold(&disclosure, for: reason, actor: actor.id, txn: txn)
                    changed.append(disclosure.id)
                } else if !restricted, disclosure.state == .refused, disclosure.reason == WithholdingReason.restricted.rawValue {
                    // Lifted: an override stands again; anything else is decided afresh on the consents in force.
                    switch DisclosureRule.decide(
                        subject: state, consents: consents, recipientID: disclosure.recipientID, configuration: recipient,
                        service: disclosure.service, standing: DisclosureRule.Standing(disclosure), pointers: disclosure.pointers,
                        categories: disclosure.categories, at: now
                    ) {
                    case .disclose(let basis, let consentID):
                        disclosure.state = .queued
                        disclosure.lawfulBasis = basis
                        disclosure.consentID = consentID
                        disclosure.reason = nil
                        disclosure.updatedAt = now
                        try txn.updateDisclosure(disclosure)
                        try txn.enqueue(Exchange.outboxItem(for: disclosure, recipient: recipient, now: now))
                        try txn.appendLog(LogEntryDraft(.disclosureAuthorised, disclosure: disclosure, actor: actor.id))
                    case .withhold(let reason):
                        try Exchange.withhold(&disclosure, for: reason, actor: actor.id, txn: txn)
                    }
                    changed.append(disclosure.id)
                }
            }
            return RestrictionOutcome(subjectID: subjectID, restricted: restricted, changed: changed)
        }
    }

    /// Rectification (Art. 16): applies a JSON Merge Patch (RFC 7396) to each of the subject's
    /// referrals, validates and re-seals them; every recipient that received a changed field gets
    /// a rectification notice with only the changed fields it may receive (Art. 19).
    package func rectifySubject(_ subjectID: String, patch body: [UInt8], by actor: Actor) async throws -> RectificationOutcome {
        let patch: JSONValue
        do {
            patch = try JSONValue.parse(body, limits: limits)
        } catch {
            throw ExchangeError(.malformedJSON, "The body is not valid JSON: \(error)")
        }
        guard case .object(let members) = patch, !members.isEmpty else {
            throw ExchangeError(.invalid, "The body must be a JSON Merge Patch (RFC 7396) object of the corrected referral fields.")
        }
        for fixed in ["schema", "referenceId", "subjectId"] where members.contains(fixed) {
            throw ExchangeError(.invalid, "\(fixed) cannot be rectified.")
        }
        let keyring = self.keyring
        let limits = self.limits
        let catalog = self.catalog
        let recipients = self.recipients
        return try await store.write { txn in
            guard let subject = try txn.subject(id: subjectID) else { throw ExchangeError(.notFound, "There is no subject \(subjectID).") }
            guard subject.erasedAt == nil, let wrapped = try txn.subjectKey(subjectID: subjectID) else {
                throw ExchangeError(.erased, "Subject \(subjectID) was erased\(subject.erasedAt.map { " on \($0)" } ?? ""); there is nothing to rectify.")
            }
            let key = try keyring.unwrap(wrapped)
            let now = txn.now
            var changedPointers: Set<String> = []
            var notices: [String] = []
            for referral in try txn.referrals(subjectID: subjectID) {
                guard let sealed = referral.sealedBody else { continue }
                let before = try JSONValue.parse(try keyring.open(sealed, key: key, context: "referral|\(referral.id)"), limits: limits)
                let after = mergePatch(before, patch)
                guard after != before else { continue }
                guard let result = catalog.validate(after, against: referral.schemaID) else {
                    throw ExchangeError(.invalid, "Schema \(referral.schemaID) is not loaded.")
                }
                guard result.isValid else {
                    throw ExchangeError(.invalid, "The corrected referral \(referral.id) would not satisfy its schema.", validationErrors: result.errors)
                }
                let beforeLeaves = leafPointers(before)
                let afterLeaves = leafPointers(after)
                let changed = Set(beforeLeaves.keys).union(afterLeaves.keys).filter { key in
                    guard let pointer = afterLeaves[key] ?? beforeLeaves[key] else { return false }
                    return before.value(at: pointer) != after.value(at: pointer)
                }
                changedPointers.formUnion(changed)
                try txn.replaceSealedBody(
                    referralID: referral.id, try keyring.seal(after.serialized(), key: key, context: "referral|\(referral.id)")
                )
                try txn.replaceSubjectIndex(
                    referralID: referral.id, with: BlindIndex(keyring: keyring).entries(for: after, subjectID: subjectID, referralID: referral.id)
                )
                let markings = DocumentMarkings(result)
                for var disclosure in try txn.disclosures(referralID: referral.id) {
                    guard let recipientID = disclosure.recipientID, let recipient = recipients.first(where: { $0.id == recipientID }) else { continue }
                    let allowed = Minimiser.minimise(after, fields: recipient.fields, categories: recipient.categories, markings: markings)
                    let touched = allowed.pointers.filter { changed.contains($0) }
                    if disclosure.state == .queued || disclosure.state == .awaitingConsent {
                        // Not sent yet: it will carry the corrected data, within what the recipient may receive.
                        let widened = disclosure.pointers != allowed.pointers || disclosure.categories != allowed.categories
                        disclosure.pointers = allowed.pointers
                        disclosure.categories = allowed.categories
                        disclosure.updatedAt = now
                        // Asked again with what it would now carry: a queued one must still be
                        // sendable; one waiting for consent may be left with nothing to wait for.
                        let withheld: WithholdingReason? = if !widened {
                            nil
                        } else if disclosure.state == .queued {
                            try Exchange.reasonNotToSend(disclosure, recipients: recipients, txn: txn)
                        } else {
                            DisclosureRule.decide(
                                subject: DisclosureRule.SubjectState(subject), consents: [], recipientID: recipientID, configuration: recipient,
                                service: disclosure.service, standing: .unauthorised, pointers: disclosure.pointers,
                                categories: disclosure.categories, at: now
                            ).withholdingReason.flatMap { $0.state == .refused ? $0 : nil }
                        }
                        if let withheld {
                            try Exchange.withhold(&disclosure, for: withheld, actor: actor.id, txn: txn)
                            continue
                        }
                        try txn.updateDisclosure(disclosure)
                        // What a queued disclosure will carry changed: the log says so before it leaves.
                        if widened && disclosure.state == .queued {
                            try txn.appendLog(LogEntryDraft(.disclosureAuthorised, disclosure: disclosure, actor: actor.id, reason: "rectified"))
                        }
                        continue
                    }
                    // Delivered and not since told to erase it: corrected too.
                    guard disclosure.state == .delivered, disclosure.reason == nil, !touched.isEmpty else { continue }
                    let data = Minimiser.select(after, pointers: touched)
                    let notice: JSONValue = [
                        "type": "rectification-notice", "disclosureId": .string(disclosure.id), "referralId": .string(referral.id),
                        "data": data,
                    ]
                    var item = Exchange.outboxItem(for: disclosure, recipient: recipient, now: now)
                    item.id = SecureRandom.uuid()
                    item.kind = .rectificationNotice
                    // The corrected values are personal data: sealed like the referral itself.
                    item.payload = try keyring.seal(notice.serialized(), key: key, context: "notice|\(item.id)")
                    try txn.enqueue(item)
                    try txn.appendLog(LogEntryDraft(
                        event: .noticeQueued, actor: actor.id, referralID: referral.id, subjectID: subjectID, disclosureID: disclosure.id,
                        recipientID: recipientID, pointers: touched, reason: "rectification",
                        details: ["type": "rectification-notice", "noticeId": .string(item.id)]
                    ))
                    notices.append(recipientID)
                }
            }
            guard !changedPointers.isEmpty else {
                throw ExchangeError(.conflict, "The patch changes nothing held about subject \(subjectID).")
            }
            try txn.appendLog(LogEntryDraft(
                event: .subjectRectified, actor: actor.id, subjectID: subjectID, pointers: changedPointers.sorted()
            ))
            return RectificationOutcome(subjectID: subjectID, changed: changedPointers.sorted(), noticeRecipients: notices)
        }
    }
}

/// RFC 7396 JSON Merge Patch.
func mergePatch(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
    guard case .object(let patchMembers) = patch else { return patch }
    var result: JSONObject
    if case .object(let targetMembers) = target { result = targetMembers } else { result = JSONObject() }
    for (key, value) in patchMembers {
        if value.isNull {
            result[key] = nil
        } else {
            result[key] = mergePatch(result[key] ?? .null, value)
        }
    }
    return .object(result)
}

/// Every leaf of `value`, by its pointer text.
func leafPointers(_ value: JSONValue) -> [String: JSONPointer] {
    var out: [String: JSONPointer] = [:]
    func walk(_ value: JSONValue, _ at: JSONPointer) {
        switch value {
        case .object(let object) where !object.isEmpty:
            for (key, member) in object { walk(member, at.appending(key)) }
        case .array(let items) where !items.isEmpty:
            for (index, item) in items.enumerated() { walk(item, at.appending(index)) }
        default:
            out[at.description] = at
        }
    }
    walk(value, .root)
    return out
}
