/// A fast, allocation-free check that a log entry is one JSON object in RFC 8785 canonical
/// form, reading the top-level members verification needs.
///
/// It covers what refex writes (ASCII keys, integers of up to 15 digits, strings, booleans, null,
/// nesting) and answers `.unsure` for anything else (non-ASCII text, fractions, exponents, long
/// integers, deep nesting), for which the caller asks `CanonicalForm`, the full check. Where it
/// answers `.canonical` or `.notCanonical`, it agrees with `CanonicalForm` (fuzzed: Fuzz/CanonicalFormFuzz.swift).
enum CanonicalEntryScanner {
    private enum Failure: Error { case notCanonical, unsure }

    /// The members verification reads, as byte ranges of `bytes`.
    struct Fields {
        var seq: Int64?
        var prevHash: Range<Int>?
        var event: Range<Int>?
        var actor: Range<Int>?
        var time: Range<Int>?
        var referralID: Range<Int>?
        var subjectID: Range<Int>?
        var disclosureID: Range<Int>?
        var recipientID: Range<Int>?
        var lawfulBasis: Range<Int>?
    }

    static func scan(_ bytes: [UInt8]) -> (fields: Fields?, verdict: Verdict) {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(bytes: buffer)
            do {
                var fields = Fields()
                try scanner.object(depth: 0, fields: &fields)
                guard scanner.position == buffer.count else { return (nil, .notCanonical) }
                return (fields, .canonical)
            } catch Failure.notCanonical {
                return (nil, .notCanonical)
            } catch {
                return (nil, .unsure)
            }
        }
    }

    enum Verdict { case canonical, notCanonical, unsure }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        mutating func peek() throws -> UInt8 {
            guard position < bytes.count else { throw Failure.notCanonical }
            return bytes[position]
        }

        mutating func expect(_ byte: UInt8) throws {
            guard try peek() == byte else { throw Failure.notCanonical }
            position += 1
        }

        mutating func object(depth: Int, fields: inout Fields) throws {
            guard depth < 32 else { throw Failure.unsure }
            try expect(UInt8(ascii: "{"))
            if try peek() == UInt8(ascii: "}") {
                position += 1
                return
            }
            var previousKey: Range<Int>?
            while true {
                let key = try string(asciiOnly: true)
                if let previousKey, !isLess(previousKey, key) { throw Failure.notCanonical }
                previousKey = key
                try expect(UInt8(ascii: ":"))
                if depth == 0 {
                    try topLevelValue(key: key, fields: &fields)
                } else {
                    var ignored = Fields()
                    try value(depth: depth + 1, fields: &ignored)
                }
                let next = try peek()
                position += 1
                if next == UInt8(ascii: "}") { return }
                guard next == UInt8(ascii: ",") else { throw Failure.notCanonical }
            }
        }

        mutating func topLevelValue(key: Range<Int>, fields: inout Fields) throws {
            let start = position
            var ignored = Fields()
            try value(depth: 1, fields: &ignored)
            let valueRange = start..<position
            if matches(key, "seq") {
                // Not an entry's seq, but canonical or not is for the full check to say.
                guard let number = integer(valueRange) else { throw Failure.unsure }
                fields.seq = number
            } else if matches(key, "prevHash") {
                fields.prevHash = stringContent(valueRange)
            } else if matches(key, "event") {
                fields.event = stringContent(valueRange)
            } else if matches(key, "actor") {
                fields.actor = stringContent(valueRange)
            } else if matches(key, "time") {
                fields.time = stringContent(valueRange)
            } else if matches(key, "referralId") {
                fields.referralID = stringContent(valueRange)
            } else if matches(key, "subjectId") {
                fields.subjectID = stringContent(valueRange)
            } else if matches(key, "disclosureId") {
                fields.disclosureID = stringContent(valueRange)
            } else if matches(key, "recipient") {
                fields.recipientID = stringContent(valueRange)
            } else if matches(key, "lawfulBasis") {
                fields.lawfulBasis = stringContent(valueRange)
            }
        }

        mutating func value(depth: Int, fields: inout Fields) throws {
            switch try peek() {
            case UInt8(ascii: "{"):
                try object(depth: depth, fields: &fields)
            case UInt8(ascii: "["):
                guard depth < 32 else { throw Failure.unsure }
                position += 1
                if try peek() == UInt8(ascii: "]") {
                    position += 1
                    return
                }
                while true {
                    try value(depth: depth + 1, fields: &fields)
                    let next = try peek()
                    position += 1
                    if next == UInt8(ascii: "]") { return }
                    guard next == UInt8(ascii: ",") else { throw Failure.notCanonical }
                }
            case UInt8(ascii: "\""):
                _ = try string(asciiOnly: false)
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try number()
            default:
                throw Failure.notCanonical
            }
        }

        mutating func literal(_ word: StaticString) throws {
            let length = word.utf8CodeUnitCount
            guard position + length <= bytes.count else { throw Failure.notCanonical }
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: length)
            for index in 0..<length where bytes[position + index] != expected[index] { throw Failure.notCanonical }
            position += length
        }

        /// Integers of at most 15 digits only, which a double holds exactly and ES6 writes as
        /// they are. Fractions, exponents and longer integers (which may not survive the round
        /// trip through a double: 9007199254740993, 10^21) are left to `CanonicalForm`.
        mutating func number() throws {
            var negative = false
            if bytes[position] == UInt8(ascii: "-") {
                negative = true
                position += 1
            }
            let first = try peek()
            guard isDigit(first) else { throw Failure.notCanonical }
            let start = position
            position += 1
            if first != UInt8(ascii: "0") {
                while position < bytes.count, isDigit(bytes[position]) { position += 1 }
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") || bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
                throw Failure.unsure
            }
            if position < bytes.count, isDigit(bytes[position]) {
                throw Failure.notCanonical  // a leading zero
            }
            // "-0" is written "0" in canonical form.
            if first == UInt8(ascii: "0") && negative { throw Failure.notCanonical }
            if position - start > 15 { throw Failure.unsure }
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        /// A string with JCS's escaping; returns its content range. Non-ASCII is left to the full check.
        mutating func string(asciiOnly: Bool) throws -> Range<Int> {
            try expect(UInt8(ascii: "\""))
            let start = position
            while true {
                guard position < bytes.count else { throw Failure.notCanonical }
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    position += 1
                    return start..<(position - 1)
                }
                if byte < 0x20 { throw Failure.notCanonical }
                if byte >= 0x80 { throw Failure.unsure }
                if byte == UInt8(ascii: "\\") {
                    guard position + 1 < bytes.count else { throw Failure.notCanonical }
                    switch bytes[position + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                         UInt8(ascii: "r"), UInt8(ascii: "t"):
                        position += 2
                    case UInt8(ascii: "u"):
                        // JCS escapes only the other control characters, as \u00xx in lower case.
                        guard position + 5 < bytes.count, bytes[position + 2] == UInt8(ascii: "0"), bytes[position + 3] == UInt8(ascii: "0"),
                              bytes[position + 4] == UInt8(ascii: "0") || bytes[position + 4] == UInt8(ascii: "1"),
                              isLowerHex(bytes[position + 5]) else { throw Failure.notCanonical }
                        let code = (bytes[position + 4] == UInt8(ascii: "1") ? 16 : 0) + hexValue(bytes[position + 5])
                        if [8, 9, 10, 12, 13].contains(code) { throw Failure.notCanonical }
                        position += 6
                    default:
                        throw Failure.notCanonical
                    }
                    if asciiOnly { throw Failure.unsure }
                    continue
                }
                position += 1
            }
        }

        func isLess(_ lhs: Range<Int>, _ rhs: Range<Int>) -> Bool {
            // For ASCII keys, byte order is UTF-16 order.
            let left = UnsafeBufferPointer(rebasing: bytes[lhs])
            let right = UnsafeBufferPointer(rebasing: bytes[rhs])
            return left.lexicographicallyPrecedes(right)
        }

        func matches(_ range: Range<Int>, _ name: StaticString) -> Bool {
            guard range.count == name.utf8CodeUnitCount else { return false }
            let expected = UnsafeBufferPointer(start: name.utf8Start, count: range.count)
            for index in 0..<range.count where bytes[range.lowerBound + index] != expected[index] { return false }
            return true
        }

        func integer(_ range: Range<Int>) -> Int64? {
            guard !range.isEmpty, range.count <= 19 else { return nil }
            var value: Int64 = 0
            for index in range {
                let byte = bytes[index]
                guard isDigit(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }

        func stringContent(_ range: Range<Int>) -> Range<Int>? {
            guard range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
            return (range.lowerBound + 1)..<(range.upperBound - 1)
        }

        func isLowerHex(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
        }

        func hexValue(_ byte: UInt8) -> Int {
            byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : Int(byte - UInt8(ascii: "a")) + 10
        }
    }
}
