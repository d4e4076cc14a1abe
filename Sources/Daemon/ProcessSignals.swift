import Foundation

/// SIGHUP, SIGTERM and SIGINT taken synchronously on one thread with `sigwait` (and SIGUSR2 with
/// test hooks on).
///
/// `block()` must run before any other thread starts, so that every thread inherits the mask:
/// a signal that arrives before the waiting thread is running stays pending instead of being
/// lost or killing the process.
package enum ProcessSignals {
    package static let handled: [Int32] = [SIGHUP, SIGTERM, SIGINT]

    /// The test hook's signal, taken only when `REFEX_TEST_HOOKS=1`; otherwise it keeps its default
    /// action. Not SIGUSR1: the Swift runtime's crash handler pauses each thread with SIGUSR1 where
    /// the thread does not block it, and a thread waiting in `sigwait` for a signal shows it as
    /// unblocked, so that thread would swallow the crash handler's SIGUSR1 and stall the backtrace.
    package static let testHook = SIGUSR2

    /// Whether this process takes `testHook` (read once, before any thread starts).
    package static let takesTestHook = ProcessInfo.processInfo.environment["REFEX_TEST_HOOKS"] == "1"

    private static func set() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for number in handled { sigaddset(&set, number) }
        if takesTestHook { sigaddset(&set, testHook) }
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
