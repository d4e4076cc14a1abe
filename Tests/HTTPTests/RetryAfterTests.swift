import XCTest
@testable import HTTP

final class RetryAfterTests: XCTestCase {
    /// 2026-11-29 12:00:00 UTC.
    private let now: Int64 = 1_795_953_600_000

    private func delay(_ value: String) -> Int64? { RetryAfter.delayMilliseconds(value, nowMilliseconds: now) }

    func testDelaySecondsAreDigitsOnly() {
        XCTAssertEqual(delay("0"), 0)
        XCTAssertEqual(delay("5"), 5_000)
        XCTAssertEqual(delay("120"), 120_000)
        XCTAssertEqual(delay(" 7 "), 7_000, "surrounding whitespace is not part of the value")
        XCTAssertEqual(delay("007"), 7_000)
        for invalid in ["+5", "-5", "5.0", "5s", "1e3", "", " ", "0x10", "５", "5 5", "5,5"] {
            XCTAssertNil(delay(invalid), invalid)
        }
    }

    func testHugeDelaySaturatesRatherThanBeingIgnored() {
        XCTAssertEqual(delay("99999999999999999999"), RetryAfter.maxMilliseconds)
        XCTAssertEqual(delay(String(repeating: "9", count: 400)), RetryAfter.maxMilliseconds)
        XCTAssertEqual(delay("9007199254740"), 9_007_199_254_740_000)
    }

    func testEachHTTPDateForm() {
        // One minute after `now`, in each of the three forms.
        XCTAssertEqual(delay("Sun, 29 Nov 2026 12:01:00 GMT"), 60_000, "IMF-fixdate")
        XCTAssertEqual(delay("Sunday, 29-Nov-26 12:01:00 GMT"), 60_000, "RFC 850")
        XCTAssertEqual(delay("Sun Nov 29 12:01:00 2026"), 60_000, "asctime")
        XCTAssertEqual(delay("Tue Dec  1 12:00:00 2026"), 2 * 86_400_000, "asctime with a one-digit day")
        XCTAssertEqual(delay("Sun, 06 Nov 1994 08:49:37 GMT"), 0, "a date in the past: no wait")
        XCTAssertEqual(RetryAfter.secondsSince1970(httpDate: "Sun, 06 Nov 1994 08:49:37 GMT", nowSeconds: now / 1000), 784_111_777)
        XCTAssertEqual(RetryAfter.secondsSince1970(httpDate: "Sunday, 06-Nov-94 08:49:37 GMT", nowSeconds: now / 1000), 784_111_777)
        XCTAssertEqual(RetryAfter.secondsSince1970(httpDate: "Sun Nov  6 08:49:37 1994", nowSeconds: now / 1000), 784_111_777)
        XCTAssertEqual(RetryAfter.secondsSince1970(httpDate: "Tue, 29 Feb 2028 00:00:00 GMT", nowSeconds: now / 1000), 1_835_395_200)
    }

    func testRFC850TwoDigitYearMoreThanFiftyYearsAheadIsInThePast() {
        // In 2026, "76" is 2076 (50 years ahead) and "77" is 1977.
        XCTAssertEqual(RetryAfter.secondsSince1970(httpDate: "Saturday, 01-Jan-77 00:00:00 GMT", nowSeconds: now / 1000), 220_924_800)
        XCTAssertEqual(RetryAfter.secondsSince1970(httpDate: "Wednesday, 01-Jan-76 00:00:00 GMT", nowSeconds: now / 1000), 3_345_062_400)
    }

    func testMalformedDatesAreIgnored() {
        for invalid in [
            "Sun, 29 Nov 2026 12:01:00 UTC", "Sun, 29 Nov 2026 12:01:00", "Sun, 29 Nov 2026 12:01 GMT", "sun, 29 Nov 2026 12:01:00 GMT",
            "Sun, 29 nov 2026 12:01:00 GMT", "Sun,29 Nov 2026 12:01:00 GMT", "Sun, 31 Nov 2026 12:01:00 GMT", "Sun, 29 Feb 2026 12:01:00 GMT",
            "Sun, 29 Nov 2026 24:00:00 GMT", "Sun, 29 Nov 2026 12:60:00 GMT", "Sun, 29 Nov 26 12:01:00 GMT", "Sunday, 29-Nov-2026 12:01:00 GMT",
            "Sun Nov 29 12:01:00 2026 GMT", "Sun Nov 6 12:01:00 2026", "Sun, 29 Nov 2026 12:01:00 GMT x", "2026-11-29T12:01:00Z",
            "Funday, 29 Nov 2026 12:01:00 GMT", "Sun, 29 Nov 2026 12:01:00 GMT\u{0}",
        ] {
            XCTAssertNil(delay(invalid), invalid)
        }
    }
}

final class HTTPDateFormTests: XCTestCase {
    func testEachFormIsWrittenAndReadBack() {
        let seconds = 784_111_777
        XCTAssertEqual(HTTPDateForm.imfFixdate.format(secondsSince1970: seconds), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(HTTPDateForm.rfc850.format(secondsSince1970: seconds), "Sunday, 06-Nov-94 08:49:37 GMT")
        XCTAssertEqual(HTTPDateForm.asctime.format(secondsSince1970: seconds), "Sun Nov  6 08:49:37 1994")
        let now = 1_795_953_600
        for form in HTTPDateForm.allCases {
            for offset in [0, 1, 59, 86_400 * 3 + 17, 86_400 * 400] {
                let text = form.format(secondsSince1970: now + offset)
                XCTAssertEqual(RetryAfter.secondsSince1970(httpDate: text, nowSeconds: Int64(now)), Int64(now + offset), text)
            }
        }
    }
}
