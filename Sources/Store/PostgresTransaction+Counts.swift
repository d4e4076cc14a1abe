import Exchange
import Postgres

extension PostgresTransaction {
    /// The log's entries of `events` from `since` up to `until` (and after `afterSeq`, when
    /// given), counted per local day (the UTC offset applied before dividing), event, recipient
    /// and lawful basis; as on SQLite, a day is the whole number of days since the epoch,
    /// truncated, and a missing recipient or basis sorts first.
    func logEventCounts(since: Timestamp, until: Timestamp, afterSeq: Int64?, events: [String], utcOffsetMilliseconds: Int64) throws -> [LogEventCount] {
        guard !events.isEmpty else { return [] }
        var values: [any PostgresBindable] = [utcOffsetMilliseconds, since.milliseconds, until.milliseconds]
        values.append(contentsOf: events.map { $0 as any PostgresBindable })
        let placeholders = events.indices.map { "$\($0 + 4)" }.joined(separator: ", ")
        var seqCondition = ""
        if let afterSeq {
            values.append(afterSeq)
            seqCondition = " AND seq > $\(values.count)"
        }
        let sql = """
            SELECT (time + $1) / 86400000, event, recipient_id, lawful_basis, count(*) FROM log_entries
            WHERE time >= $2 AND time < $3 AND event IN (\(placeholders))\(seqCondition)
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3 NULLS FIRST, 4 NULLS FIRST
            """
        return try main.query(sql, values).map { found in
            let row = StrictRow(found, table: "log_entries", columns: ["day", "event", "recipient_id", "lawful_basis", "count(*)"])
            return LogEventCount(
                day: try row.integer(0), event: try row.text(1), recipientID: try row.optionalText(2), lawfulBasis: try row.optionalText(3),
                count: try row.count(4)
            )
        }
    }
}
