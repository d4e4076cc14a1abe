import Exchange
import Foundation
import Postgres
import Synchronization

/// The head of the disclosure log within one write transaction on PostgreSQL. Several nodes
/// append to one chain: the first append of a commit takes a transaction-scoped advisory lock on
/// the head (`pg_advisory_xact_lock`), reads the head under it, and holds it until COMMIT or
/// ROLLBACK, so that seq stays gapless and each prevHash is the previous entry's hash whichever
/// node wrote it. Commits that append nothing never take it.
final class PostgresLogChain {
    private(set) var head: CheckpointPolicy.LogHead?
    private(set) var lockedAt: ContinuousClock.Instant?
    private(set) var waited: Duration = .zero

    /// What a failed write's savepoint rollback gives back (the lock too, if that write took it).
    struct Saved {
        fileprivate var head: CheckpointPolicy.LogHead?
        fileprivate var lockedAt: ContinuousClock.Instant?
    }

    var saved: Saved { Saved(head: head, lockedAt: lockedAt) }

    func restore(_ saved: Saved) {
        (head, lockedAt) = (saved.head, saved.lockedAt)
    }

    /// The head, locking it first if this transaction has not yet.
    func take(_ main: PostgresConnection) throws -> CheckpointPolicy.LogHead {
        if let head { return head }
        let start = ContinuousClock.now
        try main.query("SELECT true FROM pg_advisory_xact_lock($1)", [PostgresSchema.logHeadLock])
        let locked = ContinuousClock.now
        let read = try Self.readHead(main)
        (head, lockedAt, waited) = (read, locked, locked - start)
        return read
    }

    func advance(seq: Int64, hash: String) {
        head = CheckpointPolicy.LogHead(seq: seq, hash: hash)
    }

    /// The head as committed (no lock): the last entry, else where pruning left the log, else
    /// the start of a log never written.
    static func readHead(_ main: PostgresConnection) throws -> CheckpointPolicy.LogHead {
        if let found = try main.first("SELECT seq, hash FROM log_entries ORDER BY seq DESC LIMIT 1") {
            let row = StrictRow(found, table: "log_entries", columns: ["seq", "hash"])
            return CheckpointPolicy.LogHead(seq: try row.integer(0), hash: try row.text(1))
        }
        if let anchor = try main.first("SELECT seq, hash FROM log_anchor WHERE id = 1") {
            let row = StrictRow(anchor, table: "log_anchor", columns: ["seq", "hash"])
            return CheckpointPolicy.LogHead(seq: try row.integer(0), hash: try row.text(1))
        }
        return CheckpointPolicy.LogHead(seq: 0, hash: LogEntry.genesisHash)
    }
}

/// How long commits held (and waited for) the lock on the log head, since the store opened: what
/// bounds intake across nodes (every referral appends). For metrics (`refex_store_log_head_lock_*`).
package struct LogHeadLockStatistics: Sendable, Hashable {
    /// Upper bounds of the hold-time histogram buckets, in seconds (cumulative, as Prometheus).
    package static let bucketBounds: [Double] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1]

    /// Commits that took the lock.
    package var commits = 0
    /// Seconds the lock was held (from taking it to COMMIT returning), summed.
    package var heldSeconds = 0.0
    /// Seconds spent waiting for it (another node or commit held it), summed.
    package var waitSeconds = 0.0
    /// The longest hold, in seconds.
    package var maxHeldSeconds = 0.0
    /// Commits that held it at most `bucketBounds[i]` seconds.
    package var heldBuckets = [Int](repeating: 0, count: LogHeadLockStatistics.bucketBounds.count)

    mutating func record(held: Duration, waited: Duration) {
        let seconds = Double(held.components.seconds) + Double(held.components.attoseconds) / 1e18
        let waitedSeconds = Double(waited.components.seconds) + Double(waited.components.attoseconds) / 1e18
        commits += 1
        heldSeconds += seconds
        waitSeconds += waitedSeconds
        maxHeldSeconds = max(maxHeldSeconds, seconds)
        for (index, bound) in Self.bucketBounds.enumerated() where seconds <= bound { heldBuckets[index] += 1 }
    }
}
