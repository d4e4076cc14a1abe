import XCTest
@testable import Exchange

final class RetryScheduleTests: XCTestCase {
    let schedule = RetrySchedule(base: .seconds(1), cap: .seconds(60), maxAge: .seconds(3600))
    let start = Timestamp(milliseconds: 1_000_000)

    func testSuccessIsDeliveredAndClientErrorsFailAtOnce() {
        XCTAssertEqual(schedule.decide(.status(201, retryAfterSeconds: nil), attempt: 1, enqueuedAt: start, now: start, jitter: 0), .delivered)
        for code in [400, 401, 403, 404, 409, 422] {
            guard case .fail = schedule.decide(.status(code, retryAfterSeconds: nil), attempt: 1, enqueuedAt: start, now: start, jitter: 0) else {
                return XCTFail("\(code) must fail at once")
            }
        }
    }

    func testRetryableFailuresBackOffExponentiallyWithinJitterUpToTheCap() {
        for code in [408, 425, 429, 500, 502, 503, 504] {
            guard case .retry = schedule.decide(.status(code, retryAfterSeconds: nil), attempt: 1, enqueuedAt: start, now: start, jitter: 0.5) else {
                return XCTFail("\(code) must be retried")
            }
        }
        func delay(_ attempt: Int, _ jitter: Double) -> Int64 {
            guard case .retry(let at, _) = schedule.decide(.transportError("refused"), attempt: attempt, enqueuedAt: start, now: start, jitter: jitter) else {
                return -1
            }
            return at.milliseconds - start.milliseconds
        }
        XCTAssertEqual(delay(1, 0), 500)
        XCTAssertEqual(delay(1, 0.999), 999)
        XCTAssertEqual(delay(2, 0), 1000)
        XCTAssertEqual(delay(3, 0), 2000)
        XCTAssertEqual(delay(20, 0), 30_000, "capped at 60 s, half of it fixed")
    }

    func testRetryAfterIsAMinimum() {
        guard case .retry(let at, _) = schedule.decide(.status(429, retryAfterSeconds: 30), attempt: 1, enqueuedAt: start, now: start, jitter: 0) else {
            return XCTFail()
        }
        XCTAssertEqual(at.milliseconds - start.milliseconds, 30_000)
    }

    func testGivesUpAfterTheMaximumAge() {
        let late = Timestamp(milliseconds: start.milliseconds + 3_599_900)
        guard case .fail(let reason) = schedule.decide(.status(503, retryAfterSeconds: nil), attempt: 9, enqueuedAt: start, now: late, jitter: 0) else {
            return XCTFail()
        }
        XCTAssertTrue(reason.contains("gave up after 9 attempts"), reason)
    }

    func testCircuitOpensAfterTheThresholdProbesAndCloses() {
        var breaker = CircuitBreaker(threshold: 3, openFor: .seconds(10))
        let now = Timestamp(milliseconds: 0)
        XCTAssertEqual(breaker.permits(now: now, inFlight: 0, limit: 2), 2)
        for _ in 0..<3 { breaker.recordFailure(now: now) }
        XCTAssertEqual(breaker.permits(now: Timestamp(milliseconds: 9_999), inFlight: 0, limit: 2), 0)
        XCTAssertEqual(breaker.permits(now: Timestamp(milliseconds: 10_000), inFlight: 0, limit: 2), 1, "one probe")
        XCTAssertEqual(breaker.permits(now: Timestamp(milliseconds: 10_001), inFlight: 0, limit: 2), 0, "only one probe at a time")
        breaker.recordFailure(now: Timestamp(milliseconds: 10_500))
        XCTAssertEqual(breaker.permits(now: Timestamp(milliseconds: 20_000), inFlight: 0, limit: 2), 0, "reopened for twice as long")
        XCTAssertEqual(breaker.permits(now: Timestamp(milliseconds: 30_500), inFlight: 0, limit: 2), 1)
        breaker.recordSuccess()
        XCTAssertFalse(breaker.isOpen)
        XCTAssertEqual(breaker.permits(now: Timestamp(milliseconds: 30_600), inFlight: 1, limit: 2), 1)
    }
}
