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
    /// Entries after this seq (a cursor for paging oldest first).
    package var afterSeq: Int64?
    /// Entries before this seq (a cursor for paging newest first).
    package var beforeSeq: Int64?
    /// Events to leave out (e.g. `log.viewed`, the log's own readings).
    package var excludedEvents: [String] = []
    /// Newest entries first instead of oldest first.
    package var newestFirst = false

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
        if let beforeSeq { out.append(("before", String(beforeSeq))) }
        if !excludedEvents.isEmpty { out.append(("exclude", excludedEvents.joined(separator: ","))) }
        if newestFirst { out.append(("order", "newest")) }
        return out
    }
}

extension LogFilter {
    /// The parameters a filter is read from, in `GET /v1/disclosures`'s names (`refex log`'s
    /// options are `--` and the same name, but `--exclude-event` and `--newest-first`).
    package static let parameterNames = [
        "subject", "referral", "recipient", "event", "exclude", "basis", "actor", "disclosure", "since", "until", "after", "before",
        "order", "limit",
    ]

    /// The filter and page size from `(name, value)` pairs: a query string's parameters, or the
    /// command line's options given the same names (`--newest-first` as `order=newest`). Values
    /// that name something in the store (events, ids, …) are checked against it later by the
    /// exchange; their shape, and everything else, is checked here. A parameter given twice is
    /// refused: which one counts would be a guess.
    ///
    /// `limits` bounds `limit`; `spelling` turns a parameter name (or `order=newest`) into how the
    /// caller writes it, for messages (`--since` on the command line). Throws `FilterError`, which
    /// never repeats the value given.
    package static func parse(
        _ items: [(name: String, value: String)], limits: ClosedRange<Int>, defaultLimit: Int, spelling: (String) -> String = { $0 }
    ) throws -> (filter: LogFilter, limit: Int) {
        var filter = LogFilter()
        var limit = defaultLimit
        var seen: Set<String> = []
        for (name, value) in items {
            guard parameterNames.contains(name) else {
                throw FilterError("filter", "Unknown filter.", validValues: parameterNames)
            }
            guard seen.insert(name).inserted else { throw FilterError(name, "\(spelling(name)) is given more than once.") }
            switch name {
            case "subject": filter.subjectID = value
            case "referral": filter.referralID = value
            case "recipient": filter.recipientID = value
            case "event": filter.event = value
            case "exclude": filter.excludedEvents = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            case "basis": filter.lawfulBasis = value
            case "actor": filter.actor = value
            case "disclosure": filter.disclosureID = value
            case "since", "until":
                guard let time = Timestamp(rfc3339: value) else {
                    throw FilterError(name, "\(spelling(name)) must be an RFC 3339 date-time, e.g. 2026-11-01T00:00:00Z.")
                }
                if name == "since" { filter.since = time } else { filter.until = time }
            case "after", "before":
                guard let seq = decimal(value) else { throw FilterError(name, "\(spelling(name)) must be a seq number.") }
                if name == "after" { filter.afterSeq = seq } else { filter.beforeSeq = seq }
            case "order":
                guard value == "oldest" || value == "newest" else {
                    throw FilterError("order", "order is oldest or newest.", validValues: ["oldest", "newest"])
                }
                filter.newestFirst = value == "newest"
            default:
                guard let number = decimal(value), number >= limits.lowerBound, number <= limits.upperBound else {
                    throw FilterError("limit", "\(spelling("limit")) must be \(limits.lowerBound) to \(limits.upperBound).")
                }
                limit = Int(number)
            }
        }
        if filter.newestFirst, filter.afterSeq != nil {
            throw FilterError("after", "\(spelling("order=newest")) pages with \(spelling("before")), not \(spelling("after")).")
        }
        if !filter.newestFirst, filter.beforeSeq != nil {
            throw FilterError(
                "before", "\(spelling("before")) pages \(spelling("order=newest")); oldest first pages with \(spelling("after"))."
            )
        }
        return (filter, limit)
    }

    /// A count or a seq as a parameter gives it: decimal digits only (no sign, no space), at most
    /// 18 of them.
    package static func decimal(_ value: String) -> Int64? {
        guard !value.isEmpty, value.utf8.count <= 18, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(value)
    }
}

/// A filter or search parameter that names nothing refex knows: `refex log list` exits 2 with it,
/// the API answers 400. The message never repeats the value given (it may be personal data);
/// `validValues` lists what would have been accepted (or the ids an ambiguous prefix matches).
package struct FilterError: Error, Sendable, CustomStringConvertible {
    /// The parameter's API name (`event`, `subject`, …); the CLI option is `--` and the same name.
    package var parameter: String
    package var message: String
    package var validValues: [String]

    package init(_ parameter: String, _ message: String, validValues: [String] = []) {
        self.parameter = parameter
        self.message = message
        self.validValues = validValues
    }

    /// The message with the valid values, for people.
    package var description: String {
        validValues.isEmpty ? message : "\(message); valid: \(validValues.joined(separator: ", "))"
    }
}

/// The kinds of stored id that filters take whole or as a unique prefix.
package enum StoredIDKind: String, Sendable, Hashable {
    case subject, referral, disclosure
}

/// The log columns whose distinct values a filter is checked against.
package enum LogValueColumn: Sendable, Hashable {
    case recipient, actor
}
