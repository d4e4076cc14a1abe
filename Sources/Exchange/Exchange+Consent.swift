import Crypto
import JSON

/// Consent by purpose (UK GDPR Arts. 6(1)(a), 7(3), 17(1)(b), 19): recording it, reading it,
/// withdrawing one consent, and a subject leaving the service altogether.
extension Exchange {
    // MARK: Recording

    /// POST /v1/consents: record consent for the subject of one of the partner's referrals and
    /// release the disclosures it now covers, in the same commit. The same document posted again
    /// for the same referral is the same consent: the repeat gets the first answer.
    package func recordConsent(_ body: [UInt8], by actor: Actor) async throws -> ConsentReceipt {
        let (document, _, _) = try validatedDocument(body, family: "urn:refex:schema:consent:")
        guard let referralID = document["referralId"]?.stringValue else { throw ExchangeError(.invalid, "referralId is required.") }
        let documentDigest = keyring.digest("consent-document", document.canonicalized())
        let keyring = self.keyring
        let recipients = self.recipients
        return try await store.write { txn in
            guard let referral = try txn.referral(id: referralID), referral.partnerID == actor.id else {
                throw ExchangeError(.notFound, "There is no referral \(referralID) of yours.")
            }
            guard let subject = try txn.subject(id: referral.subjectID), subject.erasedAt == nil,
                  let wrapped = try txn.subjectKey(subjectID: referral.subjectID) else {
                let erasedAt = try txn.subject(id: referral.subjectID)?.erasedAt
                throw ExchangeError(.erased, "The subject's data was erased\(erasedAt.map { " on \($0)" } ?? ""); there is nothing to consent to.")
            }
            if let existing = try txn.consent(referralID: referralID, documentDigest: documentDigest), let receipt = existing.receipt {
                // A retry of a consent since withdrawn would be answered "released": no longer true.
                if let withdrawnAt = existing.withdrawnAt {
                    throw ExchangeError(
                        .conflict,
                        "This consent was recorded as \(existing.id) and withdrawn on \(withdrawnAt); consent obtained again is recorded with its own obtainedAt."
                    )
                }
                let known = ConsentReceipt(id: existing.id, referralID: existing.referralID, subjectID: existing.subjectID, recordedAt: existing.recordedAt, released: [])
                return ConsentReceipt(stored: (try? JSONValue.parse(receipt)) ?? .null, known: known)
            }
            let now = txn.now
            var consent = try Exchange.consentRecord(
                document, subjectID: subject.id, referralID: referralID, partnerID: actor.id,
                key: try keyring.unwrap(wrapped), keyring: keyring, now: now
            )
            consent.documentDigest = documentDigest
            try txn.insertConsent(consent)
            try txn.appendLog(LogEntryDraft(
                event: .consentRecorded, actor: actor.id, referralID: referralID, subjectID: subject.id, consentID: consent.id,
                details: ["purposes": .array(consent.purposes.map { .string($0) })]
            ))
            var released: [DisclosureRecord] = []
            for var disclosure in try txn.disclosures(referralID: referralID) where disclosure.state == .awaitingConsent {
                let recipient = recipients.first { $0.id == disclosure.recipientID }
                // This consent releases what it covers; what waits for another consent waits on.
                let decision = DisclosureRule.decide(
                    subject: DisclosureRule.SubjectState(subject), consents: [consent], recipientID: disclosure.recipientID,
                    configuration: recipient, service: disclosure.service, standing: .unauthorised, pointers: disclosure.pointers,
                    categories: disclosure.categories, at: now
                )
                guard case .disclose(let basis, let consentID) = decision else {
                    // What no consent can let go any more (its recipient was reconfigured since) is refused, not left waiting.
                    if let reason = decision.withholdingReason, reason.state == .refused, reason != .restricted {
                        try Exchange.withhold(&disclosure, for: reason, actor: "system", txn: txn)
                    }
                    continue
                }
                disclosure.state = .queued
                disclosure.lawfulBasis = basis
                disclosure.consentID = consentID
                disclosure.reason = nil
                disclosure.actor = actor.id
                disclosure.updatedAt = now
                try txn.updateDisclosure(disclosure)
                try txn.enqueue(Exchange.outboxItem(for: disclosure, recipient: recipient, now: now))
                try txn.appendLog(LogEntryDraft(.disclosureAuthorised, disclosure: disclosure, actor: actor.id))
                released.append(disclosure)
            }
            let receipt = ConsentReceipt(
                id: consent.id, referralID: referralID, subjectID: subject.id, recordedAt: now, released: released.map(DisclosureSummary.init)
            )
            try txn.setConsentReceipt(id: consent.id, receipt.json.serialized())
            return receipt
        }
    }

    // MARK: Reading

    /// GET /v1/consents/{id}: the record, for the partner that recorded it and for admins. Who
    /// obtained it and the notes (personal data, sealed) only for an admin asking `withDetails`.
    /// Every reading is logged (`consent.viewed`, saying whether the details were shown).
    package func consentRecord(_ id: String, withDetails: Bool, by actor: Actor) async throws -> ConsentView {
        if withDetails && !actor.isAdmin {
            throw ExchangeError(.forbidden, "Only an admin may read a consent's sealed details.")
        }
        let keyring = self.keyring
        return try await store.write { txn in
            guard let consent = try txn.consent(id: id), actor.isAdmin || consent.partnerID == actor.id else {
                throw ExchangeError(.notFound, "There is no consent \(id) of yours.")
            }
            let now = txn.now
            // A consent never withdrawn permits nothing once its subject is erased: not "in force".
            let subjectErased = try txn.subject(id: consent.subjectID)?.erasedAt != nil
            let state: ConsentView.State = consent.withdrawnAt != nil ? .withdrawn : subjectErased ? .erased : (consent.isInForce(at: now) ? .inForce : .expired)
            var details = ConsentView.Details.notAsked
            if withDetails {
                if let sealed = consent.sealedDetails, let wrapped = try txn.subjectKey(subjectID: consent.subjectID),
                   let opened = try? JSONValue.parse(try keyring.open(sealed, key: try keyring.unwrap(wrapped), context: "consent|\(consent.id)")) {
                    details = .shown(opened)
                } else {
                    details = .erased
                }
            }
            try txn.appendLog(LogEntryDraft(
                event: .consentViewed, actor: actor.id, referralID: consent.referralID, subjectID: consent.subjectID, consentID: consent.id,
                details: ["sealedDetails": .bool(withDetails)]
            ))
            return ConsentView(record: consent, state: state, details: details)
        }
    }

    // MARK: Withdrawing one consent

    /// POST /v1/consents/{id}/withdraw: that consent is withdrawn from now. Undelivered
    /// disclosures relying on it are cancelled; recipients that received data under it are sent
    /// an erasure notice naming the disclosure and the consent; disclosures under another consent
    /// or an override are untouched. The subject's data is erased only when no consent remains in
    /// force and no disclosure stands on another lawful basis; otherwise `retainedBecause` says
    /// what is still in force. A repeat gets the first answer and sends nothing.
    /// `reason`, when given, is the partner's reason in words: checked as free text, committed
    /// to in the `consent.withdrawn` entry, sealed under the subject's key.
    package func withdrawConsent(_ id: String, reason: String? = nil, by actor: Actor) async throws -> ConsentWithdrawal {
        let recipients = self.recipients
        let keyring = self.keyring
        let limits = self.limits
        let statement = try Exchange.shapedReason(reason, field: "reason")
        return try await store.write { txn in
            guard let consent = try txn.consent(id: id), actor.isAdmin || consent.partnerID == actor.id else {
                throw ExchangeError(.notFound, "There is no consent \(id) of yours.")
            }
            let known = ConsentWithdrawal(
                consentID: id, subjectID: consent.subjectID, withdrawnAt: consent.withdrawnAt ?? txn.now, erased: false, erasedAt: nil,
                cancelled: [], notices: [], keptUnderAnotherConsent: nil
            )
            if let receipt = consent.withdrawalReceipt {
                return ConsentWithdrawal(stored: (try? JSONValue.parse(receipt)) ?? .null, known: known)
            }
            let now = txn.now
            if let withdrawnAt = consent.withdrawnAt {
                // Withdrawn by an older refex, which kept no answer: what is true, with nothing new
                // sent, in the shape that refex answered with.
                return ConsentWithdrawal(stored: [
                    "id": .string(id), "subjectId": .string(consent.subjectID), "withdrawnAt": .string(withdrawnAt.description),
                    "cancelled": [], "erasureNotices": [], "notices": [],
                    "erased": .bool(try txn.subject(id: consent.subjectID)?.erasedAt != nil),
                ], known: known)
            }
            // Erased by other means (retention, an erasure, another consent's withdrawal): the
            // consent permits nothing any more, and a withdrawal now would do nothing.
            if let erasedAt = try txn.subject(id: consent.subjectID)?.erasedAt {
                throw ExchangeError(.erased, "The subject's data was erased on \(erasedAt); there is nothing left to withdraw.")
            }
            let digest = try Exchange.commitReason(statement, field: "reason", subjectID: consent.subjectID, keyring: keyring, limits: limits, txn: txn)
            var (cancelled, notices, kept) = try Exchange.withdraw(
                consent, reason: "consent-withdrawn", actor: actor, recipients: recipients, txn: txn, justificationDigest: digest, keepCovered: true
            )
            var answer = ConsentWithdrawal(
                consentID: id, subjectID: consent.subjectID, withdrawnAt: now, erased: false, erasedAt: nil, cancelled: [], notices: [],
                keptUnderAnotherConsent: []
            )
            let retained = try Exchange.groundsInForce(subjectID: consent.subjectID, txn: txn)
            if retained.isEmpty {
                let erased = try Exchange.erase(
                    subjectID: consent.subjectID, reason: "consent-withdrawn", consentID: id, actor: actor, recipients: recipients, txn: txn
                )
                cancelled += erased.cancelled
                notices += erased.notices
                kept = []
                answer.erased = true
                answer.erasedAt = now
            } else {
                answer.retainedBecause = retained
            }
            answer.cancelled = cancelled.map(DisclosureSummary.init)
            answer.notices = notices
            answer.keptUnderAnotherConsent = kept.map {
                ConsentWithdrawal.Kept(disclosureID: $0.id, recipientID: $0.recipientID, service: $0.service, consentID: $0.consentID)
            }
            try txn.setConsentWithdrawalReceipt(id: id, answer.json.serialized())
            return answer
        }
    }

    // MARK: Leaving the service

    /// POST /v1/subjects/{id}/withdraw: the subject leaves the service. Every consent is
    /// withdrawn, the subject erased, and every recipient that received anything notified.
    /// For the partner that referred the subject (another partner's subject is 404) or an admin.
    /// A repeat gets the first answer; a subject erased by other means is 410.
    package func withdrawSubject(_ subjectID: String, reason: String? = nil, by actor: Actor) async throws -> SubjectWithdrawal {
        let recipients = self.recipients
        let keyring = self.keyring
        let limits = self.limits
        let statement = try Exchange.shapedReason(reason, field: "reason")
        return try await store.write { txn in
            guard let subject = try txn.subject(id: subjectID),
                  try actor.isAdmin || txn.referrals(subjectID: subjectID).contains(where: { $0.partnerID == actor.id }) else {
                throw ExchangeError(.notFound, "There is no subject \(subjectID) of yours.")
            }
            if let receipt = subject.withdrawalReceipt {
                let known = SubjectWithdrawal(
                    subjectID: subjectID, withdrawnAt: subject.erasedAt ?? txn.now, consentsWithdrawn: [], cancelled: [], notices: [],
                    erasedAt: subject.erasedAt ?? txn.now
                )
                return SubjectWithdrawal(stored: (try? JSONValue.parse(receipt)) ?? .null, known: known)
            }
            if let erasedAt = subject.erasedAt {
                throw ExchangeError(.erased, "Subject \(subjectID) was erased on \(erasedAt); there is nothing left to withdraw.")
            }
            let now = txn.now
            // Sealed under the key this withdrawal deletes: committed to, and gone with the subject.
            let digest = try Exchange.commitReason(statement, field: "reason", subjectID: subjectID, keyring: keyring, limits: limits, txn: txn)
            var cancelled: [DisclosureRecord] = []
            var notices: [NoticeSummary] = []
            var withdrawn: [String] = []
            for consent in try txn.consents(subjectID: subjectID) where consent.withdrawnAt == nil {
                let (more, noticed, _) = try Exchange.withdraw(consent, reason: "subject-withdrew", actor: actor, recipients: recipients, txn: txn)
                cancelled += more
                notices += noticed
                withdrawn.append(consent.id)
                // Withdrawing this consent again later answers with what its withdrawal did here.
                let consentAnswer = ConsentWithdrawal(
                    consentID: consent.id, subjectID: subjectID, withdrawnAt: now, withSubject: true, erased: true, erasedAt: now,
                    cancelled: more.map(DisclosureSummary.init), notices: noticed, keptUnderAnotherConsent: nil
                )
                try txn.setConsentWithdrawalReceipt(id: consent.id, consentAnswer.json.serialized())
            }
            try txn.appendLog(LogEntryDraft(
                event: .subjectWithdrew, actor: actor.id, subjectID: subjectID, justificationDigest: digest, reason: "subject-withdrew",
                details: ["consents": .array(withdrawn.map { .string($0) })]
            ))
            let erased = try Exchange.erase(subjectID: subjectID, reason: "subject-withdrew", consentID: nil, actor: actor, recipients: recipients, txn: txn)
            cancelled += erased.cancelled
            notices += erased.notices
            let answer = SubjectWithdrawal(
                subjectID: subjectID, withdrawnAt: now, consentsWithdrawn: withdrawn, cancelled: cancelled.map(DisclosureSummary.init),
                notices: notices, erasedAt: now
            )
            try txn.setSubjectWithdrawalReceipt(subjectID: subjectID, answer.json.serialized())
            return answer
        }
    }

    // MARK: Inside a transaction

    /// Withdraws `consent`: marks and logs it, cancels the undelivered disclosures relying on it,
    /// and queues an erasure notice for each that was (or may have been) received. With
    /// `keepCovered`, a disclosure that another consent in force also covers (same service and
    /// recipient: consent obtained again, say) is not stopped but stands on that consent from now
    /// (logged `disclosure.authorised` with `previousConsentId`), and its recipient keeps what it has.
    static func withdraw(
        _ consent: ConsentRecord, reason: String, actor: Actor, recipients: [Recipient], txn: any StoreTransaction,
        justificationDigest: String? = nil, keepCovered: Bool = false
    ) throws -> (cancelled: [DisclosureRecord], notices: [NoticeSummary], kept: [DisclosureRecord]) {
        let now = txn.now
        try txn.markConsentWithdrawn(id: consent.id, at: now)
        try txn.appendLog(LogEntryDraft(
            event: .consentWithdrawn, actor: actor.id, referralID: consent.referralID, subjectID: consent.subjectID, consentID: consent.id,
            justificationDigest: justificationDigest, reason: reason
        ))
        var cancelled: [DisclosureRecord] = []
        var notices: [NoticeSummary] = []
        var kept: [DisclosureRecord] = []
        let others = keepCovered ? try txn.consents(subjectID: consent.subjectID).filter { $0.id != consent.id && $0.isInForce(at: now) } : []
        // Those that stand on it; one withheld since (its consent lapsed) waits for a new consent, not on this one.
        for disclosure in try txn.disclosures(subjectID: consent.subjectID) where DisclosureRule.Standing(disclosure) == .consent(id: consent.id) {
            let inEffect = disclosure.state == .queued || disclosure.state == .failed || (disclosure.state == .delivered && disclosure.reason == nil)
            if inEffect, let recipientID = disclosure.recipientID,
               let other = others.first(where: { $0.covers(service: disclosure.service, recipient: recipientID, at: now) }) {
                var moved = disclosure
                moved.consentID = other.id
                moved.updatedAt = now
                try txn.updateDisclosure(moved)
                var draft = LogEntryDraft(.disclosureAuthorised, disclosure: moved, actor: actor.id)
                draft.reason = nil
                draft.details = ["previousConsentId": .string(consent.id)]
                try txn.appendLog(draft)
                kept.append(moved)
                continue
            }
            let (wasCancelled, notice) = try stop(
                disclosure, reason: WithholdingReason.consentWithdrawn.rawValue, consentID: consent.id, actor: actor, recipients: recipients, txn: txn
            )
            if let wasCancelled { cancelled.append(wasCancelled) }
            if let notice { notices.append(notice) }
        }
        return (cancelled, notices, kept)
    }

    /// Stops one disclosure for `reason`: one not yet sent is cancelled; one received, or
    /// perhaps received (an attempt that failed), is followed by an erasure notice (Art. 19).
    /// A delivered disclosure keeps its state and records in `reason` that its recipient was
    /// told to erase it, so that it is never told twice.
    static func stop(
        _ disclosure: DisclosureRecord, reason: String, consentID: String?, actor: Actor, recipients: [Recipient], txn: any StoreTransaction
    ) throws -> (cancelled: DisclosureRecord?, notice: NoticeSummary?) {
        var disclosure = disclosure
        let now = txn.now
        switch disclosure.state {
        case .queued, .awaitingConsent:
            let wasQueued = disclosure.state == .queued
            disclosure.state = .cancelled
            disclosure.reason = reason
            disclosure.updatedAt = now
            try txn.updateDisclosure(disclosure)
            if wasQueued { try txn.dequeue(id: disclosure.id) }
            try txn.appendLog(LogEntryDraft(.disclosureCancelled, disclosure: disclosure, actor: actor.id))
            return (disclosure, nil)
        case .delivered:
            guard disclosure.reason == nil else { return (nil, nil) }  // already told to erase it
            try txn.dequeue(id: disclosure.id)  // a mailbox item fetched but not yet acknowledged
            disclosure.reason = reason
            disclosure.updatedAt = now
            try txn.updateDisclosure(disclosure)
            let notice = try queueErasureNotice(for: disclosure, reason: reason, consentID: consentID, actor: actor, recipients: recipients, txn: txn)
            return (nil, notice)
        case .failed:
            // Given up on, but an attempt that timed out may still have arrived: the recipient
            // is told to erase it too, and the item can no longer be retried.
            let attempted = try txn.outboxItem(id: disclosure.id).map { $0.attempts > 0 } ?? true
            try txn.dequeue(id: disclosure.id)
            disclosure.state = .cancelled
            disclosure.reason = reason
            disclosure.updatedAt = now
            try txn.updateDisclosure(disclosure)
            try txn.appendLog(LogEntryDraft(.disclosureCancelled, disclosure: disclosure, actor: actor.id))
            guard attempted else { return (disclosure, nil) }
            let notice = try queueErasureNotice(
                for: disclosure, reason: reason, consentID: consentID, actor: actor, recipients: recipients, txn: txn,
                details: ["possiblyReceived": true]
            )
            return (disclosure, notice)
        case .refused, .cancelled:
            return (nil, nil)
        }
    }

    /// What still makes processing the subject's data lawful: consents in force, and disclosures
    /// authorised on a basis other than consent that are queued, delivered or failed. Empty when
    /// nothing does.
    static func groundsInForce(subjectID: String, txn: any StoreTransaction) throws -> [ConsentWithdrawal.Ground] {
        let now = txn.now
        var grounds: [ConsentWithdrawal.Ground] = []
        // A restriction (Art. 18) is the subject asking that the data be kept but not used (to
        // establish a claim, say): erasing it because a consent ended would defeat it.
        if try txn.subject(id: subjectID)?.restricted == true {
            grounds.append(.restriction)
        }
        for consent in try txn.consents(subjectID: subjectID) where consent.isInForce(at: now) {
            grounds.append(.consent(id: consent.id, purposes: consent.purposes))
        }
        for disclosure in try txn.disclosures(subjectID: subjectID) {
            guard let basis = disclosure.lawfulBasis, basis != .consent,
                  [.queued, .delivered, .failed].contains(disclosure.state), disclosure.reason == nil || disclosure.state == .failed else { continue }
            grounds.append(.disclosure(basis: basis, disclosureID: disclosure.id, recipientID: disclosure.recipientID, service: disclosure.service))
        }
        return grounds
    }

    /// Crypto-shreds a subject inside `txn`: stops every disclosure (cancelled, or an erasure
    /// notice to a recipient that received data and was not told already), deletes the key,
    /// every sealed body and free text, and logs it.
    package static func erase(
        subjectID: String, reason: String, consentID: String?, actor: Actor, recipients: [Recipient], txn: any StoreTransaction,
        justificationDigest: String? = nil
    ) throws -> (cancelled: [DisclosureRecord], notices: [NoticeSummary]) {
        var cancelled: [DisclosureRecord] = []
        var notices: [NoticeSummary] = []
        for disclosure in try txn.disclosures(subjectID: subjectID) {
            let onWithdrawnConsent = consentID.map { DisclosureRule.Standing(disclosure) == .consent(id: $0) } ?? false
            let stopReason: WithholdingReason = onWithdrawnConsent ? .consentWithdrawn : .subjectErased
            let (wasCancelled, notice) = try stop(
                disclosure, reason: stopReason.rawValue, consentID: onWithdrawnConsent ? consentID : nil,
                actor: actor, recipients: recipients, txn: txn
            )
            if let wasCancelled { cancelled.append(wasCancelled) }
            if let notice { notices.append(notice) }
        }
        try txn.eraseSubject(id: subjectID, at: txn.now)
        try txn.appendLog(LogEntryDraft(
            event: .subjectErased, actor: actor.id, subjectID: subjectID, consentID: consentID, justificationDigest: justificationDigest,
            reason: reason
        ))
        return (cancelled, notices)
    }
}
