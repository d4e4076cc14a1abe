import Crypto
import Timekeeping

/// When the disclosure log's head is signed (DESIGN.md, "The disclosure log"): every
/// `everyEntries` entries, or once `every` has passed with new entries since the last checkpoint.
///
/// Domain policy, not storage: every store calls `signIfDue` once in each commit, after the
/// commit's writes and before it is made durable, so that a checkpoint is stored in the same
/// commit as the entries it signs. The first commit with entries signs at once.
package struct CheckpointPolicy: Sendable {
    package var everyEntries: Int64
    package var every: Duration
    package var key: Ed25519PrivateKey

    package init(everyEntries: Int64 = 1000, every: Duration = .seconds(300), key: Ed25519PrivateKey) {
        self.everyEntries = everyEntries
        self.every = every
        self.key = key
    }

    /// The head of the log's hash chain as a store's commit leaves it.
    package struct LogHead: Sendable, Hashable {
        package var seq: Int64
        package var hash: String

        package init(seq: Int64, hash: String) {
            self.seq = seq
            self.hash = hash
        }
    }

    /// Signs `head` and stores the checkpoint through `transaction` when enough entries or time
    /// have passed since the last checkpoint; the time is `transaction.now`. Returns the
    /// checkpoint signed, if any. The store's hook: called once per commit, inside it.
    @discardableResult
    package func signIfDue(head: LogHead, in transaction: any StoreTransaction) throws -> Checkpoint? {
        guard head.seq > 0 else { return nil }
        let last = try transaction.latestCheckpoint()
        let lastSeq = last?.seq ?? 0
        let lastTime = last?.time.milliseconds ?? 0
        guard head.seq > lastSeq else { return nil }
        let now = transaction.now
        let everyMilliseconds = every.wholeMilliseconds
        guard head.seq - lastSeq >= everyEntries || now.milliseconds - lastTime >= everyMilliseconds else { return nil }
        let checkpoint = try Checkpoint(seq: head.seq, hash: head.hash, time: now, key: key)
        try transaction.insertCheckpoint(checkpoint)
        return checkpoint
    }
}

extension ExchangeStore {
    /// Checkpoints are due by time as well as by entries: an empty write makes a commit now, in
    /// which the store's checkpoint hook signs the head if it is due (the daemon's timer).
    package func checkpointIfDue() async throws {
        _ = try await write { _ in true }
    }
}
