import Crypto
import Foundation
import JSON
import JSONSchema
import Logging
import Synchronization

/// The referral exchange: intake, consent, overrides and the decisions they lead to, each in one
/// durable commit with its disclosure-log entries (DESIGN.md, "The data flow").
package final class Exchange: Sendable {
    let store: any ExchangeStore
    let catalog: SchemaCatalog
    let keyring: Keyring
    private let recipientList: Mutex<[Recipient]>
    let limits: JSONLimits
    /// Keys for new subjects, stored ahead so that intake commits the main database alone.
    package let keyPool: SubjectKeyPool

    package init(
        store: any ExchangeStore, catalog: SchemaCatalog, keyring: Keyring, recipients: [Recipient], limits: JSONLimits = JSONLimits(),
        keyPool: SubjectKeyPool = SubjectKeyPool()
    ) {
        self.keyPool = keyPool
        self.store = store
        self.catalog = catalog
        self.keyring = keyring
        recipientList = Mutex(recipients)
        self.limits = limits
    }

    /// Swaps in a reloaded recipient list for decisions from now on.
    package func replaceRecipients(_ recipients: [Recipient]) {
        recipientList.withLock { $0 = recipients }
    }

    package var recipients: [Recipient] { recipientList.withLock { $0 } }

    // MARK: Documents

    /// Parses and validates a document against `schemaID` (or the schema its `schema` member names,
    /// which must start with `family`).
    func validatedDocument(_ body: [UInt8], family: String, fixedSchema: String? = nil) throws -> (JSONValue, String, DocumentMarkings) {
        let document: JSONValue
        do {
            document = try JSONValue.parse(body, limits: limits)
        } catch {
            throw ExchangeError(.malformedJSON, "The body is not valid JSON: \(error)")
        }
        guard case .object = document else {
            throw ExchangeError(.invalid, "The body must be a JSON object.", validationErrors: [
                ValidationError(instanceLocation: .root, keywordLocation: "/type", absoluteKeywordLocation: nil, message: "must be an object"),
            ])
        }
        let schemaID: String
        if let fixedSchema {
            schemaID = fixedSchema
        } else {
            guard let named = document["schema"]?.stringValue, named.hasPrefix(family), catalog.schema(named) != nil else {
                let known = catalog.ids.filter { $0.hasPrefix(family) }.joined(separator: ", ")
                throw ExchangeError(.invalid, "The document's \"schema\" member must name a known schema (\(known)).", validationErrors: [
                    ValidationError(
                        instanceLocation: JSONPointer(tokens: ["schema"]), keywordLocation: "/properties/schema",
                        absoluteKeywordLocation: nil, message: "unknown schema; known: \(known)"
                    ),
                ])
            }
            schemaID = named
        }
        guard let result = catalog.validate(document, against: schemaID) else {
            throw ExchangeError(.invalid, "Schema \(schemaID) is not loaded.")
        }
        guard result.isValid else {
            throw ExchangeError(.invalid, "The document does not satisfy \(schemaID): \(result.errors.count) error(s).", validationErrors: result.errors)
        }
        return (document, schemaID, DocumentMarkings(result))
    }

    // MARK: Referrals

    /// POST /v1/referrals: validate, store sealed, decide every requested disclosure, log, commit.
    package func submitReferral(_ body: [UInt8], by actor: Actor) async throws -> ReferralReceipt {
        let (document, schemaID, markings) = try validatedDocument(body, family: "urn:refex:schema:referral:")
        guard let referenceID = document["referenceId"]?.stringValue else {
            throw ExchangeError(.invalid, "referenceId is required.")
        }
        let referenceKey = keyring.digest("reference", Array("\(actor.id)\u{0}\(referenceID)".utf8))
        let canonical = document.canonicalized()
        let bodyDigest = keyring.digest("referral-body", canonical)
        let referralID = SecureRandom.uuid()
        let requestedSubject = document["subjectId"]?.stringValue
        // A new subject takes a key stored ahead (its commit then touches the main database
        // alone), or, with none ready, makes one stored in its own commit as before.
        let pooled = requestedSubject == nil ? keyPool.take(keyring: keyring, store: store) : nil
        let subjectID = requestedSubject ?? pooled?.subjectID ?? SecureRandom.uuid()
        let fresh: (key: SymmetricKey, wrapped: WrappedSubjectKey)? = try requestedSubject == nil
            ? pooled.map { ($0.key, $0.wrapped) } ?? keyring.newSubjectKey(subjectID: subjectID) : nil
        let storedAhead = pooled != nil
        let services = orderedServices(document)
        let recipients = self.recipients
        // Minimisation depends only on the document and the recipient: done before the commit.
        var minimisedByRecipient: [String: MinimisedData] = [:]
        let prepared = Minimiser.PreparedMarkings(document, markings)
        for recipient in recipients where !recipient.services.isDisjoint(with: services) {
            minimisedByRecipient[recipient.id] = Minimiser.minimise(document, fields: recipient.fields, categories: recipient.categories, markings: prepared)
        }
        let minimised = minimisedByRecipient
        let plaintext = document.serialized()
        let consentDocument = document["consent"]
        let keyring = self.keyring
        let indexEntries = BlindIndex(keyring: keyring).entries(for: document, subjectID: subjectID, referralID: referralID)
        // Sealed here, not on the store's writer, when the key is already known (a new subject).
        let sealedForNewSubject = try fresh.map { try keyring.seal(plaintext, key: $0.key, context: "referral|\(referralID)") }
        let receivedDraft = LogEntryDraft(
            event: .referralReceived, actor: actor.id, referralID: referralID, subjectID: subjectID,
            details: ["schema": .string(schemaID), "services": .array(services.map { .string($0) })]
        ).prepared()

        // The write's answer, and whether it used the fresh key (a resubmission does not).
        let intake: @Sendable (any StoreTransaction) throws -> (ReferralReceipt, Bool) = { txn in
            if let existing = try txn.referral(partnerID: actor.id, referenceKey: referenceKey) {
                // The first answer is history once the subject is gone, whatever the body: say what is true now.
                if let erasedAt = try txn.subject(id: existing.subjectID)?.erasedAt {
                    throw ExchangeError(
                        .erased,
                        "Referral \(existing.id) with this referenceId was received before, and its subject's data was erased on \(erasedAt); it is not received again."
                    )
                }
                guard constantTimeEquals(existing.bodyDigest, bodyDigest) else {
                    throw ExchangeError(.conflict, "referenceId was already used for a referral with a different body; use a new referenceId for a new referral.")
                }
                let known = ReferralReceipt(id: existing.id, status: "", subjectID: existing.subjectID, receivedAt: existing.receivedAt, disclosures: [])
                return (ReferralReceipt(stored: (try? JSONValue.parse(existing.receipt)) ?? .null, known: known), false)
            }
            let now = txn.now
            let subjectKey: SymmetricKey
            let subject: SubjectRecord
            if let requestedSubject {
                guard let known = try txn.subject(id: requestedSubject),
                      try txn.referrals(subjectID: requestedSubject).contains(where: { $0.partnerID == actor.id }) else {
                    throw ExchangeError(.invalid, "subjectId does not name a subject of one of your referrals.", validationErrors: [
                        ValidationError(instanceLocation: JSONPointer(tokens: ["subjectId"]), keywordLocation: "/properties/subjectId",
                                        absoluteKeywordLocation: nil, message: "unknown subject"),
                    ])
                }
                guard known.erasedAt == nil, let wrapped = try txn.subjectKey(subjectID: requestedSubject) else {
                    throw ExchangeError(.erased, "That subject's data has been erased; refer them as a new subject.")
                }
                subject = known
                subjectKey = try keyring.unwrap(wrapped)
            } else if let fresh {
                subject = SubjectRecord(id: subjectID, createdAt: now)
                if storedAhead {
                    try txn.insertSubject(keyStoredAhead: subject)
                } else {
                    try txn.insertSubject(subject, key: fresh.wrapped)
                }
                subjectKey = fresh.key
            } else {
                preconditionFailure("a referral without subjectId has a fresh key")
            }
            let sealed = try sealedForNewSubject ?? keyring.seal(plaintext, key: subjectKey, context: "referral|\(referralID)")
            try txn.insertReferral(ReferralRecord(
                id: referralID, partnerID: actor.id, referenceKey: referenceKey, subjectID: subject.id, schemaID: schemaID,
                bodyDigest: bodyDigest, sealedBody: sealed, receivedAt: now, receipt: []
            ))
            try txn.queueSubjectIndex(indexEntries)
            try txn.appendLog(receivedDraft)
            if let consentDocument {
                let consent = try Exchange.consentRecord(
                    consentDocument, subjectID: subject.id, referralID: referralID, partnerID: actor.id,
                    key: subjectKey, keyring: keyring, now: now
                )
                try txn.insertConsent(consent)
                try txn.appendLog(LogEntryDraft(
                    event: .consentRecorded, actor: actor.id, referralID: referralID, subjectID: subject.id, consentID: consent.id,
                    details: ["purposes": .array(consent.purposes.map { .string($0) })]
                ))
            }
            let consents = try txn.consents(subjectID: subject.id)
            var disclosures: [DisclosureRecord] = []
            for service in services {
                let providers = recipients.filter { $0.services.contains(service) }
                for recipient in providers.isEmpty ? [nil] : providers.map(Optional.some) {
                    let data = recipient.flatMap { minimised[$0.id] }
                    var disclosure = DisclosureRecord(
                        id: SecureRandom.uuid(), referralID: referralID, subjectID: subject.id, recipientID: recipient?.id,
                        service: service, state: .queued, lawfulBasis: nil, consentID: nil, justificationDigest: nil,
                        actor: actor.id, pointers: data?.pointers ?? [], categories: data?.categories ?? [],
                        reason: nil, createdAt: now, updatedAt: now
                    )
                    let decision = DisclosureRule.decide(
                        subject: DisclosureRule.SubjectState(subject), consents: consents, recipientID: recipient?.id, configuration: recipient,
                        service: service, standing: .unauthorised, pointers: disclosure.pointers, categories: disclosure.categories, at: now
                    )
                    switch decision {
                    case .disclose(let basis, let consentID):
                        disclosure.lawfulBasis = basis
                        disclosure.consentID = consentID
                    case .withhold(let reason):
                        disclosure.state = reason.state
                        disclosure.reason = reason.rawValue
                        // Waiting for consent, it was asked for by the referrer; refused, refex decided.
                        if reason.state != .awaitingConsent { disclosure.actor = "system" }
                    }
                    try txn.insertDisclosure(disclosure)
                    if disclosure.state == .queued {
                        try txn.enqueue(Exchange.outboxItem(for: disclosure, recipient: recipient, now: now))
                        try txn.appendLog(LogEntryDraft(.disclosureAuthorised, disclosure: disclosure, actor: actor.id))
                    } else {
                        try txn.appendLog(LogEntryDraft(.disclosureWithheld, disclosure: disclosure, actor: disclosure.actor))
                    }
                    disclosures.append(disclosure)
                }
            }
            let receipt = ReferralReceipt(
                id: referralID, status: Exchange.referralStatus(disclosures, subject: subject), subjectID: subject.id, receivedAt: now,
                disclosures: disclosures.map(DisclosureSummary.init)
            )
            try txn.setReceipt(referralID: referralID, receipt.json.serialized())
            return (receipt, true)
        }
        let written: (ReferralReceipt, Bool)
        do {
            written = try await store.write(intake)
        } catch let error as ExchangeError {
            // Refused by the exchange: the write was undone, and no committed row names the key's subject.
            if let pooled { keyPool.giveBack(pooled) }
            throw error
        }
        let (receipt, usedFreshKey) = written
        if let pooled, !usedFreshKey { keyPool.giveBack(pooled) }
        return receipt
    }

    /// GET /v1/referrals/{id}: its state and each disclosure's; the reading is logged.
    package func referralStatus(_ id: String, by actor: Actor) async throws -> ReferralView {
        let keyring = self.keyring
        return try await store.write { txn in
            guard let referral = try txn.referral(id: id), actor.isAdmin || referral.partnerID == actor.id else {
                throw ExchangeError(.notFound, "There is no referral \(id) of yours.")
            }
            let subject = try txn.subject(id: referral.subjectID)
            let disclosures = try txn.disclosures(referralID: id)
            try txn.appendLog(LogEntryDraft(event: .referralViewed, actor: actor.id, referralID: id, subjectID: referral.subjectID))
            var keys: [String: SymmetricKey?] = [:]
            return ReferralView(
                id: referral.id, status: Exchange.referralStatus(disclosures, subject: subject), schemaID: referral.schemaID,
                subjectID: referral.subjectID, receivedAt: referral.receivedAt,
                disclosures: disclosures.map {
                    DisclosureDetail($0, justification: Exchange.justification(of: $0, keyring: keyring, txn: txn, keys: &keys))
                },
                erasedAt: subject?.erasedAt
            )
        }
    }

    /// The outbox entry for an authorised disclosure: pushed, or held for the recipient's mailbox.
    package static func outboxItem(for disclosure: DisclosureRecord, recipient: Recipient?, now: Timestamp) -> OutboxItem {
        var mode = OutboxItem.Mode.push
        if case .pull = recipient?.delivery { mode = .pull }
        return OutboxItem(
            id: disclosure.id, kind: .disclosure, disclosureID: disclosure.id, recipientID: disclosure.recipientID ?? "",
            mode: mode, enqueuedAt: now, nextAttemptAt: now
        )
    }

    // MARK: Overrides

    /// POST /v1/referrals/{id}/overrides: disclose to a named recipient without consent, on a
    /// lawful basis with a justification, recorded with who authorised it.
    package func authoriseOverride(referralID: String, _ body: [UInt8], by actor: Actor) async throws -> DisclosureDetail {
        let (document, _, _) = try validatedDocument(body, family: "urn:refex:schema:override:", fixedSchema: "urn:refex:schema:override:1")
        guard let recipientID = document["recipient"]?.stringValue,
              let basisText = document["lawfulBasis"]?.stringValue, let basis = LawfulBasis(rawValue: basisText), basis != .consent,
              let givenJustification = document["justification"]?.stringValue else {
            throw ExchangeError(.invalid, "recipient, lawfulBasis and justification are required.")
        }
        // Kept as the reason a disclosure happened without consent: it must say something, and
        // identify no one (FreeTextPolicy; checked against the referral once it is opened).
        let justification = givenJustification.trimmingCharacters(in: .whitespacesAndNewlines)
        try FreeTextPolicy.check(justification, field: "justification", personal: FreeTextPolicy.PersonalValues(), shapeOnly: true)
        guard let recipient = recipients.first(where: { $0.id == recipientID }) else {
            throw ExchangeError(.invalid, "There is no such recipient.", validationErrors: [
                ValidationError(instanceLocation: JSONPointer(tokens: ["recipient"]), keywordLocation: "/properties/recipient",
                                absoluteKeywordLocation: nil, message: "unknown recipient"),
            ])
        }
        let requestedService = document["service"]?.stringValue
        let keyring = self.keyring
        let catalog = self.catalog
        let limits = self.limits
        return try await store.write { txn in
            guard let referral = try txn.referral(id: referralID) else {
                throw ExchangeError(.notFound, "There is no referral \(referralID).")
            }
            guard let subject = try txn.subject(id: referral.subjectID), subject.erasedAt == nil,
                  let wrapped = try txn.subjectKey(subjectID: referral.subjectID), let sealed = referral.sealedBody else {
                throw ExchangeError(.erased, "The subject's data has been erased; there is nothing to disclose.")
            }
            let existing = try txn.disclosures(referralID: referralID)
            let requested = existing.map(\.service)
            if let requestedService, !requested.contains(requestedService) {
                throw ExchangeError(.invalid, "This referral did not ask for that service; an override discloses only for a service it asked for.", validationErrors: [
                    ValidationError(instanceLocation: JSONPointer(tokens: ["service"]), keywordLocation: "/properties/service",
                                    absoluteKeywordLocation: nil, message: "not a support need of this referral"),
                ])
            }
            guard let service = requestedService ?? requested.first(where: { recipient.services.contains($0) }),
                  recipient.services.contains(service) else {
                throw ExchangeError(.invalid, "The recipient does not provide \(requestedService == nil ? "any service this referral asks for" : "that service").", validationErrors: [
                    ValidationError(instanceLocation: JSONPointer(tokens: ["service"]), keywordLocation: "/properties/service",
                                    absoluteKeywordLocation: nil, message: "not a service of this recipient"),
                ])
            }
            // The stored document, to minimise for this recipient.
            let subjectKey = try keyring.unwrap(wrapped)
            let plaintext = try keyring.open(sealed, key: subjectKey, context: "referral|\(referralID)")
            let document = try JSONValue.parse(plaintext, limits: limits)
            let markings = catalog.validate(document, against: referral.schemaID).map(DocumentMarkings.init) ?? DocumentMarkings()
            let data = Minimiser.minimise(document, fields: recipient.fields, categories: recipient.categories, markings: markings)
            let now = txn.now
            switch DisclosureRule.decide(
                subject: DisclosureRule.SubjectState(subject), consents: [], recipientID: recipient.id, configuration: recipient,
                service: service, standing: .override(basis, justified: true), pointers: data.pointers, categories: data.categories, at: now
            ) {
            case .disclose: break
            case .withhold(.restricted):
                throw ExchangeError(.conflict, "The subject's processing is restricted; lift the restriction first.")
            case .withhold(.nothingToDisclose):
                throw ExchangeError(.conflict, "The recipient's configured fields select nothing from this referral: there is nothing to disclose.")
            case .withhold(let reason):
                throw ExchangeError(.conflict, "This disclosure may not be made (\(reason.rawValue)).")
            }
            if existing.contains(where: { $0.recipientID == recipientID && $0.service == service && ($0.state == .queued || $0.state == .delivered) }) {
                throw ExchangeError(.conflict, "A disclosure of this referral to that recipient for that service is already authorised.")
            }
            var personal = try Exchange.personalValues(subjectID: subject.id, key: subjectKey, keyring: keyring, limits: limits, txn: txn)
            personal.add(referral: document)
            try FreeTextPolicy.check(justification, field: "justification", personal: personal)
            var disclosure = existing.first { $0.recipientID == recipientID && $0.service == service }
                ?? DisclosureRecord(
                    id: SecureRandom.uuid(), referralID: referralID, subjectID: subject.id, recipientID: recipientID, service: service,
                    state: .queued, lawfulBasis: nil, consentID: nil, justificationDigest: nil, actor: actor.id, pointers: [],
                    categories: [], reason: nil, createdAt: now, updatedAt: now
                )
            let isNew = !existing.contains { $0.id == disclosure.id }
            disclosure.state = .queued
            disclosure.lawfulBasis = basis
            disclosure.consentID = nil
            disclosure.justificationDigest = try Exchange.commitFreeText(
                justification, subjectID: subject.id, key: subjectKey, keyring: keyring, txn: txn
            )
            disclosure.legacyJustification = nil
            disclosure.actor = actor.id
            disclosure.pointers = data.pointers
            disclosure.categories = data.categories
            disclosure.reason = nil
            disclosure.updatedAt = now
            if isNew { try txn.insertDisclosure(disclosure) } else { try txn.updateDisclosure(disclosure) }
            try txn.enqueue(Exchange.outboxItem(for: disclosure, recipient: recipient, now: now))
            try txn.appendLog(LogEntryDraft(.disclosureAuthorised, disclosure: disclosure, actor: actor.id))
            return DisclosureDetail(disclosure, justification: justification)
        }
    }

    // MARK: Helpers

    /// The services a referral asks for, each once, in order.
    private func orderedServices(_ document: JSONValue) -> [String] {
        var seen: Set<String> = []
        return (document["supportNeeds"]?.arrayValue ?? []).compactMap { $0["service"]?.stringValue }.filter { seen.insert($0).inserted }
    }

    static func consentRecord(
        _ document: JSONValue, subjectID: String, referralID: String, partnerID: String,
        key: SymmetricKey, keyring: Keyring, now: Timestamp
    ) throws -> ConsentRecord {
        let id = SecureRandom.uuid()
        var details = JSONObject()
        if let obtainedBy = document["obtainedBy"] { details["obtainedBy"] = obtainedBy }
        if let notes = document["notes"] { details["notes"] = notes }
        let sealed = try keyring.seal(JSONValue.object(details).serialized(), key: key, context: "consent|\(id)")
        return ConsentRecord(
            id: id, subjectID: subjectID, referralID: referralID, partnerID: partnerID,
            purposes: document["purposes"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            recipients: document["recipients"]?.arrayValue?.compactMap(\.stringValue),
            method: document["method"]?.stringValue ?? "",
            obtainedAt: document["obtainedAt"]?.stringValue.flatMap(Timestamp.init(rfc3339:)) ?? now,
            expiresAt: document["expiresAt"]?.stringValue.flatMap(Timestamp.init(rfc3339:)),
            withdrawnAt: nil, sealedDetails: sealed, recordedAt: now
        )
    }

    /// A referral's status, from its subject and its disclosures (README, "Referral status"):
    /// `erased`, `restricted`, `in-progress` (something queued), `failed`, `awaiting-consent`,
    /// `delivered` (everything that could go went), `closed` (nothing went nor will).
    package static func referralStatus(_ disclosures: [DisclosureRecord], subject: SubjectRecord?) -> String {
        if subject?.erasedAt != nil { return "erased" }
        if subject?.restricted == true { return "restricted" }
        let states = Set(disclosures.map(\.state))
        if states.contains(.queued) { return "in-progress" }
        if states.contains(.failed) { return "failed" }
        if states.contains(.awaitingConsent) { return "awaiting-consent" }
        if states.contains(.delivered) { return "delivered" }
        return "closed"
    }
}
