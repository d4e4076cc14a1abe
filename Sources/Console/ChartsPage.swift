import Foundation
import Exchange

/// `GET /console/charts?from=&to=`: disclosures per day by lawful basis and by recipient, and
/// withheld against sent, from the log's daily counts.
package enum ChartsPage {
    package static func page(counts: [LogEventCount], firstDay: Int64, lastDay: Int64, from: String, to: String, context: SentenceContext) -> HTML {
        let days = Array(firstDay...max(firstDay, lastDay))
        func chart(_ id: String, _ title: String, _ events: Set<String>, series: [String], key: (LogEventCount) -> String?) -> SVGChart {
            var table: [Int64: [String: Int]] = [:]
            for count in counts where events.contains(count.event) {
                guard let name = key(count) else { continue }
                table[count.day, default: [:]][name, default: 0] += count.count
            }
            let bars = days.map { day in SVGChart.Bar(label: LocalTime.isoDate(dayNumber: day), values: series.map { table[day]?[$0] ?? 0 }) }
            return SVGChart(id: id, title: title, series: series, bars: bars)
        }
        let authorised: Set<String> = [LogEvent.disclosureAuthorised.rawValue]
        let bases = LawfulBasis.allCases.map { EventSentence.basisName($0) }
        let byBasis = chart("by-basis", "Disclosures authorised per day, by lawful basis", authorised, series: bases) { count in
            count.lawfulBasis.flatMap(LawfulBasis.init(rawValue:)).map(EventSentence.basisName)
        }
        var recipientIDs = Set(counts.filter { authorised.contains($0.event) }.compactMap(\.recipientID))
        recipientIDs.formUnion(context.recipientNames.keys)
        let recipients = recipientIDs.sorted()
        let names = recipients.map { context.recipient($0) }
        let byRecipientRaw = chart("by-recipient", "Disclosures authorised per day, by recipient", authorised, series: recipients) { $0.recipientID }
        let byRecipient = SVGChart(id: byRecipientRaw.id, title: byRecipientRaw.title, series: names, bars: byRecipientRaw.bars)
        let sent = LogEvent.disclosureDelivered.rawValue, withheld = LogEvent.disclosureWithheld.rawValue
        let outcome = chart("withheld-sent", "Disclosures sent and withheld per day", [sent, withheld], series: ["Sent", "Withheld"]) { count in
            count.event == sent ? "Sent" : "Withheld"
        }
        let body: HTML = """
            <form id="chart-range" method="get" action="\(ConsoleURL.charts)">
            <fieldset><legend>Days to show</legend>
            <div class="field"><label for="chart-from">From (date)</label><input type="date" id="chart-from" name="from" value="\(attribute: from)"></div>
            <div class="field"><label for="chart-to">To (date, inclusive)</label><input type="date" id="chart-to" name="to" value="\(attribute: to)"></div>
            <div class="actions"><button type="submit" class="button">Show</button></div>
            </fieldset>
            </form>
            <p>Days are in \(context.time.identifier).</p>
            <h2>By lawful basis</h2>
            \(byBasis.html)
            <h2>By recipient</h2>
            \(byRecipient.html)
            <h2>Sent and withheld</h2>
            \(outcome.html)
            """
        return Layout.page(title: "Charts", section: .charts, body: body)
    }
}
