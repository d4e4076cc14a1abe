import Crypto
import Foundation
import Synchronization

/// Subject keys made ahead, each for a random subject id, and already durable in the store's
/// keys database (`ExchangeStore.storeSubjectKeysAhead`), so that a referral for a new subject
/// commits its data alone: one sync per referral instead of one in each of two files (issue 17).
///
/// Refilled in batches off the request path, by a task started when no more than `lowWater` are
/// left. Taking never waits: with none ready (a burst faster than refilling, a store that
/// cannot store keys now) intake makes its key itself and stores it in its own commit, as
/// before. A key is handed out once (taken under a lock) and the pool is never read back from
/// the store: keys left when refex stops stay unused (see `KeysCommitter` in Store for why
/// that is sound).
package final class SubjectKeyPool: Sendable {
    /// A key for a new subject: its id, the key, and the wrapped form already stored.
    package struct Fresh: Sendable {
        package var subjectID: String
        package var key: SymmetricKey
        package var wrapped: WrappedSubjectKey
    }

    private struct State {
        var ready: [Fresh] = []
        var refilling = false
        /// The store stores no keys ahead: stop asking.
        var unsupported = false
        var refills = 0
        /// The refill under way, awaited by `stop()`.
        var running: Task<Void, Never>?
        /// Stopped: no refill starts any more.
        var stopped = false
    }

    /// Keys made in one refill (one commit of the keys database).
    package let batch: Int
    /// A refill starts when no more than this are ready (0: when none is).
    package let lowWater: Int
    private let state = Mutex<State>(State())

    package init(batch: Int = 256, lowWater: Int = 128) {
        self.batch = max(1, batch)
        self.lowWater = min(max(0, lowWater), self.batch)
    }

    /// A ready key, or nil when none is (the caller makes one itself); starts a refill when low.
    package func take(keyring: Keyring, store: any ExchangeStore) -> Fresh? {
        let supported = store.storesSubjectKeysAhead
        let (fresh, refill) = state.withLock { state -> (Fresh?, Bool) in
            if !supported { state.unsupported = true }
            guard !state.unsupported, !state.stopped else { return (nil, false) }
            let fresh = state.ready.popLast()
            let refill = state.ready.count <= lowWater && !state.refilling
            if refill { state.refilling = true }
            return (fresh, refill)
        }
        if refill { startRefill(keyring: keyring, store: store) }
        return fresh
    }

    /// Puts back a key that was taken but whose write committed without using it (the referral
    /// was a resubmission): no committed row names its subject id, and none will but through here.
    package func giveBack(_ fresh: Fresh) {
        state.withLock { $0.ready.append(fresh) }
    }

    /// How many keys are ready, and how many refills committed (for tests).
    package var counts: (ready: Int, refills: Int) {
        state.withLock { ($0.ready.count, $0.refills) }
    }

    /// Makes and stores one batch now (tests; `take` does this in the background).
    package func refill(keyring: Keyring, store: any ExchangeStore) async {
        let supported = store.storesSubjectKeysAhead
        let claimed = state.withLock { state -> Bool in
            if !supported { state.unsupported = true }
            guard !state.refilling, !state.unsupported, !state.stopped else { return false }
            state.refilling = true
            return true
        }
        if claimed { await runRefill(keyring: keyring, store: store) }
    }

    /// Starts no more refills and waits for the one under way (before the store closes and the
    /// process exits: a refill still making keys then would race the C library's teardown).
    package func stop() async {
        let running = state.withLock { state -> Task<Void, Never>? in
            state.stopped = true
            return state.running
        }
        await running?.value
    }

    private func startRefill(keyring: Keyring, store: any ExchangeStore) {
        state.withLock { state in
            guard !state.stopped else {
                state.refilling = false
                return
            }
            state.running = Task.detached(priority: .utility) { [self] in await runRefill(keyring: keyring, store: store) }
        }
    }

    private func runRefill(keyring: Keyring, store: any ExchangeStore) async {
        var made: [Fresh] = []
        made.reserveCapacity(batch)
        do {
            for _ in 0..<batch {
                let subjectID = SecureRandom.uuid()
                let (key, wrapped) = try keyring.newSubjectKey(subjectID: subjectID)
                made.append(Fresh(subjectID: subjectID, key: key, wrapped: wrapped))
            }
            let stored = try await store.storeSubjectKeysAhead(made.map(\.wrapped))
            state.withLock { state in
                state.refilling = false
                if stored {
                    state.ready.append(contentsOf: made)
                    state.refills += 1
                } else {
                    state.unsupported = true
                }
            }
        } catch {
            // Nothing is handed out from a failed refill; the next take tries again.
            state.withLock { $0.refilling = false }
        }
    }
}
