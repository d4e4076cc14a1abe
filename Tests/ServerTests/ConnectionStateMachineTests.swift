import Foundation
import HTTP
import Synchronization
import XCTest
@testable import Server

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let time = Atomic<UInt64>(1_000_000_000)

    var clock: MonotonicClock { MonotonicClock { self.time.load(ordering: .relaxed) } }
    var now: UInt64 { time.load(ordering: .relaxed) }

    func advance(by duration: Duration) { time.add(duration.nanoseconds, ordering: .relaxed) }
    func advance(nanoseconds: UInt64) { time.add(nanoseconds, ordering: .relaxed) }
}

/// The connection lifecycle as a value: every transition, with time set by hand, no socket, no sleep.
/// Limits are the production defaults: handshake 5 s, header 10 s, body 30 s, idle 60 s, write 30 s, linger 2 s.
final class ConnectionStateMachineTests: XCTestCase {
    private let time = ManualClock()

    private func machine() -> ConnectionStateMachine {
        ConnectionStateMachine(timeouts: ConnectionStateMachine.Timeouts(ServerConfiguration()), clock: time.clock)
    }

    /// Past the handshake, admitted, nothing received yet.
    private func openMachine() -> ConnectionStateMachine {
        var machine = machine()
        XCTAssertEqual(machine.handshakeFinished(admitted: true), .read)
        return machine
    }

    /// A request in flight, asking for keep-alive unless told otherwise.
    private func busyMachine(keepAlive: Bool = true) -> ConnectionStateMachine {
        var machine = openMachine()
        XCTAssertEqual(machine.awaitingInput(.head), .read)
        XCTAssertEqual(machine.requestReceived(keepAlive: keepAlive, clientVerified: true), .dispatch)
        return machine
    }

    /// Asserts that `tick()` does nothing up to exactly `limit` from now, and returns what it does 1 ns later.
    private func tickPast(_ limit: Duration, _ machine: inout ConnectionStateMachine, file: StaticString = #filePath, line: UInt = #line)
        -> ConnectionStateMachine.TickAction {
        time.advance(by: limit)
        XCTAssertEqual(machine.tick(), .none, "nothing at the limit itself", file: file, line: line)
        time.advance(nanoseconds: 1)
        return machine.tick()
    }

    // MARK: Handshake

    func testAHandshakeOverItsLimitIsClosedAsATimeout() {
        var machine = machine()
        XCTAssertTrue(machine.isHandshaking)
        XCTAssertFalse(machine.acceptsRequests)
        XCTAssertEqual(tickPast(.seconds(5), &machine), .closeTimedOut(.handshake))
        XCTAssertTrue(machine.isClosed)
        XCTAssertEqual(machine.tick(), .none, "closed once")
    }

    func testAFinishedHandshakeWithinTheBudgetReadsAndStartsTheIdleLimit() {
        var machine = machine()
        time.advance(by: .seconds(4))
        XCTAssertEqual(machine.handshakeFinished(admitted: true), .read)
        XCTAssertTrue(machine.acceptsRequests)
        XCTAssertTrue(machine.wantsInput)
        XCTAssertEqual(machine.state, .open(.init(idleSince: time.now)))
        XCTAssertEqual(tickPast(.seconds(60), &machine), .closeTimedOut(.idle), "the handshake limit no longer applies; the idle one does")
    }

    func testAConnectionOverTheBudgetIsAnswered503AndClosedAfterTheFlush() {
        var machine = machine()
        XCTAssertEqual(machine.handshakeFinished(admitted: false), .answer503)
        XCTAssertFalse(machine.acceptsRequests, "no request is read from a refused connection")
        XCTAssertFalse(machine.wantsInput)
        XCTAssertEqual(machine.tick(), .none)
        XCTAssertEqual(machine.outputFlushed(), .linger)
        XCTAssertEqual(machine.state, .lingering(until: time.now + 2_000_000_000, discarded: 0))
        XCTAssertEqual(tickPast(.seconds(2), &machine), .close)
        XCTAssertTrue(machine.isClosed)
    }

    func testAFailedHandshakeCloses() {
        var machine = machine()
        XCTAssertEqual(machine.handshakeFailed(plainHTTP: false), .close)
        XCTAssertTrue(machine.isClosed)
    }

    func testPlainHTTPOnTheTLSPortIsAnsweredThenLingers() {
        var machine = machine()
        XCTAssertEqual(machine.handshakeFailed(plainHTTP: true), .answerPlainHTTP)
        XCTAssertEqual(machine.state, .lingering(until: time.now + 2_000_000_000, discarded: 0))
        XCTAssertEqual(tickPast(.seconds(2), &machine), .close)
    }

    func testADisplacedHandshakeClosesButAnOpenConnectionIsNotDisplaced() {
        var handshaking = machine()
        XCTAssertEqual(handshaking.handshakeDisplaced(), .close)
        XCTAssertTrue(handshaking.isClosed)
        var open = openMachine()
        XCTAssertEqual(open.handshakeDisplaced(), .none)
        XCTAssertTrue(open.isOpen)
    }

    // MARK: Requests and keep-alive

    func testAKeptAliveConnectionIsIdleAgainAfterItsResponse() {
        var machine = busyMachine()
        XCTAssertFalse(machine.acceptsRequests, "one request at a time")
        XCTAssertFalse(machine.wantsInput)
        time.advance(by: .seconds(3))
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: true))
        XCTAssertEqual(machine.outputFlushed(), .none)
        XCTAssertEqual(machine.state, .open(.init(idleSince: time.now)))
        XCTAssertTrue(machine.wantsInput)
    }

    /// While a request is in flight no request is answered, but input is still read (so that
    /// readable interest need not be dropped and restored around every request); not once the
    /// peer stopped sending, nor on a connection that is closing.
    func testInputIsReadWhileARequestIsInFlightButNotAfterThePeerStopsOrWhileClosing() {
        var machine = busyMachine()
        XCTAssertFalse(machine.acceptsRequests)
        XCTAssertTrue(machine.readsInput)
        machine.inputClosed()
        XCTAssertFalse(machine.readsInput, "the end of input was read: nothing more will come")
        XCTAssertEqual(machine.readingPaused(), .none, "the request in flight is still answered")
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: false))

        var refused = self.machine()
        XCTAssertEqual(refused.handshakeFinished(admitted: false), .answer503)
        XCTAssertFalse(refused.readsInput)
        XCTAssertFalse(self.machine().readsInput, "not during the handshake")
    }

    func testARequestAskingToCloseIsAnsweredWithCloseThenLingers() {
        var machine = busyMachine(keepAlive: false)
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: false))
        XCTAssertFalse(machine.acceptsRequests, "requests pipelined after it are not answered")
        XCTAssertEqual(machine.outputFlushed(), .linger)
    }

    func testPipelinedRequestsAreDispatchedOneAfterAnother() {
        var machine = busyMachine()
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: true))
        // The next request was already buffered: dispatched before anything is flushed.
        XCTAssertEqual(machine.requestReceived(keepAlive: true, clientVerified: true), .dispatch)
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: true))
        XCTAssertEqual(machine.requestReceived(keepAlive: false, clientVerified: true), .dispatch)
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: false))
        XCTAssertEqual(machine.outputFlushed(), .linger)
    }

    func testNothingTimesOutWhileARequestIsInFlight() {
        var machine = busyMachine()
        time.advance(by: .seconds(3600))
        XCTAssertEqual(machine.tick(), .none)
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: true))
        XCTAssertEqual(tickPast(.seconds(60), &machine), .closeTimedOut(.idle), "the idle limit runs from the response")
    }

    func testAnIdleConnectionIsClosedAfterItsLimit() {
        var machine = openMachine()
        XCTAssertEqual(machine.awaitingInput(.idle), .read)
        XCTAssertEqual(tickPast(.seconds(60), &machine), .closeTimedOut(.idle))
        XCTAssertTrue(machine.isClosed)
    }

    func testLeadingEmptyLinesDoNotRestartTheIdleLimit() {
        var machine = openMachine()
        time.advance(by: .seconds(50))
        XCTAssertEqual(machine.awaitingInput(.head), .read)  // "\r\n" arrived
        time.advance(by: .seconds(5))
        XCTAssertEqual(machine.awaitingInput(.idle), .read)  // consumed as an empty line
        XCTAssertEqual(tickPast(.seconds(5), &machine), .closeTimedOut(.idle))
    }

    func testASlowHeaderSectionIsAnswered408FromItsFirstByte() {
        var machine = openMachine()
        time.advance(by: .seconds(30))
        XCTAssertEqual(machine.awaitingInput(.head), .read)
        for _ in 0..<9 {
            time.advance(by: .seconds(1))
            XCTAssertEqual(machine.awaitingInput(.head), .read, "a byte at a time does not restart the limit")
        }
        XCTAssertEqual(tickPast(.seconds(1), &machine), .answer408(.header))
        XCTAssertFalse(machine.acceptsRequests)
        XCTAssertEqual(machine.tick(), .none, "answered once")
        XCTAssertEqual(machine.outputFlushed(), .linger)
    }

    func testASlowBodyIsAnswered408FromTheEndOfTheHeaderSection() {
        var machine = openMachine()
        XCTAssertEqual(machine.awaitingInput(.head), .read)
        time.advance(by: .seconds(9))
        XCTAssertEqual(machine.awaitingInput(.body), .read)
        time.advance(by: .seconds(29))
        XCTAssertEqual(machine.awaitingInput(.body), .read)
        XCTAssertEqual(tickPast(.seconds(1), &machine), .answer408(.body))
        XCTAssertEqual(machine.outputFlushed(), .linger)
    }

    func testContinueIsOfferedUnlessTheServerIsDraining() {
        var machine = openMachine()
        XCTAssertEqual(machine.expectContinue(), .writeContinue)
        machine.serverIsDraining()
        XCTAssertEqual(machine.expectContinue(), .none)
    }

    func testAnUnreadableRequestIsTheLast() {
        var machine = openMachine()
        XCTAssertEqual(machine.awaitingInput(.head), .read)
        machine.closeAfterFlush()
        XCTAssertFalse(machine.acceptsRequests)
        XCTAssertEqual(machine.outputFlushed(), .linger)
    }

    // MARK: Writing

    func testAResponseTheClientDoesNotTakeIsCutAfterTheWriteLimit() {
        var machine = busyMachine()
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: true))
        machine.writeStalled(blocked: true)
        time.advance(by: .seconds(20))
        machine.writeStalled(blocked: true)  // some bytes went, then it blocked again
        XCTAssertEqual(tickPast(.seconds(10), &machine), .closeTimedOut(.write), "the limit runs from the first stall")
    }

    func testAStalledWriteIsJudgedByTheWriteLimitAlone() {
        var machine = busyMachine()
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: true))
        time.advance(by: .seconds(59))
        machine.writeStalled(blocked: true)
        time.advance(by: .seconds(29))
        XCTAssertEqual(machine.tick(), .none, "past the idle limit, within the write limit")
    }

    func testWrittenOutputStopsTheWriteLimit() {
        var machine = busyMachine()
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: true))
        machine.writeStalled(blocked: true)
        time.advance(by: .seconds(29))
        XCTAssertEqual(machine.outputFlushed(), .none)
        XCTAssertEqual(tickPast(.seconds(31), &machine), .closeTimedOut(.idle), "idle since the response, 60 s before")
    }

    // MARK: The peer closing its side

    func testAPeerThatClosesBetweenRequestsIsClosed() {
        var machine = openMachine()
        machine.inputClosed()
        XCTAssertFalse(machine.wantsInput)
        XCTAssertEqual(machine.readingPaused(), .close)
        XCTAssertTrue(machine.isClosed)
    }

    func testAPeerThatClosesMidRequestGetsNothingAndIsClosedAfterTheFlush() {
        var machine = openMachine()
        machine.inputClosed()
        XCTAssertEqual(machine.awaitingInput(.head), .closeAfterFlush)
        XCTAssertFalse(machine.acceptsRequests)
        XCTAssertEqual(machine.outputFlushed(), .linger)
    }

    func testAPeerThatClosesWithARequestInFlightGetsItsAnswerWithClose() {
        var machine = busyMachine()
        machine.inputClosed()
        XCTAssertEqual(machine.readingPaused(), .none, "its answer is still to come")
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: false))
        machine.writeStalled(blocked: true)
        XCTAssertEqual(machine.readingPaused(), .none, "its answer is still being written")
        XCTAssertEqual(machine.outputFlushed(), .linger)
    }

    // MARK: Draining

    func testDrainClosesAHandshakingConnection() {
        var machine = machine()
        XCTAssertEqual(machine.drain(), .close)
        XCTAssertTrue(machine.isClosed)
    }

    func testDrainClosesAnIdleConnectionAtOnce() {
        var machine = busyMachine()
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: true))
        XCTAssertEqual(machine.outputFlushed(), .none)
        XCTAssertEqual(machine.drain(), .close)
        XCTAssertTrue(machine.isClosed)
    }

    func testDrainLetsARequestInFlightFinishWithClose() {
        var machine = busyMachine()
        XCTAssertEqual(machine.drain(), .none)
        XCTAssertEqual(machine.tick(), .none)
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: false))
        XCTAssertEqual(machine.outputFlushed(), .linger)
        XCTAssertEqual(tickPast(.seconds(2), &machine), .close)
    }

    func testDrainWhileWritingClosesOnceTheOutputIsWritten() {
        var machine = busyMachine()
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: true))
        machine.writeStalled(blocked: true)
        XCTAssertEqual(machine.drain(), .none, "the response is still being written")
        XCTAssertEqual(machine.tick(), .none)
        XCTAssertEqual(machine.outputFlushed(), .none)
        XCTAssertEqual(machine.tick(), .close, "idle while draining: closed at the next tick")
    }

    func testDrainLeavesAHalfReceivedRequestToItsLimit() {
        var machine = openMachine()
        XCTAssertEqual(machine.awaitingInput(.head), .read)
        XCTAssertEqual(machine.drain(), .none)
        XCTAssertEqual(tickPast(.seconds(10), &machine), .answer408(.header))
    }

    func testDrainSeenBeforeItsEventEndsKeepAliveAndClosesOnceIdle() {
        var machine = busyMachine()
        machine.serverIsDraining()
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: false))
        var idle = openMachine()
        idle.serverIsDraining()
        XCTAssertEqual(idle.tick(), .close)
    }

    func testDrainDoesNotInterruptLingering() {
        var machine = busyMachine(keepAlive: false)
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: false))
        XCTAssertEqual(machine.outputFlushed(), .linger)
        XCTAssertEqual(machine.drain(), .none)
        XCTAssertEqual(tickPast(.seconds(2), &machine), .close)
    }

    // MARK: Reloads

    func testAClientNoLongerVerifiedWhileIdleIsClosedAfterTheFlush() {
        var machine = openMachine()
        XCTAssertEqual(machine.clientNoLongerVerified(), .closeAfterFlush)
        XCTAssertFalse(machine.acceptsRequests)
        XCTAssertEqual(machine.outputFlushed(), .linger)
    }

    func testAClientNoLongerVerifiedWithARequestInFlightGetsItsAnswerAsTheLast() {
        var machine = busyMachine()
        XCTAssertEqual(machine.clientNoLongerVerified(), .closeAfterResponse)
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: false))
        XCTAssertEqual(machine.outputFlushed(), .linger)
    }

    func testARequestFromAClientNoLongerVerifiedIsNotDispatched() {
        var machine = openMachine()
        XCTAssertEqual(machine.requestReceived(keepAlive: true, clientVerified: false), .closeAfterFlush)
        XCTAssertFalse(machine.acceptsRequests)
        XCTAssertEqual(machine.responseReady(), .discard, "nothing was in flight")
        XCTAssertEqual(machine.outputFlushed(), .linger)
    }

    func testAReloadBeforeTheHandshakeFinishesChangesNothing() {
        var machine = machine()
        XCTAssertEqual(machine.clientNoLongerVerified(), .none)
        XCTAssertTrue(machine.isHandshaking)
    }

    // MARK: Lingering and closing

    func testALingeringConnectionSentTooMuchIsClosed() {
        var machine = busyMachine(keepAlive: false)
        XCTAssertEqual(machine.responseReady(), .write(keepAlive: false))
        XCTAssertEqual(machine.outputFlushed(), .linger)
        XCTAssertEqual(machine.discarded(byteCount: ConnectionStateMachine.maxLingerBytes - 1), .none)
        XCTAssertEqual(machine.discarded(byteCount: 1), .none)
        XCTAssertEqual(machine.discarded(byteCount: 1), .close)
        XCTAssertTrue(machine.isClosed)
    }

    func testEventsAfterCloseChangeNothing() {
        var machine = busyMachine()
        machine.closed()
        XCTAssertEqual(machine.responseReady(), .discard, "the client went away meanwhile")
        XCTAssertEqual(machine.awaitingInput(.head), .read)
        machine.writeStalled(blocked: true)
        machine.inputClosed()
        machine.closeAfterFlush()
        XCTAssertEqual(machine.outputFlushed(), .none)
        XCTAssertEqual(machine.readingPaused(), .none)
        XCTAssertEqual(machine.clientNoLongerVerified(), .none)
        XCTAssertEqual(machine.drain(), .none)
        XCTAssertEqual(machine.handshakeDisplaced(), .none)
        time.advance(by: .seconds(3600))
        XCTAssertEqual(machine.tick(), .none)
        XCTAssertEqual(machine.state, .closed)
    }
}
