import Foundation
import Postgres

extension LogCompleteness {
    /// The same rules as on SQLite, their SQL translated: `?n` → `$n`, SQLite's index hint
    /// `+l.event` dropped, `json_extract(CAST(x AS TEXT), '$.k')` → `convert_from(x, 'UTF8')::jsonb ->> 'k'`.
    static func problems(_ main: PostgresConnection, prunedUpTo: Int64?, limit: Int) throws -> [String] {
        var problems: [String] = []
        let cut = prunedUpTo ?? Int64.min
        for rule in required where problems.count < limit {
            let sql = postgres("SELECT r.id FROM (\(rule.rows)) r WHERE NOT EXISTS (SELECT 1 FROM log_entries l WHERE \(rule.entry)) LIMIT ?2")
            for found in try main.query(sql, [cut, limit - problems.count]) {
                let id = try StrictRow(found, table: rule.table, columns: ["id"]).text(0)
                problems.append("the log is incomplete: \(rule.what) \(id) has no \(rule.expected) entry (entries were removed)")
            }
        }
        for rule in named where problems.count < limit {
            let sql = postgres("""
                SELECT seq, \(rule.column) FROM log_entries WHERE \(rule.column) IS NOT NULL AND \(rule.events)
                AND NOT EXISTS (SELECT 1 FROM \(rule.table) t WHERE t.id = log_entries.\(rule.column)) ORDER BY seq LIMIT ?1
                """)
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

    private static let translations: [(NSRegularExpression, String)] = [
        (#"\?([0-9])"#, "\\$$1"),
        (#"\+l\."#, "l."),
        (#"json_extract\(CAST\(([a-z_.]+) AS TEXT\), '\$\.([A-Za-z]+)'\)"#, "(convert_from($1, 'UTF8')::jsonb ->> '$2')"),
    ].compactMap { pattern, template in (try? NSRegularExpression(pattern: pattern)).map { ($0, template) } }

    static func postgres(_ sql: String) -> String {
        translations.reduce(sql) { sql, translation in
            translation.0.stringByReplacingMatches(in: sql, range: NSRange(sql.startIndex..., in: sql), withTemplate: translation.1)
        }
    }
}
