import Exchange
import Foundation

/// Times as the console shows them: in one configured IANA time zone (`console.timeZone`,
/// default Europe/London), always with the offset from UTC, so that a reader never has to guess.
package struct LocalTime: Sendable {
    package let zone: TimeZone

    /// Nil for a name the system's time-zone database does not know.
    package init?(identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        self.zone = zone
    }

    package static let london = LocalTime(zone: TimeZone(identifier: "Europe/London") ?? TimeZone(secondsFromGMT: 0) ?? .current)

    private init(zone: TimeZone) { self.zone = zone }

    package var identifier: String { zone.identifier }

    /// The calendar fields of `time` in the zone.
    package struct Fields: Sendable, Hashable {
        package var year: Int
        package var month: Int
        package var day: Int
        package var hour: Int
        package var minute: Int
        package var second: Int
        /// Seconds east of UTC in force at that moment.
        package var offsetSeconds: Int
    }

    package func offsetSeconds(at time: Timestamp) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(floorDiv(time.milliseconds, 1000))))
    }

    package func fields(_ time: Timestamp) -> Fields {
        let offset = offsetSeconds(at: time)
        var seconds = time_t(floorDiv(time.milliseconds, 1000) + Int64(offset))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return Fields(
            year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday),
            hour: Int(parts.tm_hour), minute: Int(parts.tm_min), second: Int(parts.tm_sec), offsetSeconds: offset
        )
    }

    static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]

    /// `+01:00`, `-05:00`, `+00:00`.
    package static func offsetText(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let minutes = abs(seconds) / 60
        return sign + two(minutes / 60) + ":" + two(minutes % 60)
    }

    /// `3 March 2026, 14:02 (+00:00)`: tables and entry pages.
    package func dateTime(_ time: Timestamp) -> String {
        let f = fields(time)
        return "\(f.day) \(Self.monthNames[f.month - 1]) \(f.year), \(Self.two(f.hour)):\(Self.two(f.minute)) (\(Self.offsetText(f.offsetSeconds)))"
    }

    /// `3 March 2026, 14:02:07 (+00:00)`: one entry, to the second.
    package func preciseDateTime(_ time: Timestamp) -> String {
        let f = fields(time)
        return "\(f.day) \(Self.monthNames[f.month - 1]) \(f.year), \(Self.two(f.hour)):\(Self.two(f.minute)):\(Self.two(f.second)) (\(Self.offsetText(f.offsetSeconds)))"
    }

    /// `3 March 2026 at 14:02 (+00:00)`: in a sentence.
    package func inSentence(_ time: Timestamp) -> String {
        let f = fields(time)
        return "\(f.day) \(Self.monthNames[f.month - 1]) \(f.year) at \(Self.two(f.hour)):\(Self.two(f.minute)) (\(Self.offsetText(f.offsetSeconds)))"
    }

    /// `3 March 2026`.
    package func date(_ time: Timestamp) -> String {
        let f = fields(time)
        return "\(f.day) \(Self.monthNames[f.month - 1]) \(f.year)"
    }

    /// `2026-03-03`: a day as a chart's axis and a form's date input give it.
    package func isoDate(_ time: Timestamp) -> String {
        let f = fields(time)
        return "\(f.year)-\(Self.two(f.month))-\(Self.two(f.day))"
    }

    /// The `<time>` element: the local text, the UTC instant in `datetime`.
    package func element(_ time: Timestamp, precise: Bool = false) -> HTML {
        "<time datetime=\"\(attribute: time.description)\">\(precise ? preciseDateTime(time) : dateTime(time))</time>"
    }

    /// The first instant of the local day `date` (`2026-03-03`), nil if it is not a date.
    package func startOfDay(_ date: String) -> Timestamp? {
        let parts = date.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), (1...31).contains(day), (1970...9999).contains(year) else { return nil }
        var fields = tm()
        fields.tm_year = Int32(year - 1900)
        fields.tm_mon = Int32(month - 1)
        fields.tm_mday = Int32(day)
        let midnightUTC = Int64(timegm(&fields))
        // Reject 31 February and the like: timegm normalises them.
        var check = time_t(midnightUTC)
        var back = tm()
        gmtime_r(&check, &back)
        guard Int(back.tm_mday) == day, Int(back.tm_mon) == month - 1 else { return nil }
        // The offset in force at local midnight: try the one at midnight UTC, then correct once.
        var guess = midnightUTC - Int64(offsetSeconds(at: Timestamp(milliseconds: midnightUTC * 1000)))
        guess = midnightUTC - Int64(offsetSeconds(at: Timestamp(milliseconds: guess * 1000)))
        return Timestamp(milliseconds: guess * 1000)
    }

    /// The local day number (days since 1970-01-01 in the zone) of `time`.
    package func dayNumber(_ time: Timestamp) -> Int64 {
        floorDiv(time.milliseconds + Int64(offsetSeconds(at: time)) * 1000, 86_400_000)
    }

    /// `2026-03-03` for a local day number.
    package static func isoDate(dayNumber: Int64) -> String {
        var seconds = time_t(dayNumber * 86_400)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return "\(Int(parts.tm_year) + 1900)-\(two(Int(parts.tm_mon) + 1))-\(two(Int(parts.tm_mday)))"
    }

    static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
}

func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let quotient = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
}
