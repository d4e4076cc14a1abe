/// A log entry as stored: its canonical bytes, its hash, and the columns indexed beside it.
package struct StoredLogEntry: Sendable {
    package var seq: Int64
    package var event: String
    package var actor: String
    package var canonical: [UInt8]
    package var hash: String
    /// The other columns that filters select on: verification checks them against the content,
    /// so that an entry cannot be hidden from a filter (a subject's access request, say).
    package var indexed: IndexedColumns

    package struct IndexedColumns: Sendable, Hashable {
        package var timeMilliseconds: Int64
        package var referralID: String?
        package var subjectID: String?
        package var disclosureID: String?
        package var recipientID: String?
        package var lawfulBasis: String?

        package init(
            timeMilliseconds: Int64, referralID: String?, subjectID: String?, disclosureID: String?, recipientID: String?, lawfulBasis: String?
        ) {
            self.timeMilliseconds = timeMilliseconds
            self.referralID = referralID
            self.subjectID = subjectID
            self.disclosureID = disclosureID
            self.recipientID = recipientID
            self.lawfulBasis = lawfulBasis
        }
    }

    package init(seq: Int64, event: String, actor: String, canonical: [UInt8], hash: String, indexed: IndexedColumns) {
        self.seq = seq
        self.event = event
        self.actor = actor
        self.canonical = canonical
        self.hash = hash
        self.indexed = indexed
    }
}

/// What `refex log list` and `GET /v1/disclosures` select on.
package struct LogFilter: Sendable, Hashable {
    package var subjectID: String?
    package var referralID: String?
    package var recipientID: String?
    package var event: String?
    package var lawfulBasis: String?
    package var actor: String?
    package var disclosureID: String?
    package var since: Timestamp?
    package var until: Timestamp?
    /// Entries after this seq (a cursor for paging).
    package var afterSeq: Int64?

    package init() {}

    /// The filter as recorded in a `log.viewed` entry.
    package var description: [(String, String)] {
        var out: [(String, String)] = []
        if let subjectID { out.append(("subject", subjectID)) }
        if let referralID { out.append(("referral", referralID)) }
        if let recipientID { out.append(("recipient", recipientID)) }
        if let event { out.append(("event", event)) }
        if let lawfulBasis { out.append(("basis", lawfulBasis)) }
        if let actor { out.append(("actor", actor)) }
        if let disclosureID { out.append(("disclosure", disclosureID)) }
        if let since { out.append(("since", since.description)) }
        if let until { out.append(("until", until.description)) }
        if let afterSeq { out.append(("after", String(afterSeq))) }
        return out
    }
}
