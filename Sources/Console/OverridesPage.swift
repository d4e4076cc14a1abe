import Exchange

/// `GET /console/overrides?month=YYYY-MM&basis=…`: every disclosure made without consent in a
/// month, the list a DPO reviews.
package enum OverridesPage {
    package static func page(_ entries: [LogEntry], month: String, basis: String, truncated: Bool, context: SentenceContext) -> HTML {
        let options: [HTML] = [("", "Any basis but consent")].map { "<option value=\"\(attribute: $0.0)\">\($0.1)</option>" as HTML }
            + LawfulBasis.allCases.filter { $0 != .consent }.map { item in
                let selected: HTML = item.rawValue == basis ? " selected" : ""
                return "<option value=\"\(attribute: item.rawValue)\"\(selected)>\(EventSentence.basisName(item))</option>"
            }
        let rows: [HTML] = entries.map { entry in
            let draft = entry.draft
            return """
                <tr data-seq="\(entry.seq)"><td><a href="\(ConsoleURL.entry(entry.seq))">\(entry.seq)</a></td><td>\(context.time.element(entry.time))</td><td>\(context.recipient(draft.recipientID))</td><td>\(draft.service.map(EventSentence.serviceWords))</td><td>\(draft.lawfulBasis.map(EventSentence.basisName))</td><td>\(draft.justification ?? "(erased)")</td><td>\(context.actor(draft.actor))</td><td>\(draft.subjectID.map { Layout.linkedID($0, ConsoleURL.subject($0)) } ?? "")</td></tr>

                """
        }
        let query = [("month", month), ("basis", basis)]
        let body: HTML = """
            <form id="override-filters" method="get" action="\(ConsoleURL.overrides)">
            <fieldset><legend>Which overrides</legend>
            <div class="field"><label for="override-month">Month</label><input type="month" id="override-month" name="month" value="\(attribute: month)" placeholder="YYYY-MM"></div>
            <div class="field"><label for="override-basis">Lawful basis</label><select id="override-basis" name="basis">\(options)</select></div>
            <div class="actions"><button type="submit" class="button">Show</button></div>
            </fieldset>
            </form>
            <p><a href="\(ConsoleURL(["overrides.csv"], query: query))" download>Download as CSV</a></p>
            \(truncated ? "<p>Only the newest \(entries.count) are shown; the CSV holds them all.</p>" : "" as HTML)
            \(entries.isEmpty ? "<p>No disclosure was made without consent in this month.</p>" : """
            <div class="table-wrap"><table id="log-entries"><caption>Disclosures without consent, newest first</caption>
            <thead><tr><th scope="col">Entry</th><th scope="col">Time</th><th scope="col">Recipient</th><th scope="col">Service</th><th scope="col">Lawful basis</th><th scope="col">Justification</th><th scope="col">Authorised by</th><th scope="col">Subject</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """ as HTML)
            """
        return Layout.page(title: "Overrides", section: .overrides, body: body)
    }
}
