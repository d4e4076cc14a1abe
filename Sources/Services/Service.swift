/// A long-running part of refex: the server, delivery, a timer, the store (swift-service-lifecycle's
/// `Service`, on threads rather than tasks, since refex's I/O blocks).
///
/// `run()` does the service's work on the calling thread until `stop()` asks it to finish; it then
/// finishes what it started (requests under way, delivery attempts and the recording of their
/// outcomes, a timer's run) and returns. A `ServiceGroup` runs several and stops them in order.
package protocol Service: AnyObject, Sendable {
    /// For the log: "server", "delivery", "store".
    var name: String { get }

    /// Runs until `stop()`, then drains and returns. Throws when it cannot go on; returning or
    /// throwing before `stop()` makes its group stop every other service.
    func run() throws

    /// Asks `run()` to finish; returns at once. Safe to call more than once, and before `run()`
    /// (which then returns as soon as it has started and drained).
    func stop()
}
