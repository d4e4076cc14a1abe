import Foundation

/// An exact JSON number: a sign, an arbitrary-precision decimal significand and an exponent.
///
/// Numbers are never rounded through `Double` unless asked (`doubleValue`): `1.0 == 1`,
/// `1e2 == 100`, integers beyond 64 bits keep every digit, and `0.07` is a multiple of
/// `0.01`. Values are normalized, so `==` and hashing compare the value, not the spelling.
package struct JSONNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    // Invariant: an integer that fits in Int64 is always `.integer`; `.decimal` holds
    // every other value, normalized (see `DecimalStorage`). Equal values therefore have
    // equal storage, which is what the synthesized Hashable conformance relies on.
    enum Storage: Sendable, Hashable {
        case integer(Int64)
        case decimal(DecimalStorage)
    }

    let storage: Storage

    /// The largest magnitude of the normalized exponent that the parser accepts.
    ///
    /// Larger exponents are refused as `numberOutOfRange`: they carry no meaning for refex
    /// and would make exact arithmetic on them needlessly expensive.
    package static let maxExponentMagnitude = 1_000_000_000

    init(storage: Storage) {
        self.storage = storage
    }

    /// The integer `value`.
    package init(_ value: Int) {
        storage = .integer(Int64(value))
    }

    /// The integer `value`.
    package init(_ value: Int64) {
        storage = .integer(value)
    }

    /// The exact value of a finite `Double`, by its shortest round-tripping decimal form
    /// (so `JSONNumber(0.1)` is 0.1, not 0.1000000000000000055…).
    ///
    /// - Precondition: `value` is finite. Use `init?(exactly:)` for values that may not be.
    package init(_ value: Double) {
        guard let number = JSONNumber(exactly: value) else {
            preconditionFailure("JSONNumber(Double) requires a finite value")
        }
        self = number
    }

    /// The value of a finite `Double` by its shortest round-tripping decimal form, or nil
    /// if `value` is infinite or NaN.
    package init?(exactly value: Double) {
        guard value.isFinite else { return nil }
        if value == 0 {
            storage = .integer(0)
            return
        }
        if value.magnitude < 9.0e15, value == value.rounded(.towardZero) {
            storage = .integer(Int64(value))
            return
        }
        // Swift prints the shortest digit string that round-trips, e.g. "1e-07", "0.1".
        guard let number = JSONNumber(literal: value.description) else { return nil }
        self = number
    }

    /// Parses a number in the strict JSON grammar (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`),
    /// or returns nil. No whitespace, no `+`, no leading zeros, no `NaN`.
    package init?(literal: String) {
        var text = literal
        let result: JSONNumber? = text.withUTF8 { buffer in
            var scanner = NumberScanner(buffer: buffer, position: 0)
            guard case .success(let number) = scanner.scan(), scanner.position == buffer.count else {
                return nil
            }
            return number
        }
        guard let result else { return nil }
        self = result
    }

    /// The value, if it is an integer that fits in `Int64`.
    package var int64Value: Int64? {
        if case .integer(let value) = storage { return value }
        return nil
    }

    /// Whether the value has no fractional part (`1.0` and `1e30` are integers).
    package var isInteger: Bool {
        switch storage {
        case .integer: true
        case .decimal(let decimal): decimal.exponent >= 0
        }
    }

    /// Whether the value is below zero.
    package var isNegative: Bool {
        switch storage {
        case .integer(let value): value < 0
        case .decimal(let decimal): decimal.negative
        }
    }

    /// Whether the value is zero.
    package var isZero: Bool {
        storage == .integer(0)
    }

    /// The nearest `Double`; ±infinity for values beyond its range, ±0 below it.
    package var doubleValue: Double {
        switch storage {
        case .integer(let value):
            return Double(value)
        case .decimal(let decimal):
            let position = decimal.digits.count + decimal.exponent
            if position > 310 { return decimal.negative ? -.infinity : .infinity }
            if position < -330 { return decimal.negative ? -0.0 : 0.0 }
            var text = decimal.negative ? "-" : ""
            text.reserveCapacity(decimal.digits.count + 24)
            for digit in decimal.digits { text.unicodeScalars.append(Unicode.Scalar(digit + 0x30)) }
            text += "e\(decimal.exponent)"
            return Double(text) ?? .nan
        }
    }

    /// The number as JSON text, in the ECMAScript `Number.prototype.toString` layout but
    /// with every digit of the exact value: `100`, `0.07`, `1.5e+300`, `-1e-7`; integers
    /// of more than 17 significant digits are written out in full.
    package var description: String {
        switch storage {
        case .integer(let value):
            return String(value)
        case .decimal(let decimal):
            return String(decoding: Self.ecmaScriptText(negative: decimal.negative, digits: decimal.digits, exponent: decimal.exponent), as: UTF8.self)
        }
    }

    package static func < (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        compare(lhs, rhs) < 0
    }

    /// -1, 0 or 1 as `lhs` is less than, equal to or greater than `rhs`.
    package static func compare(_ lhs: JSONNumber, _ rhs: JSONNumber) -> Int {
        if case .integer(let a) = lhs.storage, case .integer(let b) = rhs.storage {
            return a < b ? -1 : (a == b ? 0 : 1)
        }
        let lhsSign = lhs.isZero ? 0 : (lhs.isNegative ? -1 : 1)
        let rhsSign = rhs.isZero ? 0 : (rhs.isNegative ? -1 : 1)
        if lhsSign != rhsSign { return lhsSign < rhsSign ? -1 : 1 }
        if lhsSign == 0 { return 0 }
        let magnitude = compareMagnitudes(lhs.decimalView, rhs.decimalView)
        return lhsSign > 0 ? magnitude : -magnitude
    }
}

/// The normalized form of a number that is not an `Int64`: `±digits × 10^exponent`, where
/// `digits` are values 0–9, most significant first, with neither a leading nor a trailing zero.
final class DecimalStorage: Sendable, Hashable {
    let negative: Bool
    let digits: [UInt8]
    let exponent: Int

    init(negative: Bool, digits: [UInt8], exponent: Int) {
        self.negative = negative
        self.digits = digits
        self.exponent = exponent
    }

    static func == (lhs: DecimalStorage, rhs: DecimalStorage) -> Bool {
        lhs.negative == rhs.negative && lhs.exponent == rhs.exponent && lhs.digits == rhs.digits
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(negative)
        hasher.combine(exponent)
        hasher.combine(digits)
    }
}

/// A number as sign, significand digits (0–9, no leading or trailing zeros; empty for zero)
/// and exponent, whatever its storage.
struct DecimalView {
    var negative: Bool
    var digits: [UInt8]
    var exponent: Int
}

extension JSONNumber {
    /// Builds the canonical storage for `±digits × 10^exponent`; `digits` may have leading
    /// and trailing zeros. The caller bounds `exponent`.
    init(negative: Bool, digits: some Collection<UInt8>, exponent: Int) {
        var first = digits.startIndex
        while first != digits.endIndex, digits[first] == 0 { first = digits.index(after: first) }
        var significant = Array(digits[first...])
        var exponent = exponent
        while let last = significant.last, last == 0 {
            significant.removeLast()
            exponent += 1
        }
        if significant.isEmpty {
            storage = .integer(0)
            return
        }
        if exponent >= 0, significant.count + exponent <= 19 {
            var magnitude: UInt64 = 0
            var fits = true
            for digit in significant {
                let (times, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (plus, o2) = times.addingReportingOverflow(UInt64(digit))
                if o1 || o2 { fits = false; break }
                magnitude = plus
            }
            if fits {
                for _ in 0..<exponent {
                    let (times, overflow) = magnitude.multipliedReportingOverflow(by: 10)
                    if overflow { fits = false; break }
                    magnitude = times
                }
            }
            if fits {
                if !negative, magnitude <= UInt64(Int64.max) {
                    storage = .integer(Int64(magnitude))
                    return
                }
                if negative, magnitude <= UInt64(Int64.max) + 1 {
                    storage = .integer(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
                    return
                }
            }
        }
        storage = .decimal(DecimalStorage(negative: negative, digits: significant, exponent: exponent))
    }

    /// The number as sign, normalized digits and exponent (allocates for integers).
    var decimalView: DecimalView {
        switch storage {
        case .decimal(let decimal):
            return DecimalView(negative: decimal.negative, digits: decimal.digits, exponent: decimal.exponent)
        case .integer(let value):
            var magnitude = value.magnitude
            var exponent = 0
            if magnitude == 0 { return DecimalView(negative: false, digits: [], exponent: 0) }
            while magnitude % 10 == 0 {
                magnitude /= 10
                exponent += 1
            }
            var digits: [UInt8] = []
            while magnitude > 0 {
                digits.append(UInt8(magnitude % 10))
                magnitude /= 10
            }
            digits.reverse()
            return DecimalView(negative: value < 0, digits: digits, exponent: exponent)
        }
    }

    static func compareMagnitudes(_ lhs: DecimalView, _ rhs: DecimalView) -> Int {
        if lhs.digits.isEmpty || rhs.digits.isEmpty {
            return lhs.digits.isEmpty ? (rhs.digits.isEmpty ? 0 : -1) : 1
        }
        let lhsPosition = lhs.digits.count + lhs.exponent
        let rhsPosition = rhs.digits.count + rhs.exponent
        if lhsPosition != rhsPosition { return lhsPosition < rhsPosition ? -1 : 1 }
        let length = max(lhs.digits.count, rhs.digits.count)
        for index in 0..<length {
            let a = index < lhs.digits.count ? lhs.digits[index] : 0
            let b = index < rhs.digits.count ? rhs.digits[index] : 0
            if a != b { return a < b ? -1 : 1 }
        }
        return 0
    }

    /// Lays out `±digits × 10^exponent` the way ECMAScript's `Number.prototype.toString`
    /// does (RFC 8785 §3.2.2.3), for digits with no leading or trailing zeros.
    static func ecmaScriptText(negative: Bool, digits: [UInt8], exponent: Int) -> [UInt8] {
        if digits.isEmpty { return [0x30] }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count + 26)
        if negative { out.append(0x2D) }
        let k = digits.count
        let n = k + exponent  // value = 0.d1d2…dk × 10^n
        func appendDigits(_ range: Range<Int>) {
            for index in range { out.append(digits[index] + 0x30) }
        }
        // Beyond ECMAScript (whose doubles never have more than 17 digits): a long exact
        // integer is written out in full rather than in exponent form.
        if k <= n, n <= 21 || (k > 17 && n - k <= 21) {
            appendDigits(0..<k)
            out.append(contentsOf: repeatElement(0x30, count: n - k))
        } else if 0 < n, n <= 21 {
            appendDigits(0..<n)
            out.append(0x2E)
            appendDigits(n..<k)
        } else if -6 < n, n <= 0 {
            out.append(0x30)
            out.append(0x2E)
            out.append(contentsOf: repeatElement(0x30, count: -n))
            appendDigits(0..<k)
        } else {
            appendDigits(0..<1)
            if k > 1 {
                out.append(0x2E)
                appendDigits(1..<k)
            }
            out.append(0x65)
            out.append(n - 1 >= 0 ? 0x2B : 0x2D)
            out.append(contentsOf: String((n - 1).magnitude).utf8)
        }
        return out
    }
}
