import Exchange
import Foundation

/// The log page's query: the CLI's filters under the form's names (`subject`, `referral`,
/// `recipient`, `event`, `basis`, `actor`, `from` and `to` as local dates), and `before`, the
/// paging cursor (a seq). Empty values are absent (a form sends every input).
package struct LogQuery: Sendable, Hashable {
    package static let names = ["subject", "referral", "recipient", "event", "basis", "actor", "from", "to", "before"]

    /// The values as given, to fill the form again and build links.
    package var values: [String: String] = [:]
    package var filter = LogFilter()

    package init() { filter.newestFirst = true }

    /// Throws `FilterError` naming the parameter (never repeating its value).
    package init(_ items: [(name: String, value: String)], time: LocalTime) throws {
        self.init()
        for (name, value) in items {
            guard Self.names.contains(name) else { throw FilterError("filter", "Unknown filter.", validValues: Self.names) }
            guard value.utf8.count <= 200 else { throw FilterError(name, "\(name) is too long.") }
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            guard values[name] == nil else { throw FilterError(name, "\(name) is given more than once.") }
            values[name] = trimmed
            switch name {
            case "subject": filter.subjectID = trimmed
            case "referral": filter.referralID = trimmed
            case "recipient": filter.recipientID = trimmed
            case "event": filter.event = trimmed
            case "basis": filter.lawfulBasis = trimmed
            case "actor": filter.actor = trimmed
            case "from", "to":
                guard let start = time.startOfDay(trimmed) else { throw FilterError(name, "\(name) must be a date (YYYY-MM-DD).") }
                if name == "from" {
                    filter.since = start
                } else {
                    // Up to the end of that day: the start of the next.
                    filter.until = time.startOfDay(LocalTime.isoDate(dayNumber: time.dayNumber(start) + 1)) ?? start
                }
            default:
                guard let seq = LogFilter.decimal(trimmed) else { throw FilterError("before", "before must be an entry number.") }
                filter.beforeSeq = seq
            }
        }
    }

    /// The query as pairs in the form's order, without the cursor (or with `before`).
    package func pairs(before: Int64? = nil) -> [(String, String)] {
        var out = Self.names.filter { $0 != "before" }.compactMap { name in values[name].map { (name, $0) } }
        if let before { out.append(("before", String(before))) }
        return out
    }
}
