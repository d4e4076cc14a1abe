import Foundation
import Exchange
import JSON

/// A subject's pages: who received what about this person, when and why; a referral opened on
/// request; the subject-access letter; the confirmations before each right is acted on.
package enum SubjectPages {
    /// A form token for a POST to `action` (its path): made by the caller for the certificate.
    package typealias TokenFor = (_ action: ConsoleURL) -> String

    /// `GET /console/subjects/{id}`.
    package static func subject(_ timeline: SubjectTimeline, context: SentenceContext, token: TokenFor) -> HTML {
        let subject = timeline.subject
        let id = subject.id
        var status: [(String, HTML)] = [
            ("Subject id", "<code>\(id)</code>"),
            ("First referred", context.time.element(subject.createdAt)),
            ("Processing", subject.restricted ? "<strong>Restricted</strong>: nothing more is disclosed" : "Not restricted"),
        ]
        if let erased = subject.erasedAt {
            status.append(("Erased", context.time.element(erased) + " – only the pseudonymous log remains"))
        }
        var actions: [HTML] = [
            "<li><a href=\"\(ConsoleURL.subjectAction(id, "export.json"))\" download>Subject access export (JSON)</a></li>",
            "<li><a href=\"\(ConsoleURL.subjectAction(id, "letter"))\">Subject access letter (printable)</a></li>",
        ]
        if subject.erasedAt == nil {
            actions.append(subject.restricted
                ? "<li><a href=\"\(ConsoleURL.subjectAction(id, "lift"))\">Lift the restriction</a></li>"
                : "<li><a href=\"\(ConsoleURL.subjectAction(id, "restrict"))\">Restrict processing</a></li>")
            actions.append("<li><a href=\"\(ConsoleURL.subjectAction(id, "rectify"))\">Rectify (correct) the data</a></li>")
            actions.append("<li><a href=\"\(ConsoleURL.subjectAction(id, "erase"))\">Erase the subject</a></li>")
        }
        let referralRows: [HTML] = timeline.referrals.map { referral in
            let reveal: HTML = referral.isReadable
                ? Layout.postForm(
                    action: ConsoleURL.reveal(subject: id, referral: referral.id), token: token(ConsoleURL.reveal(subject: id, referral: referral.id)),
                    button: "Show the referral (this reading is logged)", buttonClass: "button button-secondary"
                )
                : "Erased"
            return "<tr><td>\(Layout.shortID(referral.id))</td><td>\(context.actor(referral.partnerID))</td><td>\(context.time.element(referral.receivedAt))</td><td>\(reveal)</td></tr>\n"
        }
        let consentRows: [HTML] = timeline.consents.map { view in
            let record = view.record
            var obtainedBy = "(erased)"
            var notes = ""
            if case .shown(let details) = view.details {
                obtainedBy = details["obtainedBy"]?.stringValue ?? "(not recorded)"
                notes = details["notes"]?.stringValue ?? ""
            }
            let recipients = record.recipients.map { $0.map(context.recipient).joined(separator: ", ") } ?? "Any recipient of those services"
            return """
                <tr data-consent="\(attribute: record.id)"><td>\(Layout.shortID(record.id))</td><td>\(record.purposes.map(EventSentence.serviceWords).joined(separator: ", "))</td><td>\(recipients)</td><td>\(obtainedBy)</td><td>\(record.method)</td><td>\(context.time.element(record.obtainedAt))</td><td>\(record.expiresAt.map { context.time.element($0) } ?? "No expiry")</td><td>\(consentState(view.state))</td><td>\(notes)</td></tr>

                """
        }
        let body: HTML = """
            \(Layout.facts(status))
            <h2>Actions</h2>
            <ul class="actions-list">\(actions)</ul>
            <h2>Referrals</h2>
            \(timeline.referrals.isEmpty ? "<p>None.</p>" : """
            <div class="table-wrap"><table><caption>Referrals about this subject</caption>
            <thead><tr><th scope="col">Referral</th><th scope="col">From</th><th scope="col">Received</th><th scope="col">Contents</th></tr></thead>
            <tbody>\(referralRows)</tbody></table></div>
            """ as HTML)
            <h2>Consents</h2>
            \(timeline.consents.isEmpty ? "<p>None recorded.</p>" : """
            <div class="table-wrap"><table><caption>Consents recorded for this subject</caption>
            <thead><tr><th scope="col">Consent</th><th scope="col">Purposes</th><th scope="col">Recipients</th><th scope="col">Obtained by</th><th scope="col">How</th><th scope="col">When</th><th scope="col">Expires</th><th scope="col">State</th><th scope="col">Notes</th></tr></thead>
            <tbody>\(consentRows)</tbody></table></div>
            """ as HTML)
            <h2>Who received what</h2>
            \(timelines(timeline, context))
            <h2>The subject's log</h2>
            \(timeline.logTruncated ? "<p>The newest \(timeline.log.count) entries; <a href=\"\(ConsoleURL(["log"], query: [("subject", id)]))\">the log page</a> pages through all of them.</p>" : "" as HTML)
            \(LogTable.table(timeline.log, context, caption: "Every log entry about this subject, newest first"))
            """
        return Layout.page(title: "Subject \(String(id.prefix(8)))", section: .subject, heading: "Subject \(String(id.prefix(8)))", body: body)
    }

    static func consentState(_ state: ConsentView.State) -> String {
        switch state {
        case .inForce: "In force"
        case .expired: "Expired"
        case .withdrawn: "Withdrawn"
        case .erased: "Erased with the subject"
        }
    }

    /// One `<section class="timeline" data-recipient="ID">` per recipient, each disclosure an
    /// `<article data-disclosure="ID" data-state="STATE">` (the store's state words).
    static func timelines(_ timeline: SubjectTimeline, _ context: SentenceContext) -> HTML {
        var order: [String] = []
        var byRecipient: [String: [DisclosureDetail]] = [:]
        for disclosure in timeline.disclosures {
            let recipient = disclosure.summary.recipientID ?? ""
            if byRecipient[recipient] == nil { order.append(recipient) }
            byRecipient[recipient, default: []].append(disclosure)
        }
        guard !order.isEmpty else { return "<p>Nothing about this subject was disclosed or withheld.</p>" }
        // The same pointers recur in every disclosure: name each once.
        var names: [String: String] = [:]
        func fieldName(_ pointer: String) -> String {
            if let known = names[pointer] { return known }
            let name = context.fieldNames.name(of: pointer)
            names[pointer] = name
            return name
        }
        let consentsByID = Dictionary(timeline.consents.map { ($0.record.id, $0) }, uniquingKeysWith: { first, _ in first })
        var entriesByDisclosure: [String: [LogEntry]] = [:]
        for entry in timeline.log.reversed() {
            if let disclosure = entry.draft.disclosureID { entriesByDisclosure[disclosure, default: []].append(entry) }
        }
        let sections: [HTML] = order.map { recipient in
            let name = recipient.isEmpty ? "No recipient provides the service" : context.recipient(recipient)
            let articles: [HTML] = (byRecipient[recipient] ?? []).map { disclosure in
                let summary = disclosure.summary
                var facts: [(String, HTML)] = [
                    ("Service", HTML(text: EventSentence.serviceWords(summary.service))),
                    ("State", HTML(text: stateWords(summary.state)) + (summary.reason.map { HTML(text: " – " + EventSentence.reasonWords($0)) } ?? "")),
                ]
                let fields: [HTML] = disclosure.pointers.map { "<li title=\"\(attribute: $0)\">\(fieldName($0))</li>" }
                facts.append(("Fields", fields.isEmpty ? "None" : "<ul class=\"plain\">\(fields)</ul>"))
                if !disclosure.categories.isEmpty { facts.append(("Special categories", HTML(text: disclosure.categories.joined(separator: ", ")))) }
                if let basis = disclosure.lawfulBasis {
                    facts.append(("Lawful basis", HTML(text: EventSentence.basisName(basis))))
                    if basis == .consent, let consentID = disclosure.consentID {
                        let consent = consentsByID[consentID]
                        var words = ""
                        if let record = consent?.record {
                            var by = ""
                            if case .shown(let details)? = consent?.details, let name = details["obtainedBy"]?.stringValue { by = " by \(name)" }
                            words = "for \(record.purposes.map(EventSentence.serviceWords).joined(separator: ", ")), obtained\(by) \(record.method) on \(context.time.inSentence(record.obtainedAt))"
                        }
                        facts.append(("Consent", Layout.shortID(consentID) + HTML(text: words.isEmpty ? "" : " – " + words)))
                    } else {
                        facts.append(("Justification", HTML(text: disclosure.justification ?? "(none recorded)")))
                        facts.append(("Authorised by", HTML(text: context.actor(disclosure.actor))))
                    }
                } else {
                    facts.append(("Asked for by", HTML(text: context.actor(disclosure.actor))))
                }
                let history: [HTML] = (entriesByDisclosure[summary.id] ?? []).map {
                    "<li><a href=\"\(ConsoleURL.entry($0.seq))\">\($0.seq)</a> \(EventSentence.sentence($0, context))</li>"
                }
                return """
                    <article class="disclosure" data-disclosure="\(attribute: summary.id)" data-state="\(attribute: summary.state.rawValue)">
                    <h4>Disclosure \(Layout.shortID(summary.id)) – \(stateWords(summary.state))</h4>
                    \(Layout.facts(facts))
                    \(history.isEmpty ? "" : "<ol class=\"history\">\(history)</ol>" as HTML)
                    </article>

                    """
            }
            return """
                <section class="timeline" data-recipient="\(attribute: recipient)">
                <h3>\(name)</h3>
                \(articles)</section>

                """
        }
        return HTML(joining: sections)
    }

    /// A disclosure's state for people.
    package static func stateWords(_ state: DisclosureState) -> String {
        switch state {
        case .queued: "Authorised, waiting to be sent"
        case .awaitingConsent: "Withheld until consent is recorded"
        case .refused: "Not disclosed"
        case .cancelled: "Cancelled before it was sent"
        case .delivered: "Delivered"
        case .failed: "Delivery failed"
        }
    }

    /// The answer to `POST …/referrals/{rid}/reveal`: the referral's fields by name.
    package static func revealed(_ referral: RevealedReferral, context: SentenceContext) -> HTML {
        let content: HTML
        if let document = referral.document {
            content = documentTable(document, context: context, caption: "The referral as stored")
        } else {
            content = "<p>This referral was erased: nothing of it can be read.</p>"
        }
        let body: HTML = """
            \(Layout.notice("Your reading of this referral has been recorded in the disclosure log.", kind: "info"))
            \(Layout.facts([
                ("Referral", "<code>\(referral.id)</code>"), ("From", HTML(text: context.actor(referral.partnerID))),
                ("Received", context.time.element(referral.receivedAt)), ("Schema", "<code>\(referral.schemaID)</code>"),
            ]))
            \(content)
            <p><a href="\(ConsoleURL.subject(referral.subjectID))">Back to the subject</a></p>
            """
        return Layout.page(title: "Referral \(String(referral.id.prefix(8)))", section: .subject, body: body)
    }

    /// Every leaf of a document as a row: the field's name (its pointer in `title`) and its value.
    static func documentTable(_ document: JSONValue, context: SentenceContext, caption: String) -> HTML {
        var rows: [HTML] = []
        func walk(_ value: JSONValue, _ pointer: String) {
            switch value {
            case .object(let members) where !members.isEmpty:
                for (key, member) in members {
                    walk(member, pointer + "/" + key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1"))
                }
            case .array(let items) where !items.isEmpty:
                for (index, item) in items.enumerated() { walk(item, pointer + "/\(index)") }
            default:
                let text = value.stringValue ?? value.serializedString()
                rows.append("<tr><th scope=\"row\" title=\"\(attribute: pointer)\">\(context.fieldNames.name(of: pointer))</th><td>\(text)</td></tr>\n")
            }
        }
        walk(document, "")
        return """
            <div class="table-wrap"><table class="document"><caption>\(caption)</caption>
            <thead><tr><th scope="col">Field</th><th scope="col">Value</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
    }

    /// `GET /console/subjects/{id}/letter`: a subject-access letter a DPO can print and send.
    package static func letter(_ export: SubjectExport, controller: String, context: SentenceContext) -> HTML {
        let referrals: [HTML] = export.referrals.map { referral in
            let content: HTML = referral.document.map { documentTable($0, context: context, caption: "What we hold from this referral") }
                ?? "<p>The details of this referral have been erased.</p>"
            return "<section><h3>Referral received on \(context.time.date(referral.receivedAt)) from \(context.actor(referral.partnerID))</h3>\n\(content)</section>\n"
        }
        let disclosures: [HTML] = export.disclosures.map { detail in
            let fields = detail.pointers.map(context.fieldNames.name(of:)).joined(separator: "; ")
            let basis = detail.lawfulBasis.map(EventSentence.basisName) ?? "–"
            return "<tr><td>\(context.recipient(detail.summary.recipientID))</td><td>\(EventSentence.serviceWords(detail.summary.service))</td><td>\(stateWords(detail.summary.state))</td><td>\(basis)</td><td>\(fields.isEmpty ? "–" : fields)</td><td>\(context.time.date(detail.updatedAt))</td></tr>\n"
        }
        let consents: [HTML] = export.consents.map { consent in
            let record = consent.record
            return "<li>For \(record.purposes.map(EventSentence.serviceWords).joined(separator: ", ")), given \(record.method) on \(context.time.date(record.obtainedAt))\(record.withdrawnAt.map { ", withdrawn on \(context.time.date($0))" } ?? "").</li>"
        }
        let body: HTML = """
            <div class="letter">
            <p class="letter-date">\(context.time.date(export.exportedAt))</p>
            <p>Dear data subject,</p>
            <p>You asked what personal data \(controller) holds about you, and to whom it has been disclosed (UK GDPR Article 15). This letter sets out everything held under reference <code>\(export.subjectID)</code>.</p>
            \(export.erasedAt.map { "<p>Your personal data was erased on \(context.time.date($0)). Only a record that disclosures happened, with no details about you, remains.</p>" as HTML } ?? "")
            \(export.restricted ? "<p>Processing of your data is currently restricted: nothing more is shared.</p>" : "" as HTML)
            <h2>What we hold</h2>
            \(referrals.isEmpty ? "<p>No referral.</p>" : HTML(joining: referrals))
            <h2>Your consents</h2>
            \(consents.isEmpty ? "<p>None recorded.</p>" : "<ul>\(consents)</ul>" as HTML)
            <h2>Who received your data</h2>
            \(disclosures.isEmpty ? "<p>Nobody.</p>" : """
            <table><caption>Disclosures of your data</caption>
            <thead><tr><th scope="col">Recipient</th><th scope="col">Service</th><th scope="col">Outcome</th><th scope="col">Lawful basis</th><th scope="col">Information shared</th><th scope="col">Date</th></tr></thead>
            <tbody>\(disclosures)</tbody></table>
            """ as HTML)
            <p>You may ask us to correct, restrict or erase your data, and you may complain to the Information Commissioner's Office (ico.org.uk).</p>
            <p>Yours faithfully,</p>
            <p>Data Protection Officer, \(controller)</p>
            </div>
            <p class="no-print"><a href="\(ConsoleURL.subject(export.subjectID))">Back to the subject</a></p>
            """
        return Layout.page(title: "Subject access letter", section: .subject, body: body)
    }
}
