import Exchange

/// The log's entries as a table (`<table id="log-entries">`, a row `<tr data-seq="N">` each):
/// when, what happened in words, and the ids to follow.
package enum LogTable {
    package static func table(_ entries: [LogEntry], _ context: SentenceContext, caption: String) -> HTML {
        let rows: [HTML] = entries.map { entry in
            let draft = entry.draft
            func id(_ value: String?, _ url: (String) -> ConsoleURL?) -> HTML {
                guard let value else { return "" }
                if let target = url(value) { return Layout.linkedID(value, target) }
                return Layout.shortID(value)
            }
            return """
                <tr data-seq="\(entry.seq)">
                <td><a href="\(ConsoleURL.entry(entry.seq))">\(entry.seq)</a></td>
                <td>\(context.time.element(entry.time))</td>
                <td>\(EventSentence.sentence(entry, context))</td>
                <td><code>\(draft.event.rawValue)</code></td>
                <td>\(id(draft.subjectID) { ConsoleURL.subject($0) })</td>
                <td>\(id(draft.referralID) { ConsoleURL(["log"], query: [("referral", $0)]) })</td>
                <td>\(draft.recipientID.map { context.recipient($0) })</td>
                <td>\(draft.actor)</td>
                </tr>

                """
        }
        return """
            <div class="table-wrap">
            <table id="log-entries">
            <caption>\(caption)</caption>
            <thead><tr><th scope="col">Entry</th><th scope="col">Time</th><th scope="col">What happened</th><th scope="col">Event</th><th scope="col">Subject</th><th scope="col">Referral</th><th scope="col">Recipient</th><th scope="col">Actor</th></tr></thead>
            <tbody>
            \(rows)</tbody>
            </table>
            </div>
            """
    }
}
