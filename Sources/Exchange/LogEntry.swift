import Crypto
import JSON

/// The events of the disclosure log.
package enum LogEvent: String, Sendable, Hashable, CaseIterable {
    case referralReceived = "referral.received"
    case referralViewed = "referral.viewed"
    case disclosureAuthorised = "disclosure.authorised"
    case disclosureWithheld = "disclosure.withheld"
    case disclosureDelivered = "disclosure.delivered"
    case disclosureFailed = "disclosure.failed"
    case disclosureCancelled = "disclosure.cancelled"
    case disclosureRetried = "disclosure.retried"
    case noticeQueued = "notice.queued"
    case noticeDelivered = "notice.delivered"
    case noticeFailed = "notice.failed"
    case consentRecorded = "consent.recorded"
    case consentWithdrawn = "consent.withdrawn"
    case subjectExported = "subject.exported"
    case subjectErased = "subject.erased"
    case subjectRestricted = "subject.restricted"
    case subjectUnrestricted = "subject.unrestricted"
    case subjectRectified = "subject.rectified"
    case logViewed = "log.viewed"
}

/// What an operation asks the log to record; the store gives it its place in the chain.
/// Holds ids, services, bases, pointers and categories: no personal data.
package struct LogEntryDraft: Sendable, Hashable {
    package var event: LogEvent
    package var actor: String
    package var referralID: String?
    package var subjectID: String?
    package var disclosureID: String?
    package var recipientID: String?
    package var service: String?
    package var lawfulBasis: LawfulBasis?
    package var consentID: String?
    package var justification: String?
    package var pointers: [String]?
    package var categories: [String]?
    package var reason: String?
    /// Anything else worth keeping, e.g. the filter a log read used.
    package var details: JSONObject?

    package init(
        event: LogEvent, actor: String, referralID: String? = nil, subjectID: String? = nil, disclosureID: String? = nil,
        recipientID: String? = nil, service: String? = nil, lawfulBasis: LawfulBasis? = nil, consentID: String? = nil,
        justification: String? = nil, pointers: [String]? = nil, categories: [String]? = nil, reason: String? = nil,
        details: JSONObject? = nil
    ) {
        self.event = event
        self.actor = actor
        self.referralID = referralID
        self.subjectID = subjectID
        self.disclosureID = disclosureID
        self.recipientID = recipientID
        self.service = service
        self.lawfulBasis = lawfulBasis
        self.consentID = consentID
        self.justification = justification
        self.pointers = pointers
        self.categories = categories
        self.reason = reason
        self.details = details
    }

    /// A draft recording `disclosure` under `event`.
    package init(_ event: LogEvent, disclosure: DisclosureRecord, actor: String, reason: String? = nil) {
        self.init(
            event: event, actor: actor, referralID: disclosure.referralID, subjectID: disclosure.subjectID,
            disclosureID: disclosure.id, recipientID: disclosure.recipientID, service: disclosure.service,
            lawfulBasis: disclosure.lawfulBasis, consentID: disclosure.consentID, justification: disclosure.justification,
            pointers: disclosure.pointers.isEmpty ? nil : disclosure.pointers,
            categories: disclosure.categories.isEmpty ? nil : disclosure.categories,
            reason: reason ?? disclosure.reason
        )
    }
}

/// One entry of the hash-chained disclosure log.
///
/// `hash` is SHA-256 over the RFC 8785 canonical JSON of the entry without `hash`; each entry
/// carries the previous entry's hash as `prevHash`, the first one 64 zeros.
package struct LogEntry: Sendable, Hashable {
    package static let genesisHash = String(repeating: "0", count: 64)

    package var seq: Int64
    package var time: Timestamp
    package var draft: LogEntryDraft
    package var prevHash: String
    package var hash: String
    /// The canonical bytes `hash` is computed over, as stored.
    package var canonical: [UInt8]

    /// Seals `draft` as entry `seq` after an entry whose hash is `prevHash`.
    package init(sealing draft: LogEntryDraft, seq: Int64, time: Timestamp, prevHash: String) {
        self.seq = seq
        self.time = time
        self.draft = draft
        self.prevHash = prevHash
        canonical = LogEntry.body(draft, seq: seq, time: time, prevHash: prevHash).canonicalized()
        hash = SHA256.hash(canonical).hexString
    }

    /// The entry as JSON without `hash`.
    static func body(_ draft: LogEntryDraft, seq: Int64, time: Timestamp, prevHash: String) -> JSONValue {
        var object: JSONObject = [
            "seq": .number(JSONNumber(seq)),
            "time": .string(time.description),
            "event": .string(draft.event.rawValue),
            "actor": .string(draft.actor),
        ]
        func add(_ key: String, _ value: String?) { if let value { object[key] = .string(value) } }
        add("referralId", draft.referralID)
        add("subjectId", draft.subjectID)
        add("disclosureId", draft.disclosureID)
        add("recipient", draft.recipientID)
        add("service", draft.service)
        add("lawfulBasis", draft.lawfulBasis?.rawValue)
        add("consentId", draft.consentID)
        add("justification", draft.justification)
        if let pointers = draft.pointers { object["pointers"] = .array(pointers.map { .string($0) }) }
        if let categories = draft.categories { object["categories"] = .array(categories.map { .string($0) }) }
        add("reason", draft.reason)
        if let details = draft.details { object["details"] = .object(details) }
        object["prevHash"] = .string(prevHash)
        return .object(object)
    }

    /// The entry as JSON, with `hash`: what admins read and export.
    package var json: JSONValue {
        guard case .object(var object) = LogEntry.body(draft, seq: seq, time: time, prevHash: prevHash) else { return .null }
        object["hash"] = .string(hash)
        return .object(object)
    }

    /// Reads an entry back from its stored canonical bytes (for verification and listing);
    /// nil if they are not an entry.
    package init?(canonical: [UInt8], hash: String) {
        guard let value = try? JSONValue.parse(canonical), case .object(let object) = value,
              let seq = object["seq"]?.int64Value, let timeText = object["time"]?.stringValue,
              let time = Timestamp(rfc3339: timeText),
              let eventText = object["event"]?.stringValue, let event = LogEvent(rawValue: eventText),
              let actor = object["actor"]?.stringValue, let prevHash = object["prevHash"]?.stringValue else { return nil }
        var draft = LogEntryDraft(event: event, actor: actor)
        draft.referralID = object["referralId"]?.stringValue
        draft.subjectID = object["subjectId"]?.stringValue
        draft.disclosureID = object["disclosureId"]?.stringValue
        draft.recipientID = object["recipient"]?.stringValue
        draft.service = object["service"]?.stringValue
        draft.lawfulBasis = object["lawfulBasis"]?.stringValue.flatMap(LawfulBasis.init(rawValue:))
        draft.consentID = object["consentId"]?.stringValue
        draft.justification = object["justification"]?.stringValue
        draft.pointers = object["pointers"]?.arrayValue?.compactMap(\.stringValue)
        draft.categories = object["categories"]?.arrayValue?.compactMap(\.stringValue)
        draft.reason = object["reason"]?.stringValue
        draft.details = object["details"]?.objectValue
        self.seq = seq
        self.time = time
        self.draft = draft
        self.prevHash = prevHash
        self.hash = hash
        self.canonical = canonical
    }
}
