import Exchange
import Foundation
import SQLite

/// The disclosure log checked against the rest of the store, rule by rule: every row has the
/// entries its creation and each change of state appended, and no entry names a row that never
/// existed. Rows that retention may have pruned the entries of (made up to the checkpoint the log
/// was pruned at) are excepted; the log records that pruning (`log_anchor` and its checkpoint).
///
/// The rules are data: a new event kind or table is one more row below, not new code.
enum LogCompleteness {
    /// A row that must have an entry: `rows` selects the id of each row (`?1` is the pruning
    /// cut, milliseconds), `entry` is the condition on `l` (log_entries) that finds its entry
    /// given the row as `r`, `what` names the row and `expected` the entry, for the message.
    struct RequiredEntry {
        var what: String
        var expected: String
        var rows: String
        var entry: String

        /// The table `rows` selects from (for messages).
        var table: String {
            guard let from = rows.range(of: " FROM ") else { return "?" }
            return String(rows[from.upperBound...].prefix { $0 != " " })
        }
    }

    static let required: [RequiredEntry] = [
        RequiredEntry(
            what: "referral", expected: "referral.received",
            rows: "SELECT id AS id, id AS referral FROM referrals WHERE received_at > ?1",
            entry: "l.referral_id = r.referral AND +l.event = 'referral.received'"
        ),
        RequiredEntry(
            what: "disclosure", expected: "decision (disclosure.authorised or disclosure.withheld)",
            rows: "SELECT id AS id FROM disclosures WHERE created_at > ?1",
            entry: "l.disclosure_id = r.id AND +l.event IN ('disclosure.authorised', 'disclosure.withheld')"
        ),
        RequiredEntry(
            what: "delivered disclosure", expected: "disclosure.delivered",
            rows: "SELECT id AS id FROM disclosures WHERE state = 'delivered' AND updated_at > ?1",
            entry: "l.disclosure_id = r.id AND +l.event = 'disclosure.delivered'"
        ),
        RequiredEntry(
            what: "cancelled disclosure", expected: "disclosure.cancelled",
            rows: "SELECT id AS id FROM disclosures WHERE state = 'cancelled' AND updated_at > ?1",
            entry: "l.disclosure_id = r.id AND +l.event = 'disclosure.cancelled'"
        ),
        RequiredEntry(
            what: "consent", expected: "consent.recorded",
            rows: "SELECT id AS id, referral_id AS referral FROM consents WHERE recorded_at > ?1",
            entry: "l.referral_id = r.referral AND +l.event = 'consent.recorded' AND json_extract(CAST(l.entry AS TEXT), '$.consentId') = r.id"
        ),
        RequiredEntry(
            what: "withdrawn consent", expected: "consent.withdrawn",
            rows: "SELECT id AS id, referral_id AS referral FROM consents WHERE withdrawn_at IS NOT NULL AND withdrawn_at > ?1",
            entry: "l.referral_id = r.referral AND +l.event = 'consent.withdrawn' AND json_extract(CAST(l.entry AS TEXT), '$.consentId') = r.id"
        ),
        RequiredEntry(
            // A retried item is enqueued again (`disclosure.retried`) after its authorisation.
            what: "queued disclosure in the outbox", expected: "disclosure.authorised or disclosure.retried",
            rows: "SELECT disclosure_id AS id FROM outbox WHERE kind = 'disclosure' AND enqueued_at > ?1",
            entry: "l.disclosure_id = r.id AND +l.event IN ('disclosure.authorised', 'disclosure.retried')"
        ),
        RequiredEntry(
            what: "notice in the outbox for disclosure", expected: "notice.queued",
            rows: "SELECT disclosure_id AS id FROM outbox WHERE kind <> 'disclosure' AND enqueued_at > ?1",
            entry: "l.disclosure_id = r.id AND +l.event = 'notice.queued'"
        ),
        RequiredEntry(
            // Told to erase what it received (consent withdrawn, subject erased): the notice's
            // outbox row goes once it is delivered; the disclosure's reason stays.
            what: "delivered disclosure whose recipient was told to erase it", expected: "notice.queued",
            rows: "SELECT id AS id FROM disclosures WHERE state = 'delivered' AND reason IS NOT NULL AND updated_at > ?1",
            entry: "l.disclosure_id = r.id AND +l.event = 'notice.queued'"
        ),
        RequiredEntry(
            what: "subject that left the service", expected: "subject.withdrew",
            rows: "SELECT id AS id FROM subjects WHERE withdrawal_receipt IS NOT NULL AND erased_at > ?1",
            entry: "l.subject_id = r.id AND +l.event = 'subject.withdrew'"
        ),
        RequiredEntry(
            // Restriction has no time of its own: a subject made after the cut was restricted after it.
            what: "restricted subject", expected: "subject.restricted",
            rows: "SELECT id AS id FROM subjects WHERE restricted = 1 AND created_at > ?1",
            entry: "l.subject_id = r.id AND +l.event = 'subject.restricted'"
        ),
        RequiredEntry(
            what: "erased subject", expected: "subject.erased",
            rows: "SELECT id AS id FROM subjects WHERE erased_at IS NOT NULL AND erased_at > ?1",
            entry: "l.subject_id = r.id AND +l.event = 'subject.erased'"
        ),
    ]

    /// Entries that name a row by a column: the row must exist. Readings name what was asked for
    /// (a filter, a search), which may be nothing: they are not held to it.
    struct NamedRow {
        var column: String
        var table: String
        var events: String
    }

    static let readingEvents = "'log.viewed', 'subject.searched'"

    static let named: [NamedRow] = [
        NamedRow(column: "referral_id", table: "referrals", events: "event NOT IN (\(readingEvents))"),
        NamedRow(column: "subject_id", table: "subjects", events: "event NOT IN (\(readingEvents))"),
        NamedRow(column: "disclosure_id", table: "disclosures", events: "(event LIKE 'disclosure.%' OR event LIKE 'notice.%')"),
    ]

    static func problems(_ main: SQLiteConnection, prunedUpTo: Int64?, limit: Int) throws -> [String] {
        var problems: [String] = []
        let cut = prunedUpTo ?? Int64.min
        for rule in required where problems.count < limit {
            let sql = "SELECT r.id FROM (\(rule.rows)) r WHERE NOT EXISTS (SELECT 1 FROM log_entries l WHERE \(rule.entry)) LIMIT ?2"
            for found in try main.query(sql, [cut, limit - problems.count]) {
                let id = try StrictRow(found, table: rule.table, columns: ["id"]).text(0)
                problems.append("the log is incomplete: \(rule.what) \(id) has no \(rule.expected) entry (entries were removed)")
            }
        }
        for rule in named where problems.count < limit {
            let sql = """
                SELECT seq, \(rule.column) FROM log_entries WHERE \(rule.column) IS NOT NULL AND \(rule.events)
                AND NOT EXISTS (SELECT 1 FROM \(rule.table) t WHERE t.id = log_entries.\(rule.column)) ORDER BY seq LIMIT ?1
                """
            for found in try main.query(sql, [limit - problems.count]) {
                let row = StrictRow(found, table: "log_entries", columns: ["seq", rule.column])
                let (seq, id) = (try row.integer(0), try row.text(1))
                problems.append(
                    "entry \(seq) names \(rule.column.replacingOccurrences(of: "_id", with: "")) \(id), which is not in the store (a row was deleted, or the entry invented)"
                )
            }
        }
        return problems
    }
}
