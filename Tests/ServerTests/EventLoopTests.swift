import Foundation
import Synchronization
import XCTest
@testable import Server

/// The event loop's task queue: what runs where, and what it costs to get there.
final class EventLoopTests: XCTestCase {
    private func startedLoop() throws -> EventLoop {
        let loop = try EventLoop(index: 0)
        loop.start(name: "test-loop")
        return loop
    }

    private func stop(_ loop: EventLoop) {
        loop.stop()
        loop.waitUntilFinished()
    }

    /// A task queued from another thread wakes the loop; one the loop queues for itself (a
    /// request's task starting, a continuation resumed on the loop) needs no eventfd write and
    /// still runs, on the loop's thread.
    func testATaskQueuedFromTheLoopItselfRunsThereWithoutAWake() throws {
        let loop = try startedLoop()
        defer { stop(loop) }
        let done = DispatchSemaphore(value: 0)
        let observed = Mutex<(wakesBefore: Int, wakesAfter: Int, onLoop: Bool)?>(nil)
        loop.execute {
            let before = loop.wakes
            loop.execute {
                observed.withLock { $0 = (before, loop.wakes, loop.inLoop) }
                done.signal()
            }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success, "the inner task ran")
        let result = try XCTUnwrap(observed.withLock { $0 })
        XCTAssertTrue(result.onLoop)
        XCTAssertEqual(result.wakesAfter, result.wakesBefore, "queued from the loop: no wake")
        XCTAssertGreaterThanOrEqual(result.wakesBefore, 1, "queued from the test's thread: woken")
    }

    /// A long chain of tasks each queuing the next from the loop runs to its end with no wake
    /// at all and without waiting for the loop's tick between links.
    func testAChainOfSelfQueuedTasksRunsToItsEndWithoutWakes() throws {
        let loop = try startedLoop()
        defer { stop(loop) }
        let done = DispatchSemaphore(value: 0)
        let wakes = Mutex<(Int, Int)>((0, 0))
        @Sendable func link(_ left: Int) {
            if left == 0 {
                wakes.withLock { $0.1 = loop.wakes }
                done.signal()
                return
            }
            loop.execute { link(left - 1) }
        }
        let started = Date()
        loop.execute {
            wakes.withLock { $0.0 = loop.wakes }
            link(10_000)
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "10,000 links do not each wait for a tick")
        let (before, after) = wakes.withLock { $0 }
        XCTAssertEqual(after, before)
    }

    /// A task the loop queues for itself from its periodic tick (when no event is pending and
    /// nothing else will wake it) runs at once, not after the next tick or a second's wait.
    func testATaskQueuedFromATickRunsBeforeTheLoopWaitsAgain() throws {
        final class TickProbe: EventLoopHandler, @unchecked Sendable {
            let loop: EventLoop
            let ran = DispatchSemaphore(value: 0)
            var queued = false
            var tickedAt: UInt64 = 0
            let ranAt = Atomic<UInt64>(0)
            init(loop: EventLoop) { self.loop = loop }
            func handleEvents(_ events: UInt32) {}
            func handleTick() {
                guard !queued else { return }
                queued = true
                tickedAt = MonotonicClock.now()
                loop.execute { [self] in
                    ranAt.store(MonotonicClock.now(), ordering: .relaxed)
                    ran.signal()
                }
            }
        }
        let loop = try startedLoop()
        defer { stop(loop) }
        let probe = TickProbe(loop: loop)
        // A registered handler is ticked; a pipe's read end never becomes readable here.
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        defer { close(readEnd); close(writeEnd) }
        let registered = DispatchSemaphore(value: 0)
        loop.execute {
            try? loop.register(readEnd, events: 0, handler: probe)
            registered.signal()
        }
        XCTAssertEqual(registered.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(probe.ran.wait(timeout: .now() + 5), .success)
        let delay = probe.ranAt.load(ordering: .relaxed) &- probe.tickedAt
        XCTAssertLessThan(delay, EventLoop.tickInterval / 2, "ran \(delay) ns after it was queued")
        loop.execute { loop.unregister(readEnd) }
    }
}
