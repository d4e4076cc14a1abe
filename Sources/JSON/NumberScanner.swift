/// Scans one number in the strict JSON grammar from a byte buffer.
struct NumberScanner {
    let buffer: UnsafeBufferPointer<UInt8>
    var position: Int

    private func byte(at index: Int) -> UInt8? {
        index < buffer.count ? buffer[index] : nil
    }

    private static func isDigit(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return byte >= 0x30 && byte <= 0x39
    }

    private func failure(_ reason: JSONParseError.Reason) -> Result<JSONNumber, JSONParseError> {
        .failure(JSONParseError(offset: position, reason: position >= buffer.count ? .unexpectedEnd : reason))
    }

    /// Scans a number starting at `position` and leaves `position` just after it.
    mutating func scan() -> Result<JSONNumber, JSONParseError> {
        let start = position
        var negative = false
        if byte(at: position) == 0x2D {
            negative = true
            position += 1
        }
        let integerStart = position
        guard let first = byte(at: position) else { return failure(.invalidNumber) }
        if first == 0x30 {
            position += 1
            if Self.isDigit(byte(at: position)) {
                return .failure(JSONParseError(offset: integerStart, reason: .leadingZero))
            }
        } else if first >= 0x31 && first <= 0x39 {
            position += 1
            while Self.isDigit(byte(at: position)) { position += 1 }
        } else {
            return failure(.invalidNumber)
        }
        let integerEnd = position
        var fractionStart = position
        var fractionEnd = position
        if byte(at: position) == 0x2E {
            position += 1
            fractionStart = position
            guard Self.isDigit(byte(at: position)) else { return failure(.invalidNumber) }
            while Self.isDigit(byte(at: position)) { position += 1 }
            fractionEnd = position
        }
        var exponent = 0
        var exponentOverflow = false
        var hasExponent = false
        if let marker = byte(at: position), marker == 0x65 || marker == 0x45 {
            hasExponent = true
            position += 1
            var exponentNegative = false
            if let sign = byte(at: position), sign == 0x2B || sign == 0x2D {
                exponentNegative = sign == 0x2D
                position += 1
            }
            guard Self.isDigit(byte(at: position)) else { return failure(.invalidNumber) }
            while let digit = byte(at: position), digit >= 0x30 && digit <= 0x39 {
                if exponent < 1_000_000_000_000 {
                    exponent = exponent * 10 + Int(digit - 0x30)
                } else {
                    exponentOverflow = true
                }
                position += 1
            }
            if exponentNegative { exponent = -exponent }
        }

        // Fast path: a plain integer of at most 18 digits always fits in Int64.
        if !hasExponent, fractionStart == fractionEnd, integerEnd - integerStart <= 18 {
            var value: Int64 = 0
            for index in integerStart..<integerEnd {
                value = value * 10 + Int64(buffer[index] - 0x30)
            }
            return .success(JSONNumber(storage: .integer(negative ? -value : value)))
        }

        var digits: [UInt8] = []
        digits.reserveCapacity(integerEnd - integerStart + fractionEnd - fractionStart)
        for index in integerStart..<integerEnd { digits.append(buffer[index] - 0x30) }
        for index in fractionStart..<fractionEnd { digits.append(buffer[index] - 0x30) }
        let isZero = !digits.contains { $0 != 0 }
        if isZero { return .success(JSONNumber(storage: .integer(0))) }
        if exponentOverflow {
            return .failure(JSONParseError(offset: start, reason: .numberOutOfRange))
        }
        let number = JSONNumber(negative: negative, digits: digits, exponent: exponent - (fractionEnd - fractionStart))
        if case .decimal(let decimal) = number.storage, abs(decimal.exponent) > JSONNumber.maxExponentMagnitude {
            return .failure(JSONParseError(offset: start, reason: .numberOutOfRange))
        }
        return .success(number)
    }
}
