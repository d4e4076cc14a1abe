/// A `Retry-After` field value (RFC 9110 §10.2.3): `delay-seconds` or an HTTP-date.
///
/// `delay-seconds` is `1*DIGIT` and nothing else (no sign, no fraction, no exponent); an
/// HTTP-date is accepted in each of its three forms (RFC 9110 §5.6.7): IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`)
/// and asctime (`Sun Nov  6 08:49:37 1994`). Anything else is not a `Retry-After` and is ignored,
/// as a recipient must ignore an invalid field value.
package enum RetryAfter {
    /// The longest delay represented; a larger one (`99999999999999999999`) saturates here, far
    /// beyond any delivery's maximum age, rather than overflowing or being ignored.
    package static let maxMilliseconds: Int64 = 1 << 53

    /// How long to wait from `nowMilliseconds` (since 1970, UTC), in milliseconds; 0 for a date
    /// in the past; nil when `value` is neither form.
    package static func delayMilliseconds(_ value: String, nowMilliseconds: Int64) -> Int64? {
        let bytes = Array(trimmed(value).utf8)
        guard !bytes.isEmpty else { return nil }
        if bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            var seconds: Int64 = 0
            for byte in bytes {
                seconds = seconds * 10 + Int64(byte - 0x30)
                if seconds * 1000 >= maxMilliseconds { return maxMilliseconds }
            }
            return seconds * 1000
        }
        guard let date = secondsSince1970(httpDate: bytes, nowSeconds: floorDivide(nowMilliseconds, 1000)) else { return nil }
        return min(maxMilliseconds, max(0, date * 1000 - nowMilliseconds))
    }

    /// The time an HTTP-date names, in seconds since 1970; nil if it is not one. `nowSeconds`
    /// places an RFC 850 date's two-digit year in its century.
    package static func secondsSince1970(httpDate value: String, nowSeconds: Int64) -> Int64? {
        secondsSince1970(httpDate: Array(trimmed(value).utf8), nowSeconds: nowSeconds)
    }

    private static func trimmed(_ value: String) -> Substring {
        var text = Substring(value)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }

    private static let shortDays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let longDays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func secondsSince1970(httpDate bytes: [UInt8], nowSeconds: Int64) -> Int64? {
        var scanner = Scanner(bytes: bytes)
        // The day name decides the form: "Sun," IMF-fixdate, "Sunday," RFC 850, "Sun " asctime.
        guard let dayName = scanner.letters() else { return nil }
        if shortDays.contains(dayName), scanner.take(","), scanner.take(" ") {
            // IMF-fixdate: day SP month SP year SP time SP "GMT"
            guard let day = scanner.digits(2), scanner.take(" "), let month = scanner.month(), scanner.take(" "),
                  let year = scanner.digits(4), scanner.take(" "), let time = scanner.time(), scanner.take(" GMT"), scanner.atEnd else { return nil }
            return timestamp(year: year, month: month, day: day, time: time)
        }
        if longDays.contains(dayName), scanner.take(","), scanner.take(" ") {
            // rfc850-date: day-name-l "," SP 2DIGIT "-" month "-" 2DIGIT SP time SP "GMT"
            guard let day = scanner.digits(2), scanner.take("-"), let month = scanner.month(), scanner.take("-"),
                  let shortYear = scanner.digits(2), scanner.take(" "), let time = scanner.time(), scanner.take(" GMT"), scanner.atEnd else { return nil }
            // RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is in the past century.
            let thisYear = civilYear(ofDay: floorDivide(nowSeconds, 86_400))
            var year = thisYear - thisYear % 100 + shortYear
            if year > thisYear + 50 { year -= 100 }
            return timestamp(year: year, month: month, day: day, time: time)
        }
        if shortDays.contains(dayName), scanner.take(" ") {
            // asctime-date: day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time SP year
            guard let month = scanner.month(), scanner.take(" ") else { return nil }
            let day: Int
            if scanner.take(" ") {
                guard let digit = scanner.digits(1) else { return nil }
                day = digit
            } else {
                guard let digits = scanner.digits(2) else { return nil }
                day = digits
            }
            guard scanner.take(" "), let time = scanner.time(), scanner.take(" "), let year = scanner.digits(4), scanner.atEnd else { return nil }
            return timestamp(year: year, month: month, day: day, time: time)
        }
        return nil
    }

    private static func timestamp(year: Int, month: Int, day: Int, time: (hour: Int, minute: Int, second: Int)) -> Int64? {
        let monthDays = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(month), day >= 1, day <= monthDays[month - 1],
              time.hour < 24, time.minute < 60, time.second <= 60 else { return nil }
        // A leap second (60) is read as the last second of its minute.
        let seconds = Int64(time.hour * 3600 + time.minute * 60 + min(time.second, 59))
        return daysFromCivil(year: year, month: month, day: day) * 86_400 + seconds
    }

    private static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let monthIndex = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthIndex + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civilYear(ofDay days: Int64) -> Int {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        return Int(yearOfEra + era * 400 + (monthIndex >= 10 ? 1 : 0))
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }

    private struct Scanner {
        let bytes: [UInt8]
        var position = 0

        var atEnd: Bool { position == bytes.count }

        mutating func take(_ literal: String) -> Bool {
            let expected = Array(literal.utf8)
            guard bytes.count - position >= expected.count, Array(bytes[position..<position + expected.count]) == expected else { return false }
            position += expected.count
            return true
        }

        mutating func letters() -> String? {
            let start = position
            while position < bytes.count, (bytes[position] >= 0x41 && bytes[position] <= 0x5A) || (bytes[position] >= 0x61 && bytes[position] <= 0x7A) {
                position += 1
            }
            return position > start ? String(decoding: bytes[start..<position], as: UTF8.self) : nil
        }

        mutating func digits(_ count: Int) -> Int? {
            guard bytes.count - position >= count else { return nil }
            var value = 0
            for byte in bytes[position..<position + count] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            position += count
            return value
        }

        mutating func month() -> Int? {
            guard bytes.count - position >= 3 else { return nil }
            let name = String(decoding: bytes[position..<position + 3], as: UTF8.self)
            guard let index = RetryAfter.months.firstIndex(of: name) else { return nil }
            position += 3
            return index + 1
        }

        /// `hour ":" minute ":" second`, two digits each.
        mutating func time() -> (hour: Int, minute: Int, second: Int)? {
            guard let hour = digits(2), take(":"), let minute = digits(2), take(":"), let second = digits(2) else { return nil }
            return (hour, minute, second)
        }
    }
}

/// The three forms of an HTTP-date (RFC 9110 §5.6.7). Senders use IMF-fixdate; a recipient must
/// accept all three.
package enum HTTPDateForm: String, Sendable, CaseIterable {
    /// `Sun, 06 Nov 1994 08:49:37 GMT`
    case imfFixdate = "imf"
    /// `Sunday, 06-Nov-94 08:49:37 GMT` (obsolete)
    case rfc850
    /// `Sun Nov  6 08:49:37 1994` (obsolete, C's asctime)
    case asctime

    /// `secondsSince1970` written in this form.
    package func format(secondsSince1970 seconds: Int) -> String {
        let imf = httpDate(secondsSince1970: seconds)
        // "Sun, 06 Nov 1994 08:49:37 GMT" → its fields.
        let fields = imf.split(separator: " ")
        guard self != .imfFixdate, fields.count == 6 else { return imf }
        let shortDay = String(fields[0].dropLast())
        let (day, month, year, time) = (fields[1], fields[2], fields[3], fields[4])
        switch self {
        case .imfFixdate:
            return imf
        case .rfc850:
            let longDays = ["Mon": "Monday", "Tue": "Tuesday", "Wed": "Wednesday", "Thu": "Thursday", "Fri": "Friday", "Sat": "Saturday", "Sun": "Sunday"]
            return "\(longDays[shortDay] ?? shortDay), \(day)-\(month)-\(year.suffix(2)) \(time) GMT"
        case .asctime:
            let paddedDay = day.first == "0" ? " " + day.dropFirst() : day
            return "\(shortDay) \(month) \(paddedDay) \(time) \(year)"
        }
    }
}
