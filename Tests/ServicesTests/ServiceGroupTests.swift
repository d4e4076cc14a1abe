import Foundation
import Logging
import Services
import Synchronization
import XCTest

/// The order a group stops its services in, its bounds, and failures, with fake services.
final class ServiceGroupTests: XCTestCase {
    /// A service that notes when it started, was asked to stop and finished, in a shared journal;
    /// it finishes `stopTakes` after being asked (never, if nil), or fails at once with `failure`.
    final class FakeService: Service {
        let name: String
        private let journal: Journal
        private let stopTakes: Duration?
        private let failure: String?
        private let stopRequested = Latch()
        let started = Latch()

        init(_ name: String, journal: Journal, stopTakes: Duration? = .zero, failure: String? = nil) {
            self.name = name
            self.journal = journal
            self.stopTakes = stopTakes
            self.failure = failure
        }

        func run() throws {
            journal.note("\(name) started")
            started.open()
            if let failure { throw FakeError(message: failure) }
            stopRequested.wait()
            guard let stopTakes else {
                Latch().wait()  // never finishes
                return
            }
            _ = Latch().wait(timeout: stopTakes)
            journal.note("\(name) stopped")
        }

        func stop() {
            journal.note("\(name) asked")
            stopRequested.open()
        }
    }

    struct FakeError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    final class Journal: Sendable {
        private let lines = Mutex<[String]>([])
        func note(_ line: String) { lines.withLock { $0.append(line) } }
        var entries: [String] { lines.withLock { $0 } }
    }

    final class ReportBox: Sendable {
        let value = Mutex<ServiceGroup.Report?>(nil)
        func withLock<T>(_ body: (inout ServiceGroup.Report?) -> T) -> T { value.withLock { body(&$0) } }
    }

    private func runInBackground(_ group: ServiceGroup) -> (Latch, ReportBox) {
        let done = Latch()
        let report = ReportBox()
        Thread {
            let outcome = group.run()
            report.withLock { $0 = outcome }
            done.open()
        }.start()
        return (done, report)
    }

    func testStopsInReverseOrderWaitingForEachBeforeAskingTheNext() {
        let journal = Journal()
        let store = FakeService("store", journal: journal)
        let delivery = FakeService("delivery", journal: journal, stopTakes: .milliseconds(200))
        let server = FakeService("server", journal: journal, stopTakes: .milliseconds(50))
        let group = ServiceGroup([
            .init(store, stopTimeout: .seconds(5)), .init(delivery, stopTimeout: .seconds(5)), .init(server, stopTimeout: .seconds(5)),
        ], logger: Logger(sink: InMemoryLogSink()))
        let (done, report) = runInBackground(group)
        for service in [store, delivery, server] { XCTAssertTrue(service.started.wait(timeout: .seconds(10))) }
        XCTAssertFalse(done.isOpen, "the group runs until asked to stop")
        group.shutdown()
        XCTAssertTrue(done.wait(timeout: .seconds(10)))
        let stopping = journal.entries.filter { !$0.hasSuffix("started") }
        XCTAssertEqual(stopping, [
            "server asked", "server stopped", "delivery asked", "delivery stopped", "store asked", "store stopped",
        ])
        XCTAssertEqual(report.withLock { $0 }, ServiceGroup.Report(stopped: ["server", "delivery", "store"]))
    }

    func testAServiceThatDoesNotStopInTimeIsLeftBehindAndTheRestStillStop() {
        let journal = Journal()
        let store = FakeService("store", journal: journal)
        let stuck = FakeService("delivery", journal: journal, stopTakes: nil)
        let server = FakeService("server", journal: journal)
        let group = ServiceGroup([
            .init(store, stopTimeout: .seconds(5)), .init(stuck, stopTimeout: .milliseconds(300)), .init(server, stopTimeout: .seconds(5)),
        ], logger: Logger(sink: InMemoryLogSink()))
        let (done, report) = runInBackground(group)
        XCTAssertTrue(stuck.started.wait(timeout: .seconds(10)))
        let asked = ContinuousClock.now
        group.shutdown()
        XCTAssertTrue(done.wait(timeout: .seconds(10)), "a stuck service must not hang the group")
        XCTAssertLessThan(ContinuousClock.now - asked, .seconds(5))
        XCTAssertEqual(report.withLock { $0 }?.timedOut, ["delivery"])
        XCTAssertEqual(report.withLock { $0 }?.stopped, ["server", "store"])
        XCTAssertEqual(report.withLock { $0 }?.isClean, false)
        XCTAssertTrue(journal.entries.contains("store stopped"), "the store is still closed after a stuck service")
    }

    func testAServiceThatFailsStopsTheOthersInOrderAndIsReported() {
        let journal = Journal()
        let store = FakeService("store", journal: journal)
        let delivery = FakeService("delivery", journal: journal, failure: "cannot set up delivery")
        let server = FakeService("server", journal: journal)
        let group = ServiceGroup([
            .init(store, stopTimeout: .seconds(5)), .init(delivery, stopTimeout: .seconds(5)), .init(server, stopTimeout: .seconds(5)),
        ], logger: Logger(sink: InMemoryLogSink()))
        let (done, report) = runInBackground(group)
        XCTAssertTrue(done.wait(timeout: .seconds(10)), "a failed service ends the group without a shutdown")
        XCTAssertEqual(report.withLock { $0 }?.failed, ["delivery": "cannot set up delivery"])
        XCTAssertEqual(report.withLock { $0 }?.stopped, ["server", "delivery", "store"])
        let entries = journal.entries
        XCTAssertLessThan(try XCTUnwrap(entries.firstIndex(of: "server stopped")), try XCTUnwrap(entries.firstIndex(of: "store asked")))
    }

    func testAServiceThatReturnsByItselfCountsAsAFailure() {
        final class Quits: Service {
            let name = "quitter"
            func run() {}
            func stop() {}
        }
        let journal = Journal()
        let store = FakeService("store", journal: journal)
        let group = ServiceGroup([.init(store, stopTimeout: .seconds(5)), .init(Quits(), stopTimeout: .seconds(5))], logger: Logger(sink: InMemoryLogSink()))
        let (done, report) = runInBackground(group)
        XCTAssertTrue(done.wait(timeout: .seconds(10)))
        XCTAssertEqual(report.withLock { $0 }?.failed, ["quitter": "it stopped by itself"])
        XCTAssertTrue(journal.entries.contains("store stopped"))
    }

    func testShutdownBeforeRunStopsEverythingAsSoonAsStarted() {
        let journal = Journal()
        let store = FakeService("store", journal: journal)
        let group = ServiceGroup([.init(store, stopTimeout: .seconds(5))], logger: Logger(sink: InMemoryLogSink()))
        group.shutdown()
        let (done, report) = runInBackground(group)
        XCTAssertTrue(done.wait(timeout: .seconds(10)))
        XCTAssertEqual(report.withLock { $0 }, ServiceGroup.Report(stopped: ["store"]))
    }

    func testPeriodicServiceRunsOnScheduleAndStopWaitsForTheRunUnderWay() {
        let runs = Mutex(0)
        let inRun = Latch()
        let release = Latch()
        let service = PeriodicService(name: "timer", every: .milliseconds(10)) {
            let count = runs.withLock { count -> Int in
                count += 1
                return count
            }
            if count == 3 {
                inRun.open()
                // Blocks this run until the test lets it go (a thread of the pool, briefly).
                while !release.isOpen { try? await Task.sleep(for: .milliseconds(5)) }
            }
        }
        let finished = Latch()
        Thread {
            service.run()
            finished.open()
        }.start()
        XCTAssertTrue(inRun.wait(timeout: .seconds(10)), "the third run starts")
        service.stop()
        XCTAssertFalse(finished.wait(timeout: .milliseconds(200)), "stop waits for the run under way")
        release.open()
        XCTAssertTrue(finished.wait(timeout: .seconds(10)))
        XCTAssertEqual(runs.withLock { $0 }, 3, "no run starts after stop")
    }

    /// Long work (a backfill of a large store) ends at its next check once its service stops,
    /// rather than running on until the store closes under it.
    func testStoppingAPeriodicServiceCancelsItsRunUnderWay() {
        let inRun = Latch()
        let sawCancellation = Latch()
        let service = PeriodicService(name: "backfill", every: nil) {
            inRun.open()
            while !Task.isCancelled { await Task.yield() }
            sawCancellation.open()
        }
        let finished = Latch()
        Thread {
            service.run()
            finished.open()
        }.start()
        XCTAssertTrue(inRun.wait(timeout: .seconds(10)))
        service.stop()
        XCTAssertTrue(sawCancellation.wait(timeout: .seconds(10)), "the run under way is cancelled")
        XCTAssertTrue(finished.wait(timeout: .seconds(10)))
    }

    func testStartStopServiceStartsRunsAndStopsBlockingUntilDone() {
        let journal = Journal()
        let service = StartStopService(name: "server", start: { journal.note("start") }, stop: { journal.note("shutdown") })
        let finished = Latch()
        Thread {
            try? service.run()
            finished.open()
        }.start()
        XCTAssertFalse(finished.wait(timeout: .milliseconds(50)))
        service.stop()
        service.stop()
        XCTAssertTrue(finished.wait(timeout: .seconds(10)))
        XCTAssertEqual(journal.entries, ["start", "shutdown"])
    }

    func testRunAsyncReturnsTheValueAndRethrows() throws {
        XCTAssertEqual(try runAsync { 42 }, 42)
        XCTAssertThrowsError(try runAsync { throw FakeError(message: "no") }) { XCTAssertEqual("\($0)", "no") }
    }

    func testALatchWakesEveryWaiterStaysOpenAndIsFreedQuietlyWhenNeverOpened() {
        let latch = Latch()
        let woken = Latch()
        let count = Mutex(0)
        for _ in 0..<3 {
            Thread {
                latch.wait()
                if count.withLock({ count -> Int in
                    count += 1
                    return count
                }) == 3 { woken.open() }
            }.start()
        }
        XCTAssertFalse(latch.wait(timeout: .milliseconds(20)))
        latch.open()
        latch.open()
        XCTAssertTrue(woken.wait(timeout: .seconds(10)), "every waiter wakes")
        XCTAssertTrue(latch.wait(timeout: .zero), "an open latch stays open")
        for _ in 0..<100 { _ = Latch().wait(timeout: .zero) }  // never opened, then freed
    }
}
