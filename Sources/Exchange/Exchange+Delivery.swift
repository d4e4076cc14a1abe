import Crypto
import JSON

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
        let (disclosure, referral, wrapped) = try await store.read { txn in
            guard let disclosure = try txn.disclosure(id: item.disclosureID),
                  let referral = try txn.referral(id: disclosure.referralID) else {
                throw ExchangeError(.notFound, "disclosure \(item.disclosureID) no longer exists")
            }
            return (disclosure, referral, try txn.subjectKey(subjectID: referral.subjectID))
        }
        guard disclosure.state == .queued || disclosure.state == .delivered, let wrapped, let sealed = referral.sealedBody else {
            throw ExchangeError(.erased, "disclosure \(disclosure.id) is \(disclosure.state.rawValue); nothing is sent")
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

    /// Records what a delivery attempt came to: delivered (logged), rescheduled, or failed (logged).
    package func recordDelivery(_ item: OutboxItem, decision: RetrySchedule.Decision, actor: Actor = .system) async throws {
        let recipients = self.recipients
        try await store.write { txn in
            guard var current = try txn.outboxItem(id: item.id) else { return }
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

    static func markDelivered(_ item: OutboxItem, actor: Actor, recipients: [Recipient], txn: any StoreTransaction) throws {
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
        let wasCancelled = disclosure.state == .cancelled
        disclosure.state = .delivered
        disclosure.reason = nil
        disclosure.updatedAt = now
        try txn.updateDisclosure(disclosure)
        try txn.appendLog(LogEntryDraft(.disclosureDelivered, disclosure: disclosure, actor: actor.id))
        // Cancelled while the attempt was under way, yet it arrived: the recipient must now erase it.
        if wasCancelled, let subject = try txn.subject(id: disclosure.subjectID), subject.erasedAt != nil {
            let notice: JSONValue = [
                "type": "erasure-notice", "disclosureId": .string(disclosure.id), "referralId": .string(disclosure.referralID),
                "reason": "subject-erased",
            ]
            var noticeItem = outboxItem(for: disclosure, recipient: recipients.first { $0.id == item.recipientID }, now: now)
            noticeItem.id = SecureRandom.uuid()
            noticeItem.kind = .erasureNotice
            noticeItem.payload = notice.serialized()
            try txn.enqueue(noticeItem)
            try txn.appendLog(LogEntryDraft(
                event: .noticeQueued, actor: "system", referralID: disclosure.referralID, subjectID: disclosure.subjectID,
                disclosureID: disclosure.id, recipientID: item.recipientID, reason: "subject-erased",
                details: ["type": "erasure-notice", "noticeId": .string(noticeItem.id)]
            ))
        }
    }

    /// Items that may not be sent any more (their disclosure was cancelled): taken out of the outbox.
    package func discard(_ item: OutboxItem) async throws {
        try await store.write { txn in try txn.dequeue(id: item.id) }
    }

    // MARK: Pull mailboxes

    /// The recipients whose mailbox `partner` pulls.
    package func mailboxRecipients(of partnerID: String) -> [String] {
        recipients.filter { if case .pull(let owner) = $0.delivery { return owner == partnerID } else { return false } }.map(\.id)
    }

    /// GET /v1/mailbox: what awaits the partner's recipients, oldest first, paged with an `after` cursor.
    package func mailbox(for actor: Actor, after cursor: String?, limit: Int) async throws -> JSONValue {
        let owned = mailboxRecipients(of: actor.id)
        let page = max(1, min(limit, 500))
        let items = try await store.read { txn in try txn.mailbox(recipientIDs: owned, afterID: cursor, limit: page + 1) }
        let shown = items.prefix(page)
        var body: JSONObject = [
            "items": .array(shown.map { item in
                [
                    "id": .string(item.id), "type": .string(item.kind.rawValue), "disclosureId": .string(item.disclosureID),
                    "recipient": .string(item.recipientID), "enqueuedAt": .string(item.enqueuedAt.description),
                ]
            }),
        ]
        body["next"] = items.count > page ? shown.last.map { .string($0.id) } ?? .null : .null
        return .object(body)
    }

    /// GET /v1/mailbox/{id}: the item's body, as push would send it; 404 for another recipient's item.
    package func mailboxItem(_ id: String, for actor: Actor) async throws -> [UInt8] {
        let owned = Set(mailboxRecipients(of: actor.id))
        let item = try await store.read { txn in try txn.outboxItem(id: id) }
        guard let item, item.mode == .pull, item.state == .pending, owned.contains(item.recipientID) else {
            throw ExchangeError(.notFound, "There is no mailbox item \(id) for you.")
        }
        return try await deliveryBody(for: item)
    }

    /// POST /v1/mailbox/{id}/ack: the recipient has it; delivered, and logged.
    package func acknowledge(_ id: String, by actor: Actor) async throws -> JSONValue {
        let owned = Set(mailboxRecipients(of: actor.id))
        let recipients = self.recipients
        return try await store.write { txn in
            guard let item = try txn.outboxItem(id: id), item.mode == .pull, owned.contains(item.recipientID) else {
                throw ExchangeError(.notFound, "There is no mailbox item \(id) for you.")
            }
            try txn.dequeue(id: id)
            try Exchange.markDelivered(item, actor: actor, recipients: recipients, txn: txn)
            return ["id": .string(id), "state": "delivered", "acknowledgedAt": .string(txn.now.description)]
        }
    }

    // MARK: Operators

    /// `refex outbox retry ID`: a failed item goes back in the queue, with a fresh maximum age.
    package func retry(_ id: String, by actor: Actor) async throws -> OutboxItem {
        try await store.write { txn in
            guard var item = try txn.outboxItem(id: id) else { throw ExchangeError(.notFound, "There is no outbox item \(id).") }
            guard item.state == .failed else { throw ExchangeError(.conflict, "Outbox item \(id) has not failed; it is \(item.state.rawValue).") }
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

    package func outbox(state: OutboxItem.State?, limit: Int) async throws -> [OutboxItem] {
        try await store.read { txn in try txn.outboxItems(state: state, limit: limit) }
    }

    package func outboxDepths() async throws -> [OutboxDepth] {
        try await store.read { txn in try txn.outboxDepths() }
    }

    /// Due push items, up to `limit` for each of `recipientIDs` (so that no recipient's backlog hides another's).
    package func dueOutbox(recipientIDs: [String], limit: Int) async throws -> [OutboxItem] {
        try await store.read { txn in
            try recipientIDs.flatMap { try txn.dueOutbox(recipientID: $0, now: txn.now, limit: limit) }
        }
    }
}

extension Minimiser {
    /// Exactly `pointers` (concrete, no wildcards) of `document`: what a decision recorded.
    package static func select(_ document: JSONValue, pointers: [String]) -> JSONValue {
        minimise(document, fields: pointers, categories: [], markings: DocumentMarkings(), wildcards: false).data
    }
}
