import Foundation

/// A system call failed: which call, on what, and errno's text.
package struct SystemCallError: Error, Sendable, CustomStringConvertible {
    package var call: String
    package var errno: Int32
    package var context: String

    package init(_ call: String, errno: Int32 = Foundation.errno, context: String = "") {
        self.call = call
        self.errno = errno
        self.context = context
    }

    package var description: String {
        let reason = String(cString: strerror(errno))
        return context.isEmpty ? "\(call): \(reason)" : "\(call) \(context): \(reason)"
    }
}

/// Retries a system call interrupted by a signal; returns its result otherwise.
@inline(__always)
func retryingOnInterrupt<Result: BinaryInteger>(_ call: () -> Result) -> Result {
    while true {
        let result = call()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}
