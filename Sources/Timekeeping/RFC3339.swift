/// RFC 3339 date-times in UTC (RFC 3339 §5.6, `Z` offset), written without a formatter or libc:
/// digits computed from the civil calendar (proleptic Gregorian, as RFC 3339 §5.6 requires), so
/// that log entries, log lines and answers stamp times at the cost of a few divisions.
package enum RFC3339 {
    /// `2026-11-29T07:16:37.123Z` (`fraction`: milliseconds) or `2026-11-29T07:16:37Z`, from
    /// milliseconds since 1970-01-01T00:00:00Z (negative before it; seconds round down).
    /// Years outside 0000...9999 are clamped to those bounds: RFC 3339 has four-digit years.
    package static func string(millisecondsSinceEpoch milliseconds: Int64, fraction: Bool = true) -> String {
        let minimum: Int64 = -62_167_219_200_000  // 0000-01-01T00:00:00.000Z
        let maximum: Int64 = 253_402_300_799_999  // 9999-12-31T23:59:59.999Z
        let clamped = min(max(milliseconds, minimum), maximum)
        let (seconds, millis) = floorDivision(clamped, 1000)
        let (days, secondOfDay) = floorDivision(seconds, 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let count = fraction ? 24 : 20
        // Written straight into the string's own storage: one allocation, no intermediate array.
        return String(unsafeUninitializedCapacity: count) { out in
            func put(_ value: Int64, at offset: Int, width: Int) {
                var rest = value
                for index in stride(from: offset + width - 1, through: offset, by: -1) {
                    out[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
            }
            put(year, at: 0, width: 4)
            out[4] = UInt8(ascii: "-")
            put(month, at: 5, width: 2)
            out[7] = UInt8(ascii: "-")
            put(day, at: 8, width: 2)
            out[10] = UInt8(ascii: "T")
            put(secondOfDay / 3600, at: 11, width: 2)
            out[13] = UInt8(ascii: ":")
            put(secondOfDay / 60 % 60, at: 14, width: 2)
            out[16] = UInt8(ascii: ":")
            put(secondOfDay % 60, at: 17, width: 2)
            if fraction {
                out[19] = UInt8(ascii: ".")
                put(millis, at: 20, width: 3)
            }
            out[count - 1] = UInt8(ascii: "Z")
            return count
        }
    }

    /// Year, month (1...12) and day (1...31) of a day count from 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`, exact for the proleptic Gregorian calendar).
    static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = value >= 0 ? value / divisor : (value - divisor + 1) / divisor
        return (quotient, value - quotient * divisor)
    }
}
