import Foundation
import Dispatch
import Synchronization

/// Runs a `LogVerifier` over the whole log, spreading the hashing and parsing over every core:
/// entries are read in order into batches, batches are verified in parallel, and the links
/// between batches are checked in order, so that the first failure found is the earliest.
enum LogVerification {
    static let batchSize = 8192

    static func run(_ txn: any StoreTransaction, from anchor: (seq: Int64, hash: String)?, verifier initial: LogVerifier) throws -> LogVerifier {
        var state = initial
        let parallelism = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var pending: [[StoredLogEntry]] = []
        var current: [StoredLogEntry] = []
        current.reserveCapacity(batchSize)

        func flush() {
            guard !pending.isEmpty, state.failure == nil else {
                pending.removeAll()
                return
            }
            let batches = pending
            pending.removeAll()
            let results = Mutex<[Int: LogVerifier]>([:])
            let checkpoints = state.expected
            let kept = state.kept
            DispatchQueue.concurrentPerform(iterations: batches.count) { index in
                let batch = batches[index]
                guard let first = batch.first else { return }
                var verifier = LogVerifier(batchAfter: first.seq - 1, checkpoints: checkpoints, kept: kept)
                for entry in batch where verifier.check(entry) {}
                results.withLock { $0[index] = verifier }
            }
            let verified = results.withLock { $0 }
            for index in batches.indices {
                guard let batchVerifier = verified[index], let first = batches[index].first else { continue }
                state.adopt(batchVerifier, firstEntry: first)
                if state.failure != nil { return }
            }
        }

        try txn.forEachLogEntry(from: (anchor?.seq ?? 0) + 1) { entry in
            current.append(entry)
            if current.count == batchSize {
                pending.append(current)
                current.removeAll(keepingCapacity: true)
                if pending.count == parallelism * 2 { flush() }
            }
            return state.failure == nil
        }
        if !current.isEmpty { pending.append(current) }
        flush()
        state.finish()
        // The chain holds together; now whether it holds everything the store says happened.
        if state.failure == nil {
            let cut = try anchor.flatMap { anchor in try txn.checkpoints().first { $0.seq == anchor.seq }?.time }
            if let problem = try txn.logCompletenessProblems(prunedUpTo: cut, limit: 1).first {
                state.failIncomplete(problem)
            }
        }
        return state
    }
}
