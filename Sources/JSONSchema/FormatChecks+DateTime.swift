extension FormatChecks {
    private static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// RFC 3339 full-date: `YYYY-MM-DD`, a real calendar date.
    static func isDate(_ string: String) -> Bool {
        isDate(Array(string.utf8), 0) && string.utf8.count == 10
    }

    private static func isDate(_ bytes: [UInt8], _ start: Int) -> Bool {
        guard bytes.count >= start + 10,
              let year = number(bytes, start, 4), bytes[start + 4] == UInt8(ascii: "-"),
              let month = number(bytes, start + 5, 2), bytes[start + 7] == UInt8(ascii: "-"),
              let day = number(bytes, start + 8, 2)
        else { return false }
        return (1...12).contains(month) && day >= 1 && day <= daysInMonth(month, year: year)
    }

    /// RFC 3339 full-time (`HH:MM:SS[.fraction](Z|±HH:MM)`) from `start` to the end, with
    /// a leap second allowed only at 23:59:60 UTC.
    private static func isTime(_ bytes: [UInt8], _ start: Int) -> Bool {
        guard let hour = number(bytes, start, 2), bytes.count > start + 8, bytes[start + 2] == UInt8(ascii: ":"),
              let minute = number(bytes, start + 3, 2), bytes[start + 5] == UInt8(ascii: ":"),
              let second = number(bytes, start + 6, 2)
        else { return false }
        var index = start + 8
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            guard index > fractionStart else { return false }
        }
        guard index < bytes.count else { return false }
        var offsetMinutes = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return false }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard bytes.count == index + 6, let offsetHour = number(bytes, index + 1, 2), bytes[index + 3] == UInt8(ascii: ":"),
                  let offsetMinute = number(bytes, index + 4, 2), offsetHour <= 23, offsetMinute <= 59
            else { return false }
            offsetMinutes = (offsetHour * 60 + offsetMinute) * (bytes[index] == UInt8(ascii: "+") ? 1 : -1)
        default:
            return false
        }
        guard hour <= 23, minute <= 59, second <= 60 else { return false }
        if second == 60 {
            // A leap second is inserted at 23:59:60 UTC only.
            let utc = ((hour * 60 + minute - offsetMinutes) % 1440 + 1440) % 1440
            return utc == 23 * 60 + 59
        }
        return true
    }

    /// RFC 3339 full-time.
    static func isTime(_ string: String) -> Bool {
        isTime(Array(string.utf8), 0)
    }

    /// RFC 3339 date-time: full-date `T` full-time (`T` and `Z` in either case).
    static func isDateTime(_ string: String) -> Bool {
        let bytes = Array(string.utf8)
        guard bytes.count > 11, isDate(bytes, 0), bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") else { return false }
        return isTime(bytes, 11)
    }

    /// RFC 3339 Appendix A duration: `P` then years-months-days (a contiguous run of
    /// Y, M, D), optionally `T` and hours-minutes-seconds (a contiguous run of H, M, S);
    /// or weeks alone. Integers only.
    static func isDuration(_ string: String) -> Bool {
        let bytes = Array(string.utf8)
        guard bytes.first == UInt8(ascii: "P"), bytes.count > 1 else { return false }
        var index = 1

        // Reads digits and a unit letter; nil if malformed.
        func component() -> UInt8? {
            let start = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            guard index > start, index < bytes.count else { return nil }
            let unit = bytes[index]
            index += 1
            return unit
        }

        var dateUnits: [UInt8] = []
        while index < bytes.count, bytes[index] != UInt8(ascii: "T") {
            guard let unit = component() else { return false }
            dateUnits.append(unit)
        }
        let dateForms: [[UInt8]] = [[], Array("D".utf8), Array("M".utf8), Array("MD".utf8), Array("Y".utf8), Array("YM".utf8), Array("YMD".utf8)]
        if dateUnits == Array("W".utf8) { return index == bytes.count }
        guard dateForms.contains(dateUnits) else { return false }
        if index == bytes.count { return !dateUnits.isEmpty }
        index += 1  // "T"
        var timeUnits: [UInt8] = []
        while index < bytes.count {
            guard let unit = component() else { return false }
            timeUnits.append(unit)
        }
        let timeForms: [[UInt8]] = [Array("H".utf8), Array("HM".utf8), Array("HMS".utf8), Array("M".utf8), Array("MS".utf8), Array("S".utf8)]
        return timeForms.contains(timeUnits)
    }
}
