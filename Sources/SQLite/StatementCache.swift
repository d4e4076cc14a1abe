/// Prepared statements by their SQL, at most `capacity`, the least recently used leaving first.
/// Used on its connection's thread only.
struct StatementCache {
    private var entries: [String: Entry] = [:]
    private var clock: UInt64 = 0
    let capacity: Int

    private struct Entry {
        var statement: SQLiteStatement
        var lastUse: UInt64
    }

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// The statement cached for `sql`, marked as just used.
    mutating func take(_ sql: String) -> SQLiteStatement? {
        clock &+= 1
        guard entries[sql] != nil else { return nil }
        entries[sql]?.lastUse = clock
        return entries[sql]?.statement
    }

    /// Adds `statement`, evicting the least recently used one when full. An evicted statement is
    /// finalized (its deinit) as soon as no caller holds it: one that is being stepped through
    /// (`iterate`) finishes first.
    mutating func insert(_ statement: SQLiteStatement) {
        clock &+= 1
        if entries[statement.sql] == nil, entries.count >= capacity,
           let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            // A linear scan, on a miss with a full cache only: cheaper than the prepare it follows.
            entries[oldest] = nil
        }
        entries[statement.sql] = Entry(statement: statement, lastUse: clock)
    }

    mutating func removeAll() {
        entries.removeAll()
    }
}
