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
    case subjectWithdrew = "subject.withdrew"
    case consentViewed = "consent.viewed"
    /// A search for a subject by blind index: the kinds of key, never the values.
    case subjectSearched = "subject.searched"
    case logViewed = "log.viewed"
}

/// What an operation asks the log to record; the store gives it its place in the chain.
/// Holds ids, services, bases, pointers, categories and reason codes: no personal data. Free
/// text (a justification, the reason given for an erasure, restriction or withdrawal) is never
/// written to an entry: the entry holds `justificationDigest`, a commitment to the text sealed
/// under the subject's key (`Exchange.commitFreeText`).
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
    /// Shown, never written: the committed text opened for a reader, `Exchange.erasedFreeText`
    /// once the subject is erased, or the plain text an entry written by an older refex holds.
    package var justification: String?
    /// The commitment (hex salted SHA-256) to the free text this entry records.
    package var justificationDigest: String?
    package var pointers: [String]?
    package var categories: [String]?
    package var reason: String?
    /// Anything else worth keeping, e.g. the filter a log read used.
    package var details: JSONObject?

    /// This draft with its canonical form written now, on the request's thread, so that the
    /// store's writer only adds the chain link and hashes (`StoreTransaction.appendLog(_:)`).
    package func prepared() -> PreparedLogEntryDraft {
        PreparedLogEntryDraft(self)
    }

    package init(
        event: LogEvent, actor: String, referralID: String? = nil, subjectID: String? = nil, disclosureID: String? = nil,
        recipientID: String? = nil, service: String? = nil, lawfulBasis: LawfulBasis? = nil, consentID: String? = nil,
        justificationDigest: String? = nil, pointers: [String]? = nil, categories: [String]? = nil, reason: String? = nil,
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
        self.justificationDigest = justificationDigest
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
            lawfulBasis: disclosure.lawfulBasis, consentID: disclosure.consentID, justificationDigest: disclosure.justificationDigest,
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
        self.init(sealing: PreparedLogEntryDraft(draft), seq: seq, time: time, prevHash: prevHash)
    }

    /// Seals a draft whose canonical form was written ahead.
    package init(sealing prepared: PreparedLogEntryDraft, seq: Int64, time: Timestamp, prevHash: String) {
        self.seq = seq
        self.time = time
        self.draft = prepared.draft
        self.prevHash = prevHash
        canonical = LogEntry.canonicalBytes(prepared.parts, seq: seq, time: time, prevHash: prevHash)
        hash = SHA256.hash(canonical).hexString
    }

    /// The RFC 8785 form of `body(...)`, written directly: the members in their sorted order, the
    /// strings with JCS escaping (what `JSONValue.canonicalized()` gives, without building values).
    static func canonicalBytes(_ draft: LogEntryDraft, seq: Int64, time: Timestamp, prevHash: String) -> [UInt8] {
        canonicalBytes(CanonicalParts(draft), seq: seq, time: time, prevHash: prevHash)
    }

    /// The canonical bytes from parts written ahead: only the chain link is added here.
    static func canonicalBytes(_ parts: CanonicalParts, seq: Int64, time: Timestamp, prevHash: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(parts.beforePrevHash.count + parts.beforeSeq.count + parts.beforeTime.count + 120)
        out.append(contentsOf: parts.beforePrevHash)
        appendJCSString(prevHash, to: &out)
        out.append(contentsOf: parts.beforeSeq)
        out.append(contentsOf: String(seq).utf8)
        out.append(contentsOf: parts.beforeTime)
        appendJCSString(time.description, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
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
        add("justificationDigest", draft.justificationDigest)
        if let pointers = draft.pointers { object["pointers"] = .array(pointers.map { .string($0) }) }
        if let categories = draft.categories { object["categories"] = .array(categories.map { .string($0) }) }
        add("reason", draft.reason)
        if let details = draft.details { object["details"] = .object(details) }
        object["prevHash"] = .string(prevHash)
        return .object(object)
    }

    /// The entry as JSON, with `hash` and any free text opened for the reader: what admins read and export.
    package var json: JSONValue {
        guard case .object(var object) = LogEntry.body(draft, seq: seq, time: time, prevHash: prevHash) else { return .null }
        object["hash"] = .string(hash)
        // Shown beside its commitment, not part of the hashed entry (unless an older refex wrote it there).
        if let justification = draft.justification { object["justification"] = .string(justification) }
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
        draft.justificationDigest = object["justificationDigest"]?.stringValue
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

/// A log entry's RFC 8785 bytes without the three members the chain gives it (`prevHash`, `seq`,
/// `time`), in the three runs around them. Members sort as: actor, categories, consentId,
/// details, disclosureId, event, justificationDigest, lawfulBasis, pointers, **prevHash**,
/// reason, recipient, referralId, **seq**, service, subjectId, **time**.
struct CanonicalParts: Sendable {
    /// From `{` to `"prevHash":`.
    var beforePrevHash: [UInt8] = []
    /// From after the prevHash value to `"seq":`.
    var beforeSeq: [UInt8] = []
    /// From after the seq value to `"time":`.
    var beforeTime: [UInt8] = []
    init(_ draft: LogEntryDraft) {
        var out: [UInt8] = []
        out.reserveCapacity(384)
        var first = true
        func key(_ name: StaticString) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        func string(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            key(name)
            appendJCSString(value, to: &out)
        }
        func strings(_ name: StaticString, _ values: [String]?) {
            guard let values else { return }
            key(name)
            out.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendJCSString(value, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        string("actor", draft.actor)
        strings("categories", draft.categories)
        string("consentId", draft.consentID)
        if let details = draft.details {
            key("details")
            out.append(contentsOf: JSONValue.object(details).canonicalized())
        }
        string("disclosureId", draft.disclosureID)
        string("event", draft.event.rawValue)
        string("justificationDigest", draft.justificationDigest)
        string("lawfulBasis", draft.lawfulBasis?.rawValue)
        strings("pointers", draft.pointers)
        key("prevHash")
        beforePrevHash = out
        out = []
        string("reason", draft.reason)
        string("recipient", draft.recipientID)
        string("referralId", draft.referralID)
        key("seq")
        beforeSeq = out
        out = []
        string("service", draft.service)
        string("subjectId", draft.subjectID)
        key("time")
        beforeTime = out
    }

}

/// A draft and its canonical form around the chain link, written once (`LogEntryDraft.prepared()`).
package struct PreparedLogEntryDraft: Sendable {
    package let draft: LogEntryDraft
    let parts: CanonicalParts

    package init(_ draft: LogEntryDraft) {
        self.draft = draft
        parts = CanonicalParts(draft)
    }
}

/// A JSON string as RFC 8785 writes it: `"` and `\\` escaped, control characters as `\\b \\t \\n \\f \\r`
/// or `\\u00xx` (lower case), everything else as UTF-8.
func appendJCSString(_ value: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for byte in value.utf8 {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
        case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
        case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x00..<0x20:
            let digits = Array("0123456789abcdef".utf8)
            out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        default: out.append(byte)
        }
    }
    out.append(UInt8(ascii: "\""))
}
