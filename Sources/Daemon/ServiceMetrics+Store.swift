import Exchange
import Metrics
import Store

extension ServiceMetrics {
    /// The pool and log-head metrics of a store shared by several nodes (PostgreSQL), read when
    /// scraped; nothing for the embedded store. Numbers only.
    static func registerSharedStoreMetrics(_ registry: MetricsRegistry, store: any RefexStore) {
        guard let shared = store as? any StoreOperationalStatistics else { return }
        registry.gauge("refex_store_pool_connections", help: "Read connections to the database this node keeps (store.poolSize).") {
            [([], Double(shared.poolConnections.size))]
        }
        registry.gauge("refex_store_pool_connections_in_use", help: "Read connections in use now.") {
            [([], Double(shared.poolConnections.inUse))]
        }
        registry.counter("refex_store_pool_wait_seconds_total", help: "Seconds reads waited for a free pool connection.") {
            [([], shared.poolConnections.waitSeconds)]
        }
        registry.counter("refex_store_log_head_lock_commits_total", help: "Commits that took the lock on the disclosure log's head.") {
            [([], Double(shared.logHeadLock.commits))]
        }
        registry.counter(
            "refex_store_log_head_lock_wait_seconds_total", help: "Seconds commits waited for the log head's lock (held by another commit or node)."
        ) {
            [([], shared.logHeadLock.waitSeconds)]
        }
        registry.counter("refex_store_log_head_lock_held_seconds_total", help: "Seconds commits held the log head's lock, to COMMIT returning.") {
            [([], shared.logHeadLock.heldSeconds)]
        }
        registry.counter(
            "refex_store_log_head_lock_held_commits_total",
            help: "Commits that held the log head's lock at most `le` seconds (cumulative, as a histogram's buckets).", labelNames: ["le"]
        ) {
            let statistics = shared.logHeadLock
            return zip(LogHeadLockStatistics.bucketBounds, statistics.heldBuckets).map { ([String($0)], Double($1)) }
                + [(["+Inf"], Double(statistics.commits))]
        }
        registry.gauge("refex_store_log_head_lock_held_max_seconds", help: "The longest a commit held the log head's lock since refex started.") {
            [([], shared.logHeadLock.maxHeldSeconds)]
        }
    }
}
