import Console
import Exchange
import XCTest

/// Times in the configured zone, always with the offset, across daylight-saving changes.
final class LocalTimeTests: XCTestCase {
    func at(_ text: String) throws -> Timestamp { try XCTUnwrap(Timestamp(rfc3339: text)) }

    func testLondonShowsGreenwichInWinterAndSummerTimeInSummer() throws {
        let london = try XCTUnwrap(LocalTime(identifier: "Europe/London"))
        XCTAssertEqual(london.dateTime(try at("2026-03-03T14:02:00Z")), "3 March 2026, 14:02 (+00:00)")
        XCTAssertEqual(london.dateTime(try at("2026-07-03T14:02:00Z")), "3 July 2026, 15:02 (+01:00)")
        XCTAssertEqual(london.inSentence(try at("2026-03-03T14:02:00Z")), "3 March 2026 at 14:02 (+00:00)")
        XCTAssertEqual(london.preciseDateTime(try at("2026-07-03T14:02:09.999Z")), "3 July 2026, 15:02:09 (+01:00)")
    }

    func testTheChangeToSummerTimeIsToTheSecond() throws {
        let london = try XCTUnwrap(LocalTime(identifier: "Europe/London"))
        // Clocks go forward at 01:00 UTC on 29 March 2026.
        XCTAssertEqual(london.preciseDateTime(try at("2026-03-29T00:59:59Z")), "29 March 2026, 00:59:59 (+00:00)")
        XCTAssertEqual(london.preciseDateTime(try at("2026-03-29T01:00:00Z")), "29 March 2026, 02:00:00 (+01:00)")
        // And back at 01:00 UTC on 25 October 2026: 01:30 local happens twice, told apart by the offset.
        XCTAssertEqual(london.dateTime(try at("2026-10-25T00:30:00Z")), "25 October 2026, 01:30 (+01:00)")
        XCTAssertEqual(london.dateTime(try at("2026-10-25T01:30:00Z")), "25 October 2026, 01:30 (+00:00)")
    }

    func testDaysBeginAtLocalMidnight() throws {
        let london = try XCTUnwrap(LocalTime(identifier: "Europe/London"))
        XCTAssertEqual(london.startOfDay("2026-07-03"), try at("2026-07-02T23:00:00Z"))
        XCTAssertEqual(london.startOfDay("2026-01-03"), try at("2026-01-03T00:00:00Z"))
        // The days of the changes: midnight is before the change on both.
        XCTAssertEqual(london.startOfDay("2026-03-29"), try at("2026-03-29T00:00:00Z"))
        XCTAssertEqual(london.startOfDay("2026-10-25"), try at("2026-10-24T23:00:00Z"))
        XCTAssertEqual(london.dayNumber(try at("2026-07-02T23:30:00Z")), london.dayNumber(try at("2026-07-03T12:00:00Z")))
        XCTAssertEqual(LocalTime.isoDate(dayNumber: london.dayNumber(try at("2026-07-02T23:30:00Z"))), "2026-07-03")
        for bad in ["2026-02-30", "2026-13-01", "26-01-01", "2026-1-1", "yesterday", "", "2026-01-01T00:00"] {
            XCTAssertNil(london.startOfDay(bad), bad)
        }
    }

    func testOtherZonesAndUnknownNames() throws {
        let newYork = try XCTUnwrap(LocalTime(identifier: "America/New_York"))
        XCTAssertEqual(newYork.dateTime(try at("2026-01-15T12:00:00Z")), "15 January 2026, 07:00 (-05:00)")
        let kolkata = try XCTUnwrap(LocalTime(identifier: "Asia/Kolkata"))
        XCTAssertEqual(kolkata.dateTime(try at("2026-01-15T12:00:00Z")), "15 January 2026, 17:30 (+05:30)")
        XCTAssertNil(LocalTime(identifier: "Europe/Atlantis"))
        XCTAssertNil(LocalTime(identifier: "../../etc/passwd"))
    }

    func testTheTimeElementCarriesTheInstantInUTC() throws {
        let london = try XCTUnwrap(LocalTime(identifier: "Europe/London"))
        XCTAssertEqual(
            london.element(try at("2026-07-03T14:02:00Z")).markup,
            "<time datetime=\"2026-07-03T14:02:00.000Z\">3 July 2026, 15:02 (+01:00)</time>"
        )
    }
}
