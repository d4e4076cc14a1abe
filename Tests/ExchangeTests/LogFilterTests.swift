@testable import Exchange
import XCTest

/// `LogFilter.parse`: the one reading of a log filter, for `GET /v1/disclosures` and `refex log`.
final class LogFilterTests: XCTestCase {
    private func parse(_ items: [(String, String)], limits: ClosedRange<Int> = 1...1000, spelling: (String) -> String = { $0 }) throws -> (LogFilter, Int) {
        let parsed = try LogFilter.parse(items.map { (name: $0.0, value: $0.1) }, limits: limits, defaultLimit: 100, spelling: spelling)
        return (parsed.filter, parsed.limit)
    }

    private func failure(_ items: [(String, String)], spelling: (String) -> String = { $0 }) -> FilterError? {
        do {
            _ = try parse(items, spelling: spelling)
            return nil
        } catch {
            return error as? FilterError
        }
    }

    /// How `refex log` spells the parameters.
    private let option: (String) -> String = { $0 == "order=newest" ? "--newest-first" : "--\($0)" }

    func testReadsEveryParameter() throws {
        let (filter, limit) = try parse([
            ("subject", "s"), ("referral", "r"), ("recipient", "dv"), ("event", "consent.recorded"), ("exclude", "log.viewed,,x"),
            ("basis", "consent"), ("actor", "police"), ("disclosure", "d"), ("since", "2026-11-01T00:00:00Z"),
            ("until", "2026-11-02T00:00:00+01:00"), ("order", "newest"), ("before", "42"), ("limit", "7"),
        ])
        XCTAssertEqual(filter.subjectID, "s")
        XCTAssertEqual(filter.referralID, "r")
        XCTAssertEqual(filter.recipientID, "dv")
        XCTAssertEqual(filter.event, "consent.recorded")
        XCTAssertEqual(filter.excludedEvents, ["log.viewed", "", "x"], "an empty name is kept, to be refused as unknown")
        XCTAssertEqual(filter.lawfulBasis, "consent")
        XCTAssertEqual(filter.actor, "police")
        XCTAssertEqual(filter.disclosureID, "d")
        XCTAssertEqual(filter.since, Timestamp(rfc3339: "2026-11-01T00:00:00Z"))
        XCTAssertEqual(filter.until, Timestamp(rfc3339: "2026-11-01T23:00:00Z"))
        XCTAssertTrue(filter.newestFirst)
        XCTAssertEqual(filter.beforeSeq, 42)
        XCTAssertNil(filter.afterSeq)
        XCTAssertEqual(limit, 7)
        XCTAssertEqual(try parse([]).1, 100, "the default")
    }

    func testRefusesWhatItCannotRead() {
        XCTAssertEqual(failure([("colour", "red")])?.parameter, "filter")
        XCTAssertEqual(failure([("colour", "red")])?.validValues, LogFilter.parameterNames)
        XCTAssertEqual(failure([("event", "a"), ("event", "b")])?.message, "event is given more than once.")
        XCTAssertEqual(failure([("since", "yesterday")])?.message, "since must be an RFC 3339 date-time, e.g. 2026-11-01T00:00:00Z.")
        XCTAssertEqual(failure([("order", "sideways")])?.validValues, ["oldest", "newest"])
        for seq in ["x", "-1", "+5", " 5", "5 ", "", "1234567890123456789", "٣"] {
            XCTAssertEqual(failure([("after", seq)])?.message, "after must be a seq number.", seq)
        }
        XCTAssertNotNil(try? parse([("after", "123456789012345678")]), "18 digits are a seq")
        for limit in ["0", "1001", "ten", "-3", "1e3"] {
            XCTAssertEqual(failure([("limit", limit)])?.message, "limit must be 1 to 1000.", limit)
        }
        XCTAssertEqual(try? parse([("limit", "1000")]).1, 1000)
        XCTAssertEqual(failure([("order", "newest"), ("after", "3")])?.message, "order=newest pages with before, not after.")
        XCTAssertEqual(failure([("before", "3")])?.message, "before pages order=newest; oldest first pages with after.")
        XCTAssertEqual(failure([("order", "oldest"), ("before", "3")])?.parameter, "before")
    }

    func testMessagesSpeakTheCallersSpelling() {
        XCTAssertEqual(failure([("since", "x")], spelling: option)?.message, "--since must be an RFC 3339 date-time, e.g. 2026-11-01T00:00:00Z.")
        XCTAssertEqual(failure([("before", "3")], spelling: option)?.message, "--before pages --newest-first; oldest first pages with --after.")
        XCTAssertEqual(
            failure([("order", "newest"), ("after", "3")], spelling: option)?.message, "--newest-first pages with --before, not --after."
        )
        XCTAssertEqual(
            (try? LogFilter.parse([(name: "limit", value: "10000")], limits: 1...10_000, defaultLimit: 50, spelling: option))?.limit, 10_000
        )
        do {
            _ = try LogFilter.parse([(name: "limit", value: "10001")], limits: 1...10_000, defaultLimit: 50, spelling: option)
            XCTFail("a limit past the bound")
        } catch {
            XCTAssertEqual((error as? FilterError)?.message, "--limit must be 1 to 10000.")
        }
    }

    func testAMessageNeverRepeatsTheValue() {
        let value = "Alex Example 1990-04-12"
        for name in ["since", "until", "after", "before", "limit", "order"] {
            XCTAssertFalse(failure([(name, value)])?.description.contains(value) ?? true, name)
        }
    }
}
