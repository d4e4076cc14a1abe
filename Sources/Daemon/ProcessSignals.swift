import Foundation

/// SIGHUP, SIGTERM, SIGINT and SIGUSR1 taken synchronously on one thread with `sigwait`.
///
/// `block()` must run before any other thread starts, so that every thread inherits the mask:
/// a signal that arrives before the waiting thread is running stays pending instead of being
/// lost or killing the process.
package enum ProcessSignals {
    /// SIGUSR1 is taken so that it never kills the daemon; `serve` acts on it only with test hooks on.
    package static let handled: [Int32] = [SIGHUP, SIGTERM, SIGINT, SIGUSR1]

    private static func set() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for number in handled { sigaddset(&set, number) }
        return set
    }

    /// Blocks the handled signals in the calling thread and every thread it starts later.
    package static func block() {
        var mask = set()
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        // Writing to a socket the peer closed must fail with EPIPE, not kill the process.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Calls `handler` on a dedicated thread for each handled signal, in order, forever.
    package static func startWaiting(_ handler: @escaping @Sendable (Int32) -> Void) {
        let thread = Thread {
            var mask = set()
            while true {
                var number: Int32 = 0
                guard sigwait(&mask, &number) == 0 else { continue }
                handler(number)
            }
        }
        thread.name = "refex-signals"
        thread.start()
    }
}
