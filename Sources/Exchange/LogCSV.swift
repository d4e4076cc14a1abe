import Foundation
import JSON

/// The log as CSV (`refex log export --format csv`, the console's `log.csv`): one row per entry,
/// formula-safe for spreadsheets.
package enum LogCSV {
    /// Every member an entry's JSON can hold, in the JSONL export's names; anything else an entry
    /// holds goes, as a JSON object, in the last column, so that the CSV loses nothing.
    package static let header = [
        "seq", "time", "event", "actor", "referralId", "subjectId", "disclosureId", "recipient", "service", "lawfulBasis", "consentId",
        "justification", "pointers", "categories", "reason", "details", "prevHash", "hash", "other",
    ]

    /// The header line, without its line break.
    package static var headerLine: String { header.joined(separator: ",") }

    /// Strings as they are; numbers as JSON; arrays and objects as JSON text (a pointer may hold a space).
    package static func row(_ entry: LogEntry) -> String {
        guard case .object(let object) = entry.json else { return "" }
        var other = JSONObject()
        for (key, value) in object where !header.contains(key) { other[key] = value }
        let fields: [String] = header.map { key in
            if key == "other" { return other.isEmpty ? "" : JSONValue.object(other).serializedString() }
            guard let value = object[key] else { return "" }
            return value.stringValue ?? value.serializedString()
        }
        return fields.map(field).joined(separator: ",")
    }

    /// RFC 4180 quoting. A value starting with = + - @ tab or CR gets a leading ' so that a
    /// spreadsheet does not run it as a formula, and one starting with ' gets another, so that
    /// removing one leading ' always gives the value back.
    package static func field(_ text: String) -> String {
        var value = text
        if let first = value.first, "=+-@\t\r'".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
