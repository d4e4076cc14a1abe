import Synchronization
import TLS

/// The TLS context new connections use; replaced on reload, while open connections keep theirs.
package final class TLSContextHolder: Sendable {
    private let context: Mutex<TLSServerContext>

    package init(_ context: TLSServerContext) {
        self.context = Mutex(context)
    }

    package var current: TLSServerContext { context.withLock { $0 } }

    package func replace(with context: TLSServerContext) {
        self.context.withLock { $0 = context }
    }
}
