extension JSONNumber {
    /// Whether `self ÷ divisor` is an integer, computed exactly (`0.07` is a multiple of
    /// `0.01`; `1e308` is a multiple of `0.5`). False if `divisor` is zero.
    ///
    /// Runs in time linear in the digits of `self` times the digits of `divisor`; the
    /// exponent difference costs at most a few steps per digit of `divisor`.
    package func isMultiple(of divisor: JSONNumber) -> Bool {
        if divisor.isZero { return false }
        if isZero { return true }
        if case .integer(let a) = storage, case .integer(let b) = divisor.storage {
            return a.magnitude % b.magnitude == 0
        }
        // a = da × 10^ea, b = db × 10^eb with da, db free of trailing zeros.
        let dividend = decimalView
        let divisorView = divisor.decimalView
        // With ea < eb the quotient is da ÷ (db × 10^(eb−ea)), which would need 10 | da.
        if dividend.exponent < divisorView.exponent { return false }
        var shift = dividend.exponent - divisorView.exponent
        // db = 2^p × 5^q × m with gcd(m, 10) = 1: once shift ≥ max(p, q), whether
        // db | da × 10^shift depends only on m | da, so larger shifts change nothing.
        // p, q ≤ log2(db) < 4 × (digits of db).
        shift = min(shift, 4 * divisorView.digits.count + 4)
        if let small = Self.smallValue(divisorView.digits) {
            var remainder: UInt64 = 0
            func step(_ digit: UInt8) {
                let wide = remainder.multipliedFullWidth(by: 10)
                let (low, carry) = wide.low.addingReportingOverflow(UInt64(digit))
                remainder = small.dividingFullWidth((wide.high + (carry ? 1 : 0), low)).remainder
            }
            for digit in dividend.digits { step(digit) }
            for _ in 0..<shift where remainder != 0 { step(0) }
            return remainder == 0
        }
        var remainder = BigRemainder(modulus: divisorView.digits)
        for digit in dividend.digits { remainder.append(digit) }
        for _ in 0..<shift where !remainder.isZero { remainder.append(0) }
        return remainder.isZero
    }

    private static func smallValue(_ digits: [UInt8]) -> UInt64? {
        guard digits.count <= 19 else { return nil }
        var value: UInt64 = 0
        for digit in digits { value = value * 10 + UInt64(digit) }
        return value
    }
}

/// A running remainder modulo a large decimal number, fed one digit at a time.
private struct BigRemainder {
    let modulus: [UInt8]
    var digits: [UInt8] = []

    init(modulus: [UInt8]) {
        self.modulus = modulus
    }

    var isZero: Bool { digits.isEmpty }

    /// remainder ← (remainder × 10 + digit) mod modulus; at most nine subtractions, as
    /// the remainder stays below the modulus.
    mutating func append(_ digit: UInt8) {
        if !(digits.isEmpty && digit == 0) { digits.append(digit) }
        while !lessThanModulus() { subtractModulus() }
    }

    private func lessThanModulus() -> Bool {
        if digits.count != modulus.count { return digits.count < modulus.count }
        for (a, b) in zip(digits, modulus) where a != b { return a < b }
        return false
    }

    private mutating func subtractModulus() {
        var borrow: Int = 0
        var index = digits.count - 1
        var modulusIndex = modulus.count - 1
        while index >= 0 {
            var value = Int(digits[index]) - borrow - (modulusIndex >= 0 ? Int(modulus[modulusIndex]) : 0)
            borrow = 0
            if value < 0 {
                value += 10
                borrow = 1
            }
            digits[index] = UInt8(value)
            index -= 1
            modulusIndex -= 1
        }
        let firstNonZero = digits.firstIndex { $0 != 0 } ?? digits.count
        digits.removeFirst(firstNonZero)
    }
}
