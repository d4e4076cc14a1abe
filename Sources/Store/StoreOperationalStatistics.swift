/// What a store shared by several nodes can tell the metrics: its connection pool and the lock on
/// the log head that every appending commit takes. The embedded store (SQLite) has neither and
/// does not conform; the daemon asks `store as? any StoreOperationalStatistics`.
package protocol StoreOperationalStatistics: Sendable {
    /// Read connections in use now, the pool's size (`store.poolSize`), and the seconds reads
    /// have waited for a free connection since the store opened.
    var poolConnections: PostgresPoolStatistics { get }
    /// How long commits waited for, and held, the log head's lock since the store opened.
    var logHeadLock: LogHeadLockStatistics { get }
}

extension PostgresStore: StoreOperationalStatistics {
    package var poolConnections: PostgresPoolStatistics { readPool }
}
