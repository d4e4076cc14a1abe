import Dispatch
import Synchronization

/// A one-time signal that any number of threads can wait for: once opened it stays open.
package final class Latch: Sendable {
    private let opened = Atomic<Bool>(false)
    private let group = DispatchGroup()

    package init() { group.enter() }

    // libdispatch refuses to free a group still entered: a latch never opened leaves it here.
    deinit { if !opened.load(ordering: .acquiring) { group.leave() } }

    /// Opens the latch, waking every waiter; later calls do nothing.
    package func open() {
        guard !opened.exchange(true, ordering: .acquiringAndReleasing) else { return }
        group.leave()
    }

    package var isOpen: Bool { opened.load(ordering: .acquiring) }

    /// Blocks until the latch is open.
    package func wait() { group.wait() }

    /// Blocks until the latch is open or `timeout` has passed; whether it opened.
    package func wait(timeout: Duration) -> Bool {
        let (seconds, attoseconds) = timeout.components
        guard seconds < 365 * 86_400 else {
            wait()
            return true
        }
        let nanoseconds = max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        return group.wait(timeout: .now() + .nanoseconds(Int(nanoseconds))) == .success
    }
}
