import Foundation
import Logging
import XCTest
@testable import Daemon

/// The log line's shape: priority, message, fields, and the time when asked.
final class LogLineTests: XCTestCase {
    func testTimeIsRFC3339UTCWithMillisecondsAtTheEnd() {
        let record = LogRecord(level: .notice, message: "refex serving", metadata: [("listen", "127.0.0.1:8443")])
        XCTAssertEqual(record.formatted, "<5>refex serving listen=127.0.0.1:8443")
        XCTAssertEqual(record.formatted(time: 1_795_984_862.1234), "<5>refex serving listen=127.0.0.1:8443 time=2026-11-29T20:41:02.123Z")
        XCTAssertEqual(record.formatted(time: 0), "<5>refex serving listen=127.0.0.1:8443 time=1970-01-01T00:00:00.000Z")
        XCTAssertEqual(record.formatted(time: 951_782_400.999), "<5>refex serving listen=127.0.0.1:8443 time=2000-02-29T00:00:00.999Z")
    }

    func testJournalStreamMustNameStandardError() {
        XCTAssertFalse(StandardErrorLogSink.isJournalStream(nil))
        XCTAssertFalse(StandardErrorLogSink.isJournalStream(""))
        XCTAssertFalse(StandardErrorLogSink.isJournalStream("8:x"))
        XCTAssertFalse(StandardErrorLogSink.isJournalStream("1:2:3"))
        var status = stat()
        XCTAssertEqual(fstat(2, &status), 0)
        XCTAssertTrue(StandardErrorLogSink.isJournalStream("\(status.st_dev):\(status.st_ino)"))
        XCTAssertFalse(StandardErrorLogSink.isJournalStream("\(status.st_dev):\(status.st_ino &+ 1)"))
        XCTAssertFalse(StandardErrorLogSink(environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"]).stampsTime)
        XCTAssertTrue(StandardErrorLogSink(environment: [:]).stampsTime)
    }

    /// The request line's duration, written without `String(format:)` (issue 17): two decimals,
    /// as "%.2f" writes values it can write exactly, and within half a hundredth of any other.
    func testRequestDurationsHaveTwoDecimals() {
        for value in [0, 0.25, 1, 1.5, 12.75, 1234.5, 0.125, 3.0625] {
            XCTAssertEqual(RequestRecorder.hundredths(value), String(format: "%.2f", value), "\(value)")
        }
        for value in [0.004, 0.994, 0.995, 12.345, 99.999, 1234.5678, 0.1, 7.07] {
            let text = RequestRecorder.hundredths(value)
            XCTAssertNotNil(text.wholeMatch(of: /[0-9]+\.[0-9][0-9]/), text)
            XCTAssertEqual(Double(text) ?? -1, value, accuracy: 0.0051, text)
        }
    }
}
