/// The answer to `GET /v1/mailbox`: what awaits the partner's recipients, oldest first.
package struct MailboxPage: Sendable, Hashable {
    /// One item waiting to be fetched.
    package struct Item: Sendable, Hashable {
        package var id: String
        package var kind: OutboxItem.Kind
        package var disclosureID: String
        package var recipientID: String
        package var enqueuedAt: Timestamp
    }

    package var items: [Item]
    /// The id to ask for the next page `after`; nil on the last page.
    package var next: String?
}

/// The answer to `POST /v1/mailbox/{id}/ack`: the item is delivered.
package struct Acknowledgement: Sendable, Hashable {
    package var itemID: String
    /// When it was first acknowledged; nil for one acknowledged before refex kept the time.
    package var acknowledgedAt: Timestamp?
}

/// A page of the disclosure log (`GET /v1/disclosures`, `refex log list`).
package struct LogPage: Sendable, Hashable {
    package var entries: [LogEntry]
    /// The seq to page from (`after`, or `before` newest first); nil on the last page.
    package var next: Int64?
}
