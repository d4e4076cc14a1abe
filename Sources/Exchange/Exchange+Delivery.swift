import Crypto
import JSON
import Timekeeping

extension Exchange {
    /// What a recipient receives for an outbox item (the same for push and pull): for a
    /// disclosure, `{disclosureId, referralId, service, lawfulBasis, consentId, data}` with only
    /// the decided pointers; for a notice, the notice. Throws `ExchangeError(.erased)` when the
    /// data is gone or the disclosure was cancelled: such an item is never sent.
    package func deliveryBody(for item: OutboxItem) async throws -> [UInt8] {
        let keyring = self.keyring
        if item.kind == .erasureNotice {
            guard let payload = item.payload else { throw ExchangeError(.notFound, "the notice has no body") }
            return payload
        }
        if item.kind == .rectificationNotice {
            // Sealed under the subject key: once the subject is erased, the notice is gone too.
            let wrapped = try await store.read { txn -> WrappedSubjectKey? in
                guard let disclosure = try txn.disclosure(id: item.disclosureID) else { return nil }
                return try txn.subjectKey(subjectID: disclosure.subjectID)
            }
            guard let payload = item.payload, let wrapped else { throw ExchangeError(.erased, "the subject was erased; the notice is void") }
            return try keyring.open(payload, key: try keyring.unwrap(wrapped), context: "notice|\(item.id)")
        }
        let limits = self.limits
        let recipients = self.recipients
        let (disclosure, referral, wrapped, reasonNotToSend) = try await store.read { txn in
            guard let disclosure = try txn.disclosure(id: item.disclosureID),
                  let referral = try txn.referral(id: disclosure.referralID) else {
                throw ExchangeError(.notFound, "disclosure \(item.disclosureID) no longer exists")
            }
            return (disclosure, referral, try txn.subjectKey(subjectID: referral.subjectID),
                    try Exchange.reasonNotToSend(disclosure, recipients: recipients, txn: txn))
        }
        guard disclosure.state == .queued || disclosure.state == .delivered, let wrapped, let sealed = referral.sealedBody else {
            throw ExchangeError(.erased, "disclosure \(disclosure.id) is \(disclosure.state.rawValue); nothing is sent")
        }
        if let reasonNotToSend {
            throw ExchangeError(.erased, "disclosure \(disclosure.id) may not be sent now (\(reasonNotToSend.rawValue))")
        }
        let plaintext = try keyring.open(sealed, key: try keyring.unwrap(wrapped), context: "referral|\(referral.id)")
        let document = try JSONValue.parse(plaintext, limits: limits)
        let data = Minimiser.select(document, pointers: disclosure.pointers)
        let body: JSONValue = [
            "disclosureId": .string(disclosure.id),
            "referralId": .string(disclosure.referralID),
            "service": .string(disclosure.service),
            "lawfulBasis": disclosure.lawfulBasis.map { .string($0.rawValue) } ?? .null,
            "consentId": disclosure.consentID.map { .string($0) } ?? .null,
            "data": data,
        ]
        return body.serialized()
    }

    /// Records what a delivery attempt came to: delivered (logged), rescheduled, or failed (logged),
    /// and ends the claim the attempt was made under (`item.claim`), in the same commit.
    package func recordDelivery(_ item: OutboxItem, decision: RetrySchedule.Decision, actor: Actor = .system) async throws {
        let recipients = self.recipients
        try await store.write { txn in
            if let claim = item.claim { try txn.releaseOutboxClaim(id: item.id, claim: claim) }
            guard var current = try txn.outboxItem(id: item.id) else {
                // Taken out of the outbox while this attempt was under way (consent withdrawn,
                // subject erased or restricted): what the attempt came to must still be recorded.
                try Exchange.recordAttemptOnWithdrawnItem(item, decision: decision, actor: actor, recipients: recipients, txn: txn)
                return
            }
            let now = txn.now
            switch decision {
            case .delivered:
                try txn.dequeue(id: item.id)
                try Exchange.markDelivered(current, actor: actor, recipients: recipients, txn: txn)
            case .retry(let at, let reason):
                current.attempts += 1
                current.nextAttemptAt = at
                current.lastError = reason
                try txn.updateOutbox(current)
            case .fail(let reason):
                current.attempts += 1
                current.state = .failed
                current.lastError = reason
                try txn.updateOutbox(current)
                guard var disclosure = try txn.disclosure(id: item.disclosureID) else { return }
                if item.kind == .disclosure {
                    if disclosure.state == .queued {
                        disclosure.state = .failed
                        disclosure.reason = reason
                        disclosure.updatedAt = now
                        try txn.updateDisclosure(disclosure)
                    }
                    try txn.appendLog(LogEntryDraft(.disclosureFailed, disclosure: disclosure, actor: actor.id, reason: reason))
                } else {
                    try txn.appendLog(LogEntryDraft(
                        event: .noticeFailed, actor: actor.id, referralID: disclosure.referralID, subjectID: disclosure.subjectID,
                        disclosureID: disclosure.id, recipientID: item.recipientID, reason: reason,
                        details: ["type": .string(item.kind.rawValue), "noticeId": .string(item.id)]
                    ))
                }
            }
        }
    }

    /// Records that a disclosure (or notice) reached its recipient, once: a disclosure already
    /// recorded as delivered (a pull item fetched before its ack) is not logged again.
    static func markDelivered(
        _ item: OutboxItem, actor: Actor, recipients: [Recipient], txn: any StoreTransaction, details: JSONObject? = nil
    ) throws {
        guard var disclosure = try txn.disclosure(id: item.disclosureID) else { return }
        let now = txn.now
        if item.kind != .disclosure {
            try txn.appendLog(LogEntryDraft(
                event: .noticeDelivered, actor: actor.id, referralID: disclosure.referralID, subjectID: disclosure.subjectID,
                disclosureID: disclosure.id, recipientID: item.recipientID,
                details: ["type": .string(item.kind.rawValue), "noticeId": .string(item.id)]
            ))
            return
        }
        if disclosure.state == .delivered { return }
        let wasCancelled = disclosure.state == .cancelled
        let cancellation = disclosure.reason
        disclosure.state = .delivered
        disclosure.reason = nil
        disclosure.updatedAt = now
        try txn.updateDisclosure(disclosure)
        var draft = LogEntryDraft(.disclosureDelivered, disclosure: disclosure, actor: actor.id)
        draft.details = details
        if wasCancelled {
            // Cancelled while the attempt was under way, yet it arrived: said in the log.
            var noted = details ?? [:]
            noted["arrivedAfterCancellation"] = .string(cancellation ?? "cancelled")
            draft.details = noted
        }
        try txn.appendLog(draft)
        // The recipient now holds data whose consent was withdrawn or whose subject was erased
        // while it was on its way: it must erase it too (Art. 19).
        if wasCancelled, let reason = try noticeReasonForCancelled(disclosure, cancellation: cancellation, txn: txn) {
            disclosure.reason = reason
            try txn.updateDisclosure(disclosure)
            try queueErasureNotice(
                for: disclosure, reason: reason, consentID: reason == "consent-withdrawn" ? disclosure.consentID : nil,
                actor: .system, recipients: recipients, txn: txn
            )
        }
    }

    /// Why the recipient of a cancelled disclosure that reached it (or may have) must be told to
    /// erase it: its consent was withdrawn or its subject erased. nil for other cancellations.
    static func noticeReasonForCancelled(_ disclosure: DisclosureRecord, cancellation: String?, txn: any StoreTransaction) throws -> String? {
        if let subject = try txn.subject(id: disclosure.subjectID), subject.erasedAt != nil { return "subject-erased" }
        if cancellation == "consent-withdrawn" || cancellation == "subject-withdrew" { return cancellation }
        if let consentID = disclosure.consentID, try txn.consent(id: consentID)?.withdrawnAt != nil { return "consent-withdrawn" }
        return nil
    }

    /// What an attempt came to when its item left the outbox while it was under way. Delivered:
    /// logged as delivered, and followed by an erasure notice when its consent was withdrawn or
    /// its subject erased meanwhile. Not known to have arrived (a timeout, say, may still have
    /// delivered it): such a recipient is sent an erasure notice all the same, since it cannot
    /// be told apart.
    static func recordAttemptOnWithdrawnItem(
        _ item: OutboxItem, decision: RetrySchedule.Decision, actor: Actor, recipients: [Recipient], txn: any StoreTransaction
    ) throws {
        guard item.kind == .disclosure, let disclosure = try txn.disclosure(id: item.disclosureID) else { return }
        if case .delivered = decision {
            try markDelivered(item, actor: actor, recipients: recipients, txn: txn)
            return
        }
        guard disclosure.state == .cancelled, let reason = try noticeReasonForCancelled(disclosure, cancellation: disclosure.reason, txn: txn) else {
            return
        }
        try queueErasureNotice(
            for: disclosure, reason: reason, consentID: reason == "consent-withdrawn" ? disclosure.consentID : nil,
            actor: .system, recipients: recipients, txn: txn, details: ["possiblyReceived": true]
        )
    }

    /// The id of the notice of `kind` about a disclosure for `reason`: the same every time, so
    /// that a recipient recognises a repeat (it is also the notice's `Idempotency-Key`).
    package static func noticeID(kind: OutboxItem.Kind, disclosureID: String, reason: String) -> String {
        let hex = Array(SHA256.hash(Array("\(kind.rawValue)|\(disclosureID)|\(reason)".utf8)).prefix(16)).hexString
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }

    /// Queues an erasure notice (UK GDPR Art. 19) to the disclosure's recipient, and logs it;
    /// `{type, noticeId, disclosureId, referralId, reason, consentId?}`. A notice for the same
    /// disclosure and reason is queued once.
    @discardableResult
    static func queueErasureNotice(
        for disclosure: DisclosureRecord, reason: String, consentID: String? = nil, actor: Actor, recipients: [Recipient],
        txn: any StoreTransaction, details: JSONObject = [:]
    ) throws -> NoticeSummary? {
        guard let recipientID = disclosure.recipientID else { return nil }
        let id = noticeID(kind: .erasureNotice, disclosureID: disclosure.id, reason: reason)
        let summary = NoticeSummary(id: id, disclosureID: disclosure.id, recipientID: recipientID, reason: reason)
        if try txn.outboxItem(id: id) != nil { return summary }
        var notice: JSONObject = [
            "type": "erasure-notice", "noticeId": .string(id), "disclosureId": .string(disclosure.id),
            "referralId": .string(disclosure.referralID), "reason": .string(reason),
        ]
        if let consentID { notice["consentId"] = .string(consentID) }
        var item = outboxItem(for: disclosure, recipient: recipients.first { $0.id == recipientID }, now: txn.now)
        item.id = id
        item.kind = .erasureNotice
        item.payload = JSONValue.object(notice).serialized()
        try txn.enqueue(item)
        var noted = details
        noted["type"] = "erasure-notice"
        noted["noticeId"] = .string(item.id)
        try txn.appendLog(LogEntryDraft(
            event: .noticeQueued, actor: actor.id, referralID: disclosure.referralID, subjectID: disclosure.subjectID,
            disclosureID: disclosure.id, recipientID: recipientID, consentID: consentID, reason: reason, details: noted
        ))
        return summary
    }

    /// Why a disclosure may not go out now, or nil if it may. Checked again at the moment data
    /// leaves (a push, a mailbox fetch, an operator's retry), since the decision was made:
    /// consent can expire or be withdrawn, and processing can be restricted, after it. Only the
    /// consent it was authorised on counts: another does not stand in for it unrecorded.
    /// `recipients`: the recipients as configured now (none for a host command given only `--store`).
    static func reasonNotToSend(_ disclosure: DisclosureRecord, recipients: [Recipient], txn: any StoreTransaction) throws -> WithholdingReason? {
        let subject = try txn.subject(id: disclosure.subjectID)
        let standing = DisclosureRule.Standing(disclosure)
        var consents: [ConsentRecord] = []
        if case .consent(let id?) = standing, let consent = try txn.consent(id: id) { consents = [consent] }
        return DisclosureRule.decide(
            subject: DisclosureRule.SubjectState(subject), consents: consents, recipientID: disclosure.recipientID,
            configuration: recipients.first { $0.id == disclosure.recipientID }, service: disclosure.service, standing: standing,
            pointers: disclosure.pointers, categories: disclosure.categories, at: txn.now
        ).withholdingReason
    }

    /// An item that may not be sent (cancelled, erased, restricted, or its consent lapsed) is
    /// taken out of the outbox; a queued disclosure whose basis lapsed is withheld and logged:
    /// restricted ones wait for the restriction to lift, lapsed consents for a new consent.
    package func discard(_ item: OutboxItem) async throws {
        let recipients = self.recipients
        try await store.write { txn in
            if let claim = item.claim { try txn.releaseOutboxClaim(id: item.id, claim: claim) }
            guard item.kind == .disclosure, var disclosure = try txn.disclosure(id: item.disclosureID), disclosure.state == .queued else {
                try txn.dequeue(id: item.id)
                return
            }
            guard let reason = try Exchange.reasonNotToSend(disclosure, recipients: recipients, txn: txn) else { return }  // sendable again
            try Exchange.withhold(&disclosure, for: reason, actor: "system", txn: txn)
        }
    }

    // MARK: Pull mailboxes

    /// The recipients whose mailbox `partner` pulls.
    package func mailboxRecipients(of partnerID: String) -> [String] {
        recipients.filter { if case .pull(let owner) = $0.delivery { return owner == partnerID } else { return false } }.map(\.id)
    }

    /// GET /v1/mailbox: what awaits the partner's recipients, oldest first, paged with an `after` cursor.
    package func mailbox(for actor: Actor, after cursor: String?, limit: Int) async throws -> MailboxPage {
        let owned = mailboxRecipients(of: actor.id)
        let page = max(1, min(limit, 500))
        let items = try await store.read { txn in try txn.mailbox(recipientIDs: owned, afterID: cursor, limit: page + 1) }
        let shown = items.prefix(page)
        return MailboxPage(
            items: shown.map {
                MailboxPage.Item(id: $0.id, kind: $0.kind, disclosureID: $0.disclosureID, recipientID: $0.recipientID, enqueuedAt: $0.enqueuedAt)
            },
            next: items.count > page ? shown.last?.id : nil
        )
    }

    /// GET /v1/mailbox/{id}: the item's body, as push would send it; 404 for another recipient's item.
    ///
    /// Fetching a disclosure is the moment its data leaves: the basis is checked again, and the
    /// disclosure is recorded as delivered (and logged) before the body is returned. The item
    /// stays in the mailbox until acknowledged, so a fetch whose answer was lost can be repeated.
    package func mailboxItem(_ id: String, for actor: Actor) async throws -> [UInt8] {
        let notFound = ExchangeError(.notFound, "There is no mailbox item \(id) for you.")
        let owned = Set(mailboxRecipients(of: actor.id))
        let item = try await store.read { txn in try txn.outboxItem(id: id) }
        guard let item, item.mode == .pull, item.state == .pending, owned.contains(item.recipientID) else { throw notFound }
        let body: [UInt8]
        do {
            body = try await deliveryBody(for: item)
        } catch let error as ExchangeError where error.kind == .erased || error.kind == .notFound {
            try await discard(item)
            throw notFound
        }
        guard item.kind == .disclosure else { return body }
        let recipients = self.recipients
        let released = try await store.write { txn -> Bool in
            guard let current = try txn.outboxItem(id: id), current.state == .pending,
                  let disclosure = try txn.disclosure(id: item.disclosureID) else { return false }
            if disclosure.state == .delivered { return true }
            guard disclosure.state == .queued, try Exchange.reasonNotToSend(disclosure, recipients: recipients, txn: txn) == nil else { return false }
            try Exchange.markDelivered(item, actor: actor, recipients: recipients, txn: txn, details: ["via": "mailbox"])
            return true
        }
        guard released else {
            try await discard(item)
            throw notFound
        }
        return body
    }

    /// POST /v1/mailbox/{id}/ack: the recipient has it; out of the mailbox, and delivered (logged
    /// once: at the fetch, or here for an item acknowledged unseen). Acknowledging again answers
    /// as the first time, with the first `acknowledgedAt`.
    package func acknowledge(_ id: String, by actor: Actor) async throws -> Acknowledgement {
        let owned = Set(mailboxRecipients(of: actor.id))
        let recipients = self.recipients
        return try await store.write { txn in
            guard let item = try txn.outboxItem(id: id), item.mode == .pull, owned.contains(item.recipientID) else {
                if let first = try txn.acknowledgement(itemID: id), owned.contains(first.recipientID) {
                    return Acknowledgement(itemID: id, acknowledgedAt: first.at)
                }
                // Acknowledged before refex remembered acknowledgements: delivered, time unknown.
                if let disclosure = try txn.disclosure(id: id), disclosure.state == .delivered,
                   let recipientID = disclosure.recipientID, owned.contains(recipientID) {
                    return Acknowledgement(itemID: id, acknowledgedAt: nil)
                }
                throw ExchangeError(.notFound, "There is no mailbox item \(id) for you.")
            }
            // Fetching is what discloses (and logs it); an acknowledgement of a disclosure never
            // fetched would log a delivery of data that never left.
            if item.kind == .disclosure, let disclosure = try txn.disclosure(id: item.disclosureID), disclosure.state != .delivered {
                throw ExchangeError(.conflict, "This mailbox item has not been fetched: fetch it (GET /v1/mailbox/{id}), then acknowledge it. Nothing was recorded.")
            }
            try txn.dequeue(id: id)
            try Exchange.markDelivered(item, actor: actor, recipients: recipients, txn: txn)
            try txn.recordAcknowledgement(itemID: id, recipientID: item.recipientID, at: txn.now)
            return Acknowledgement(itemID: id, acknowledgedAt: txn.now)
        }
    }

    // MARK: Operators

    /// `refex outbox retry ID`: a failed item goes back in the queue, with a fresh maximum age.
    package func retry(_ id: String, by actor: Actor) async throws -> OutboxItem {
        let recipients = self.recipients
        return try await store.write { txn in
            guard var item = try txn.outboxItem(id: id) else { throw ExchangeError(.notFound, "There is no outbox item \(id).") }
            guard item.state == .failed else { throw ExchangeError(.conflict, "Outbox item \(id) has not failed; it is \(item.state.rawValue).") }
            if item.kind == .disclosure, let disclosure = try txn.disclosure(id: item.disclosureID),
               let reason = try Exchange.reasonNotToSend(disclosure, recipients: recipients, txn: txn) {
                throw ExchangeError(.conflict, "Disclosure \(disclosure.id) may not be sent now (\(reason.rawValue)); it is not retried.")
            }
            let now = txn.now
            item.state = .pending
            item.attempts = 0
            item.enqueuedAt = now
            item.nextAttemptAt = now
            try txn.updateOutbox(item)
            if item.kind == .disclosure, var disclosure = try txn.disclosure(id: item.disclosureID) {
                disclosure.state = .queued
                disclosure.reason = nil
                disclosure.updatedAt = now
                try txn.updateDisclosure(disclosure)
                try txn.appendLog(LogEntryDraft(.disclosureRetried, disclosure: disclosure, actor: actor.id))
            }
            return item
        }
    }

    /// Consent records of a subject, or of a referral's subject.
    package func consents(subjectID: String?, referralID: String?) async throws -> [ConsentRecord] {
        try await store.read { txn in
            if let subjectID { return try txn.consents(subjectID: subjectID) }
            guard let referralID, let referral = try txn.referral(id: referralID) else { return [] }
            return try txn.consents(subjectID: referral.subjectID).filter { $0.referralID == referralID }
        }
    }

    package func outbox(state: OutboxItem.State?, limit: Int) async throws -> [OutboxItem] {
        try await store.read { txn in try txn.outboxItems(state: state, limit: limit) }
    }

    package func outboxDepths() async throws -> [OutboxDepth] {
        try await store.read { txn in try txn.outboxDepths() }
    }

    /// Due push items that no one holds, up to `limit` for each of `recipientIDs` (so that no
    /// recipient's backlog hides another's). A read beside the writer: what `claimDueOutbox` would
    /// take, without taking it.
    package func dueOutbox(recipientIDs: [String], limit: Int) async throws -> [OutboxItem] {
        try await store.read { txn in
            try recipientIDs.flatMap { try txn.dueOutbox(recipientID: $0, now: txn.now, limit: limit) }
        }
    }

    /// Claims due push items for `claimant` for `lease`: up to `limits[recipient]` of each
    /// recipient's, in one commit. Only the claimant attempts them until the lease ends (or it
    /// records the attempt, or releases them); then anyone may claim them again.
    package func claimDueOutbox(_ limits: [String: Int], claimant: String, lease: Duration) async throws -> [OutboxItem] {
        try await store.write { txn in
            let until = Timestamp(milliseconds: txn.now.milliseconds + lease.wholeMilliseconds)
            return try limits.sorted { $0.key < $1.key }.flatMap { recipientID, limit in
                try txn.claimDueOutbox(recipientID: recipientID, now: txn.now, leaseUntil: until, claimant: claimant, limit: limit)
            }
        }
    }

    /// Gives claimed items back unattempted (a lane that stopped or changed), so that they are
    /// claimed again at once rather than when their lease ends.
    package func releaseClaims(_ items: [OutboxItem]) async throws {
        let claimed = items.compactMap { item in item.claim.map { (item.id, $0) } }
        guard !claimed.isEmpty else { return }
        try await store.write { txn in
            for (id, claim) in claimed { try txn.releaseOutboxClaim(id: id, claim: claim) }
        }
    }
}

extension Minimiser {
    /// Exactly `pointers` (concrete, no wildcards) of `document`: what a decision recorded.
    package static func select(_ document: JSONValue, pointers: [String]) -> JSONValue {
        minimise(document, fields: pointers, categories: [], markings: DocumentMarkings(), wildcards: false).data
    }
}
