import Foundation
import Exchange
import JSON

/// What the console knows to put log entries into words: names for ids, the consents an entry
/// may rely on, and the time zone.
package struct SentenceContext: Sendable {
    package var time: LocalTime
    /// Recipient id → its configured name.
    package var recipientNames: [String: String]
    /// Partner id → its configured name.
    package var partnerNames: [String: String]
    /// Consents by id, with who obtained each when the page opened its details.
    package var consents: [String: ConsentFacts]
    package var fieldNames: FieldNames

    package init(
        time: LocalTime, recipientNames: [String: String] = [:], partnerNames: [String: String] = [:],
        consents: [String: ConsentFacts] = [:], fieldNames: FieldNames = FieldNames()
    ) {
        self.time = time
        self.recipientNames = recipientNames
        self.partnerNames = partnerNames
        self.consents = consents
        self.fieldNames = fieldNames
    }

    /// The consent facts a sentence names.
    package struct ConsentFacts: Sendable, Hashable {
        package var method: String
        package var obtainedAt: Timestamp
        /// Nil unless the details were opened (the subject page): personal data.
        package var obtainedBy: String?

        package init(method: String, obtainedAt: Timestamp, obtainedBy: String?) {
            self.method = method
            self.obtainedAt = obtainedAt
            self.obtainedBy = obtainedBy
        }
    }

    /// `Development domestic abuse service`, or the id when the config does not name it.
    package func recipient(_ id: String?) -> String {
        guard let id else { return "no recipient" }
        return recipientNames[id] ?? id
    }

    /// `Development Constabulary (police-a)`; `refex itself` for `system`; host users as they are.
    package func actor(_ id: String) -> String {
        if id == "system" { return "refex itself" }
        if let name = partnerNames[id] { return "\(name) (\(id))" }
        return id
    }
}

/// The log's events as sentences for people who are not programmers, made from an entry's typed
/// values: "Sent to Development domestic abuse service on 3 March 2026 at 14:02 (+00:00), with
/// the subject's consent recorded by PC 4312 on 2 March 2026 (verbal)." The words are plain
/// text: the page escapes them where it writes them.
package enum EventSentence {
    package static func sentence(_ entry: LogEntry, _ context: SentenceContext) -> String {
        let draft = entry.draft
        let when = context.time.inSentence(entry.time)
        let recipient = context.recipient(draft.recipientID)
        let actor = context.actor(draft.actor)
        let service = draft.service.map { " for \(serviceWords($0))" } ?? ""
        let reason = draft.reason.map { ": " + reasonWords($0) } ?? ""
        switch draft.event {
        case .referralReceived:
            return "Referral received from \(actor) on \(when)."
        case .referralViewed:
            let decrypted = draft.details?["decrypted"]?.boolValue == true
            return decrypted ? "The referral was opened and read by \(actor) on \(when)." : "The referral's status was looked at by \(actor) on \(when)."
        case .disclosureAuthorised:
            let rectified = draft.reason == "rectified" ? " (again, after a rectification)" : ""
            return "Authorised to go to \(recipient)\(service) on \(when)\(rectified), \(basisWords(draft, context)) Authorised by \(actor)."
        case .disclosureDelivered:
            return "Sent to \(recipient)\(service) on \(when), \(basisWords(draft, context))"
        case .disclosureWithheld:
            return "Withheld from \(recipient)\(service) on \(when)\(reason)."
        case .disclosureFailed:
            return "Could not be delivered to \(recipient)\(service); given up on \(when)\(reason)."
        case .disclosureCancelled:
            return "Stopped before it reached \(recipient)\(service), on \(when)\(reason)."
        case .disclosureRetried:
            return "\(actor) asked for delivery to \(recipient) to be tried again on \(when)."
        case .noticeQueued:
            return "\(noticeWords(draft)) queued for \(recipient) on \(when)\(reason)."
        case .noticeDelivered:
            return "\(noticeWords(draft)) delivered to \(recipient) on \(when)."
        case .noticeFailed:
            return "\(noticeWords(draft)) could not be delivered to \(recipient); given up on \(when)\(reason)."
        case .consentRecorded:
            let purposes = (draft.details?["purposes"]?.arrayValue ?? []).compactMap(\.stringValue).map(serviceWords)
            let what = purposes.isEmpty ? "" : " for \(list(purposes))"
            let obtained = consentWords(draft.consentID, context, verb: "obtained")
            return "The subject's consent\(what)\(obtained.isEmpty ? "" : ",\(obtained),") was recorded by \(actor) on \(when)."
        case .consentWithdrawn:
            return "The subject's consent was withdrawn, recorded by \(actor) on \(when)\(reason)."
        case .consentViewed:
            let details = draft.details?["sealedDetails"]?.boolValue == true ? " with who obtained it and the notes" : ""
            return "A consent record was read\(details) by \(actor) on \(when)."
        case .subjectExported:
            return "Everything held about the subject was exported (subject access) by \(actor) on \(when)."
        case .subjectErased:
            return "The subject's personal data was erased by \(actor) on \(when)\(reason)."
        case .subjectRestricted:
            return "Processing was restricted by \(actor) on \(when): nothing more is disclosed until the restriction is lifted."
        case .subjectUnrestricted:
            return "The restriction was lifted by \(actor) on \(when)."
        case .subjectRectified:
            let fields = (draft.pointers ?? []).map(context.fieldNames.name(of:))
            return "The subject's data was corrected by \(actor) on \(when)" + (fields.isEmpty ? "." : ": \(list(fields)).")
        case .subjectWithdrew:
            return "The subject left the service (every consent withdrawn), recorded by \(actor) on \(when)."
        case .subjectSearched:
            return "\(actor) searched for a subject on \(when)."
        case .logViewed:
            let action = draft.details?["action"]?.stringValue ?? "list"
            switch action {
            case "verify":
                let valid = draft.details?["valid"]?.boolValue == true
                return "\(actor) verified the log on \(when): \(valid ? "it was intact" : "it FAILED verification")."
            case "export": return "\(actor) exported the log on \(when)."
            case "show": return "\(actor) read one log entry on \(when)."
            case "checkpoint": return "\(actor) read the latest signed checkpoint on \(when)."
            default: return "\(actor) read the log on \(when)."
            }
        }
    }

    /// "with the subject's consent recorded by PC 4312 on 2 March 2026 (verbal)." or
    /// "without consent, on the lawful basis of vital interests." (the sentence's end).
    static func basisWords(_ draft: LogEntryDraft, _ context: SentenceContext) -> String {
        guard let basis = draft.lawfulBasis else { return "with no lawful basis recorded." }
        if basis == .consent {
            return "with the subject's consent" + consentWords(draft.consentID, context) + "."
        }
        return "without consent, on the lawful basis of \(basisName(basis))" + (draft.justification.map { " (justification: \($0))" } ?? "") + "."
    }

    /// ` recorded by PC 4312 on 2 March 2026 (verbal)`, or nothing when the consent is not known.
    static func consentWords(_ id: String?, _ context: SentenceContext, verb: String = "recorded") -> String {
        guard let id, let facts = context.consents[id] else { return "" }
        let by = facts.obtainedBy.map { " by \($0)" } ?? ""
        return " \(verb)\(by) on \(context.time.date(facts.obtainedAt)) (\(facts.method))"
    }

    /// `vital interests` etc., as UK GDPR Art. 6(1) names them.
    package static func basisName(_ basis: LawfulBasis) -> String {
        switch basis {
        case .consent: "consent"
        case .vitalInterests: "vital interests"
        case .legalObligation: "legal obligation"
        case .publicTask: "public task"
        case .legitimateInterests: "legitimate interests"
        }
    }

    static func noticeWords(_ draft: LogEntryDraft) -> String {
        switch draft.details?["type"]?.stringValue ?? draft.reason ?? "" {
        case "rectification-notice", "rectification": "A correction notice"
        default: "An erasure notice"
        }
    }

    /// `domestic-abuse` → `domestic abuse`.
    package static func serviceWords(_ service: String) -> String {
        hyphensAsSpaces(service)
    }

    /// `code` with each `-` a space (Foundation's `replacingOccurrences` cost a tenth of a
    /// subject page of a thousand entries).
    static func hyphensAsSpaces(_ code: String) -> String {
        guard code.utf8.contains(UInt8(ascii: "-")) else { return code }
        return String(decoding: code.utf8.map { $0 == UInt8(ascii: "-") ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    /// A reason code in words; a code refex does not know as it is, with dashes as spaces.
    package static func reasonWords(_ code: String) -> String {
        switch code {
        case "no-recipient": "no recipient provides that service"
        case "subject-erased": "the subject's data was erased"
        case "nothing-to-disclose": "none of the referral's fields may go to that recipient"
        case "fields-not-allowed": "the referral holds fields that recipient may not receive"
        case "restricted": "processing of the subject's data is restricted"
        case "awaiting-consent": "waiting for the subject's consent"
        case "no-lawful-basis": "no lawful basis"
        case "consent-missing": "no consent recorded"
        case "consent-withdrawn": "the subject withdrew consent"
        case "consent-expired": "the consent expired"
        case "consent-does-not-cover": "the consent does not cover it"
        case "no-justification": "an override needs a justification"
        case "erasure-request": "at the subject's request"
        case "retention": "the retention period ended"
        case "subject-withdrew": "the subject left the service"
        case "rectification": "the subject's data was corrected"
        default: hyphensAsSpaces(code)
        }
    }

    /// "a", "a and b", "a, b and c".
    static func list(_ items: [String]) -> String {
        switch items.count {
        case 0: ""
        case 1: items[0]
        default: items.dropLast().joined(separator: ", ") + " and " + (items.last ?? "")
        }
    }
}
