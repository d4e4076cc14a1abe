import XCTest
@testable import Exchange

final class RetryScheduleTests: XCTestCase {
    let schedule = RetrySchedule(base: .seconds(1), cap: .seconds(60), maxAge: .seconds(3600))
    let start = Timestamp(milliseconds: 1_000_000)

    func testSuccessIsDeliveredAndClientErrorsFailAtOnce() {
        XCTAssertEqual(schedule.decide(.status(201, retryAfterMilliseconds: nil), attempt: 1, enqueuedAt: start, now: start, jitter: 0), .delivered)
        for code in [400, 401, 403, 404, 409, 422] {
            guard case .fail = schedule.decide(.status(code, retryAfterMilliseconds: nil), attempt: 1, enqueuedAt: start, now: start, jitter: 0) else {
                return XCTFail("\(code) must fail at once")
            }
        }
    }

    func testRetryableFailuresBackOffExponentiallyWithinJitterUpToTheCap() {
        for code in [408, 425, 429, 500, 502, 503, 504] {
            guard case .retry = schedule.decide(.status(code, retryAfterMilliseconds: nil), attempt: 1, enqueuedAt: start, now: start, jitter: 0.5) else {
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
        guard case .retry(let at, _) = schedule.decide(.status(429, retryAfterMilliseconds: 30_000), attempt: 1, enqueuedAt: start, now: start, jitter: 0) else {
            return XCTFail()
        }
        XCTAssertEqual(at.milliseconds - start.milliseconds, 30_000)
    }

    func testRetryAfterOfAnyLengthIsHonouredUpToTheMaximumAge() {
        // schedule.maxAge is one hour here.
        guard case .retry(let at, _) = schedule.decide(.status(503, retryAfterMilliseconds: 3_000_000), attempt: 1, enqueuedAt: start, now: start, jitter: 0) else {
            return XCTFail()
        }
        XCTAssertEqual(at.milliseconds - start.milliseconds, 3_000_000, "fifty minutes: not capped, not shortened")
        for delay in [3_600_001, Int64(1) << 53] {
            guard case .fail(let reason) = schedule.decide(.status(429, retryAfterMilliseconds: delay), attempt: 1, enqueuedAt: start, now: start, jitter: 0) else {
                return XCTFail("a wait past the maximum age fails the item at once")
            }
            XCTAssertTrue(reason.contains("Retry-After"), reason)
            XCTAssertTrue(reason.contains("maxAgeSeconds"), reason)
        }
        // Past the deadline only from a later attempt.
        let later = Timestamp(milliseconds: start.milliseconds + 3_000_000)
        guard case .fail(let reason) = schedule.decide(.status(503, retryAfterMilliseconds: 700_000), attempt: 3, enqueuedAt: start, now: later, jitter: 0) else {
            return XCTFail()
        }
        XCTAssertTrue(reason.contains("Retry-After") && reason.contains("3 attempts"), reason)
        // Retry-After on a refusal does not make it retryable.
        guard case .fail(let refused) = schedule.decide(.status(400, retryAfterMilliseconds: 1000), attempt: 1, enqueuedAt: start, now: start, jitter: 0) else {
            return XCTFail()
        }
        XCTAssertFalse(refused.contains("Retry-After"))
    }

    func testGivesUpAfterTheMaximumAge() {
        let late = Timestamp(milliseconds: start.milliseconds + 3_599_900)
        guard case .fail(let reason) = schedule.decide(.status(503, retryAfterMilliseconds: nil), attempt: 9, enqueuedAt: start, now: late, jitter: 0) else {
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
