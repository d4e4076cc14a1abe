import Foundation

/// RFC 3339 in UTC with seconds, e.g. `2026-11-29T07:16:37Z` (digits written directly: this is on every whoami).
package func rfc3339(_ date: Date) -> String {
    var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
    var parts = tm()
    gmtime_r(&seconds, &parts)
    var out: [UInt8] = []
    out.reserveCapacity(20)
    func digits(_ value: Int32, _ count: Int) {
        var divisor: Int32 = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8((rest / divisor) % 10))
            rest %= divisor
            divisor /= 10
        }
    }
    digits(parts.tm_year + 1900, 4)
    out.append(UInt8(ascii: "-"))
    digits(parts.tm_mon + 1, 2)
    out.append(UInt8(ascii: "-"))
    digits(parts.tm_mday, 2)
    out.append(UInt8(ascii: "T"))
    digits(parts.tm_hour, 2)
    out.append(UInt8(ascii: ":"))
    digits(parts.tm_min, 2)
    out.append(UInt8(ascii: ":"))
    digits(parts.tm_sec, 2)
    out.append(UInt8(ascii: "Z"))
    return String(decoding: out, as: UTF8.self)
}
