import Foundation
import Testing
@testable import Timekeeping

@Suite struct RFC3339Tests {
    /// The libc rendering the writer must agree with (gmtime_r, then the fields in order).
    private func reference(_ milliseconds: Int64, fraction: Bool) -> String {
        var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
        let millis = Int(milliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let date = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                          Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return fraction ? date + String(format: ".%03dZ", millis) : date + "Z"
    }

    @Test func knownInstants() {
        #expect(RFC3339.string(millisecondsSinceEpoch: 0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.string(millisecondsSinceEpoch: -1) == "1969-12-31T23:59:59.999Z")
        #expect(RFC3339.string(millisecondsSinceEpoch: 951_782_400_000, fraction: false) == "2000-02-29T00:00:00Z")
        #expect(RFC3339.string(millisecondsSinceEpoch: 1_796_108_197_123) == "2026-12-01T06:56:37.123Z")
        #expect(RFC3339.string(millisecondsSinceEpoch: 4_107_542_399_999) == "2100-02-28T23:59:59.999Z")
    }

    @Test func clampsToFourDigitYears() {
        #expect(RFC3339.string(millisecondsSinceEpoch: .max) == "9999-12-31T23:59:59.999Z")
        #expect(RFC3339.string(millisecondsSinceEpoch: .min) == "0000-01-01T00:00:00.000Z")
    }

    @Test func agreesWithGmtimeAcrossCenturies() {
        var generator = SystemRandomNumberGenerator()
        var samples: [Int64] = [0, -1, 1, 999, -999, -1000, 86_399_999, 86_400_000, 946_684_799_999, 946_684_800_000]
        for _ in 0..<20_000 { samples.append(Int64.random(in: -30_000_000_000_000...250_000_000_000_000, using: &generator)) }
        for milliseconds in samples {
            #expect(RFC3339.string(millisecondsSinceEpoch: milliseconds) == reference(milliseconds, fraction: true))
            #expect(RFC3339.string(millisecondsSinceEpoch: milliseconds, fraction: false) == reference(milliseconds, fraction: false))
        }
    }
}

@Suite struct DurationMillisecondsTests {
    @Test func wholeMillisecondsRoundTowardZero() {
        #expect(Duration.milliseconds(1500).wholeMilliseconds == 1500)
        #expect(Duration.microseconds(1999).wholeMilliseconds == 1)
        #expect(Duration.seconds(-2).wholeMilliseconds == -2000)
        #expect(Duration.nanoseconds(999_999).wholeMilliseconds == 0)
    }

    @Test func saturatesInsteadOfOverflowing() {
        #expect(Duration.seconds(Int64.max / 10).wholeMilliseconds == .max)
        #expect(Duration.seconds(Int64.min / 10).wholeMilliseconds == .min)
    }
}
