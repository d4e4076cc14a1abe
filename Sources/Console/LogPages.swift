import Exchange
import JSON

/// The disclosure log's pages: the filtered list and one entry.
package enum LogPages {
    /// The choices the filter form offers.
    package struct FilterChoices: Sendable {
        package var recipients: [(id: String, name: String)]

        package init(recipients: [(id: String, name: String)]) { self.recipients = recipients }
    }

    /// `GET /console/log`: the filter form, a page of entries newest first, a link to older ones
    /// (`next`: the last seq shown, when there are more) and the CSV of the same filter.
    package static func list(entries: [LogEntry], next: Int64?, query: LogQuery, choices: FilterChoices, context: SentenceContext) -> HTML {
        let csv = ConsoleURL(["log.csv"], query: query.pairs())
        let older: HTML = next.map { "<p><a href=\"\(ConsoleURL(["log"], query: query.pairs(before: $0)))\" rel=\"next\">Older entries</a></p>" } ?? ""
        let newest: HTML = query.values["before"] != nil ? "<p><a href=\"\(ConsoleURL(["log"], query: query.pairs()))\">Newest entries</a></p>" : ""
        let summary: HTML = entries.isEmpty ? "<p>No entry matches these filters.</p>" : LogTable.table(entries, context, caption: "Log entries, newest first")
        let body: HTML = """
            \(filterForm(query, choices))
            <p><a href="\(csv)" download>Download these entries as CSV</a> (every entry that matches, not just this page)</p>
            \(summary)
            \(newest)\(older)
            """
        return Layout.page(title: "Disclosure log", section: .log, body: body)
    }

    static func filterForm(_ query: LogQuery, _ choices: FilterChoices) -> HTML {
        func text(_ name: String, _ label: String, hint: String) -> HTML {
            """
            <div class="field"><label for="filter-\(attribute: name)">\(label)</label>
            <span class="hint" id="filter-\(attribute: name)-hint">\(hint)</span>
            <input type="text" id="filter-\(attribute: name)" name="\(attribute: name)" value="\(attribute: query.values[name] ?? "")" aria-describedby="filter-\(attribute: name)-hint" autocomplete="off" spellcheck="false"></div>

            """
        }
        func select(_ name: String, _ label: String, _ options: [(String, String)]) -> HTML {
            let chosen = query.values[name] ?? ""
            let items: [HTML] = [("", "Any")].map { "<option value=\"\(attribute: $0.0)\">\($0.1)</option>" } + options.map { option in
                let selected: HTML = option.0 == chosen ? " selected" : ""
                return "<option value=\"\(attribute: option.0)\"\(selected)>\(option.1)</option>"
            }
            return "<div class=\"field\"><label for=\"filter-\(attribute: name)\">\(label)</label>\n<select id=\"filter-\(attribute: name)\" name=\"\(attribute: name)\">\(items)</select></div>\n"
        }
        func date(_ name: String, _ label: String) -> HTML {
            "<div class=\"field\"><label for=\"filter-\(attribute: name)\">\(label)</label>\n<input type=\"date\" id=\"filter-\(attribute: name)\" name=\"\(attribute: name)\" value=\"\(attribute: query.values[name] ?? "")\"></div>\n"
        }
        let events = LogEvent.allCases.map { ($0.rawValue, $0.rawValue) }
        let bases = LawfulBasis.allCases.map { ($0.rawValue, EventSentence.basisName($0)) }
        var recipients = choices.recipients.map { ($0.id, "\($0.name) (\($0.id))") }
        if let given = query.values["recipient"], !recipients.contains(where: { $0.0 == given }) { recipients.append((given, given)) }
        return """
            <form id="log-filters" method="get" action="\(ConsoleURL.log)">
            <fieldset><legend>Filter the log</legend>
            \(text("subject", "Subject id", hint: "The whole id or its start"))\(text("referral", "Referral id", hint: "The whole id or its start"))\(select("recipient", "Recipient", recipients))\(select("event", "Event", events))\(select("basis", "Lawful basis", bases))\(text("actor", "Actor", hint: "A partner id, system, or host:user"))\(date("from", "From (date)"))\(date("to", "To (date, inclusive)"))
            <div class="actions"><button type="submit" class="button">Show entries</button> <a href="\(ConsoleURL.log)">Clear filters</a></div>
            </fieldset>
            </form>
            """
    }

    /// `GET /console/log/{seq}`: every field of one entry, where it sits in the chain, and the
    /// other entries of its referral.
    package static func entry(_ entry: LogEntry, related: [LogEntry], head: Int64?, context: SentenceContext) -> HTML {
        let draft = entry.draft
        var rows: [(String, HTML)] = [
            ("What happened", HTML(text: EventSentence.sentence(entry, context))),
            ("Entry", "\(entry.seq)"),
            ("Time", context.time.element(entry.time, precise: true) + " <span class=\"utc\">\(entry.time.description)</span>"),
            ("Event", "<code>\(draft.event.rawValue)</code>"),
            ("Actor", HTML(text: context.actor(draft.actor))),
        ]
        func add(_ label: String, _ value: String?, _ render: (String) -> HTML = { "<code>\($0)</code>" }) {
            if let value { rows.append((label, render(value))) }
        }
        add("Referral", draft.referralID) { "<a href=\"\(ConsoleURL(["log"], query: [("referral", $0)]))\"><code>\($0)</code></a>" }
        add("Subject", draft.subjectID) { "<a href=\"\(ConsoleURL.subject($0))\"><code>\($0)</code></a>" }
        add("Disclosure", draft.disclosureID)
        add("Recipient", draft.recipientID) { HTML(text: "\(context.recipient($0)) (\($0))") }
        add("Service", draft.service) { HTML(text: $0) }
        add("Lawful basis", draft.lawfulBasis.map { EventSentence.basisName($0) }) { HTML(text: $0) }
        add("Consent", draft.consentID)
        add("Justification", draft.justification) { HTML(text: $0) }
        add("Justification commitment", draft.justificationDigest)
        if let pointers = draft.pointers, !pointers.isEmpty {
            let items: [HTML] = pointers.map { "<li>\(context.fieldNames.name(of: $0)) <code>\($0)</code></li>" }
            rows.append(("Fields", "<ul class=\"plain\">\(items)</ul>"))
        }
        if let categories = draft.categories, !categories.isEmpty { rows.append(("Special categories", HTML(text: categories.joined(separator: ", ")))) }
        add("Reason", draft.reason) { HTML(text: "\(EventSentence.reasonWords($0)) (\($0))") }
        if let details = draft.details { rows.append(("Details", "<pre>\(JSONValue.object(details).prettyPrinted())</pre>")) }
        let previous: HTML = entry.seq > 1 ? " <a href=\"\(ConsoleURL.entry(entry.seq - 1))\" rel=\"prev\">Previous entry</a>" : ""
        let following: HTML = (head.map { entry.seq < $0 } ?? false) ? " <a href=\"\(ConsoleURL.entry(entry.seq + 1))\" rel=\"next\">Next entry</a>" : ""
        rows.append(("Position in the chain", "Entry \(entry.seq) of \(head.map(String.init) ?? "?").\(previous)\(following)"))
        rows.append(("Previous entry's hash", "<code class=\"hash\">\(entry.prevHash)</code>"))
        rows.append(("This entry's hash", "<code class=\"hash\">\(entry.hash)</code>"))
        let others: HTML = draft.referralID == nil ? "" : related.isEmpty
            ? "<h2>The referral's other entries</h2>\n<p>None.</p>"
            : "<h2>The referral's other entries</h2>\n" + LogTable.table(related, context, caption: "Other entries of this referral, oldest first")
        return Layout.page(
            title: "Log entry \(entry.seq)", section: .log,
            body: Layout.facts(rows) + "\n" + others
        )
    }
}
