/// The strict RFC 8259 parser behind `JSONValue.parse`.
///
/// Iterative: nesting lives in explicit stacks bounded by `JSONLimits.maxDepth`, never in
/// the call stack, so no document can overflow it.
struct JSONParser {
    private let buffer: UnsafeBufferPointer<UInt8>
    private let limits: JSONLimits
    private var position = 0
    private var scratch: [UInt8] = []

    /// The deepest nesting the parser accepts whatever the limits say: code that walks a
    /// value recursively (equality, hashing, serialization, deinitialization) must not
    /// exhaust a thread's stack.
    static let hardMaxDepth = 1000

    init(buffer: UnsafeBufferPointer<UInt8>, limits: JSONLimits) {
        self.buffer = buffer
        var limits = limits
        limits.maxDepth = min(limits.maxDepth, Self.hardMaxDepth)
        self.limits = limits
    }

    /// An array or object being parsed: where its members start on the shared stacks.
    private struct Frame {
        var isObject: Bool
        var valueStart: Int
        var keyStart: Int
        /// For large objects, the keys so far, to find duplicates without a linear scan.
        var keySet: Set<ExactString>?
    }

    // Members of every open container, on shared stacks; each container's members become
    // one exactly sized array when it closes.
    private var frames: [Frame] = []
    private var valueStack: [JSONValue] = []
    private var keyStack: [JSONObject.KeyEntry] = []
    /// The fingerprint of the string `parseString` last returned.
    private var lastFingerprint: UInt32 = 0

    private func error(_ reason: JSONParseError.Reason, at offset: Int? = nil) -> JSONParseError {
        let offset = offset ?? position
        if offset >= buffer.count, reason == .unexpectedByte { return JSONParseError(offset: offset, reason: .unexpectedEnd) }
        return JSONParseError(offset: offset, reason: reason)
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < buffer.count {
            switch buffer[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    @inline(__always)
    private func peek() -> UInt8? {
        position < buffer.count ? buffer[position] : nil
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        guard buffer.count <= limits.maxDocumentBytes else { throw error(.documentTooLarge, at: 0) }
        if buffer.count >= 2, (buffer[0] == 0xEF || buffer[0] == 0xFE || buffer[0] == 0xFF || buffer[0] == 0x00 || buffer[1] == 0x00) {
            throw error(.byteOrderMark, at: 0)
        }
        skipWhitespace()
        guard position < buffer.count else { throw error(.emptyDocument) }
        let value = try parseValue()
        skipWhitespace()
        guard position == buffer.count else { throw error(.trailingData) }
        return value
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        while true {
            // Parse one value, or open a container and continue with its first member.
            skipWhitespace()
            guard let byte = peek() else { throw error(.unexpectedEnd) }
            var value: JSONValue
            switch byte {
            case UInt8(ascii: "["):
                guard frames.count < limits.maxDepth else { throw error(.tooDeep) }
                position += 1
                skipWhitespace()
                if peek() == UInt8(ascii: "]") {
                    position += 1
                    value = .array([])
                } else {
                    frames.append(Frame(isObject: false, valueStart: valueStack.count, keyStart: keyStack.count, keySet: nil))
                    continue
                }
            case UInt8(ascii: "{"):
                guard frames.count < limits.maxDepth else { throw error(.tooDeep) }
                position += 1
                skipWhitespace()
                if peek() == UInt8(ascii: "}") {
                    position += 1
                    value = .object(JSONObject())
                } else {
                    frames.append(Frame(isObject: true, valueStart: valueStack.count, keyStart: keyStack.count, keySet: nil))
                    try parseKey()
                    continue
                }
            case UInt8(ascii: "\""):
                value = .string(try parseString())
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                value = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                var scanner = NumberScanner(buffer: buffer, position: position)
                switch scanner.scan() {
                case .success(let number): value = .number(number)
                case .failure(let failure): throw failure
                }
                position = scanner.position
            default:
                throw error(.unexpectedByte)
            }

            // Add the value to the enclosing containers, closing those that end here.
            while let frame = frames.last {
                guard valueStack.count - frame.valueStart < limits.maxMembers else { throw error(.tooManyMembers) }
                valueStack.append(value)
                skipWhitespace()
                guard let next = peek() else { throw error(.unexpectedEnd) }
                if next == UInt8(ascii: ",") {
                    let comma = position
                    position += 1
                    skipWhitespace()
                    if peek() == (frame.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) { throw error(.trailingComma, at: comma) }
                    if frame.isObject {
                        skipWhitespace()
                        try parseKey()
                    }
                    break
                }
                guard next == (frame.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else { throw error(.unexpectedByte) }
                position += 1
                frames.removeLast()
                let values = Array(valueStack[frame.valueStart...])
                valueStack.removeSubrange(frame.valueStart...)
                if frame.isObject {
                    let keys = Array(keyStack[frame.keyStart...])
                    keyStack.removeSubrange(frame.keyStart...)
                    value = .object(JSONObject(distinctKeys: keys, values: values))
                } else {
                    value = .array(values)
                }
            }
            if frames.isEmpty { return value }
        }
    }

    /// Parses `"key"` and the `:` after it onto the key stack, refusing a key the innermost
    /// object already has.
    private mutating func parseKey() throws(JSONParseError) {
        guard peek() == UInt8(ascii: "\"") else { throw error(.unexpectedByte) }
        let start = position
        let key = try parseString(isKey: true)
        let fingerprint = lastFingerprint
        let last = frames.count - 1
        let keyStart = frames[last].keyStart
        let existing = keyStack.count - keyStart
        if frames[last].keySet != nil {
            guard frames[last].keySet?.insert(ExactString(key)).inserted == true else { throw error(.duplicateKey, at: start) }
        } else {
            for index in keyStart..<keyStack.count where keyStack[index].fingerprint == fingerprint && ExactString.equal(keyStack[index].string, key) {
                throw error(.duplicateKey, at: start)
            }
            if existing + 1 >= 16 {
                frames[last].keySet = Set(keyStack[keyStart...].map { ExactString($0.string) } + [ExactString(key)])
            }
        }
        keyStack.append(JSONObject.KeyEntry(key, fingerprint: fingerprint))
        skipWhitespace()
        guard peek() == UInt8(ascii: ":") else { throw error(.unexpectedByte) }
        position += 1
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        let bytes = UnsafeBufferPointer(start: literal.utf8Start, count: count)
        for index in 0..<count {
            guard position < buffer.count else { throw error(.unexpectedEnd) }
            guard buffer[position] == bytes[index] else { throw error(.unexpectedByte) }
            position += 1
        }
    }

    /// Parses a string starting at its opening quote.
    private mutating func parseString(isKey: Bool = false) throws(JSONParseError) -> String {
        position += 1
        let start = position
        // Fast path: no escapes. Bytes are validated as they are scanned.
        while position < buffer.count {
            skipPlainASCII()
            guard position < buffer.count else { break }
            let byte = buffer[position]
            if byte == UInt8(ascii: "\"") {
                guard position - start <= limits.maxStringBytes else { throw error(.stringTooLong, at: start) }
                let bytes = UnsafeBufferPointer(rebasing: buffer[start..<position])
                if isKey { lastFingerprint = ExactString.fingerprint(bytes) }
                let string = String(decoding: bytes, as: UTF8.self)
                position += 1
                return string
            } else if byte == UInt8(ascii: "\\") {
                break
            } else if byte < 0x20 {
                throw error(.controlCharacterInString)
            } else if byte < 0x80 {
                position += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        guard position < buffer.count else { throw error(.unexpectedEnd) }

        // Slow path: copy what was scanned, then unescape into the scratch buffer.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: buffer[start..<position])
        while position < buffer.count {
            let byte = buffer[position]
            if byte == UInt8(ascii: "\"") {
                guard scratch.count <= limits.maxStringBytes else { throw error(.stringTooLong, at: start) }
                position += 1
                if isKey { lastFingerprint = scratch.withUnsafeBufferPointer { ExactString.fingerprint($0) } }
                return String(decoding: scratch, as: UTF8.self)
            } else if byte == UInt8(ascii: "\\") {
                try parseEscape()
            } else if byte < 0x20 {
                throw error(.controlCharacterInString)
            } else if byte < 0x80 {
                scratch.append(byte)
                position += 1
            } else {
                let sequenceStart = position
                try skipUTF8Sequence()
                scratch.append(contentsOf: buffer[sequenceStart..<position])
            }
            if scratch.count > limits.maxStringBytes { throw error(.stringTooLong, at: start) }
        }
        throw error(.unexpectedEnd)
    }

    /// Moves past bytes that need no attention inside a string (printable ASCII other than
    /// `"` and `\\`), eight at a time.
    @inline(__always)
    private mutating func skipPlainASCII() {
        guard let base = buffer.baseAddress else { return }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while position + 8 <= buffer.count {
            let word = UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self)
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            // A byte is flagged if it is zero after the XOR (a quote or backslash), below
            // 0x20 (a control character) or has its high bit set (non-ASCII).
            let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word) | word
            let flagged = special & highs
            if flagged != 0 {
                // The lowest flagged byte (the first in memory) is exact; later flags may not be.
                position += flagged.trailingZeroBitCount >> 3
                return
            }
            position += 8
        }
    }

    /// Validates one multi-byte UTF-8 sequence (Unicode Table 3-7: no overlong forms, no
    /// surrogates, nothing above U+10FFFF) and moves past it.
    @inline(__always)
    private mutating func skipUTF8Sequence() throws(JSONParseError) {
        let lead = buffer[position]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw error(.invalidUTF8)
        }
        guard position + length <= buffer.count else {
            // Report a truncated sequence as invalid unless the document simply ends.
            for index in (position + 1)..<buffer.count where buffer[index] & 0xC0 != 0x80 {
                throw error(.invalidUTF8)
            }
            throw error(.unexpectedEnd, at: buffer.count)
        }
        let second = buffer[position + 1]
        guard second >= low, second <= high else { throw error(.invalidUTF8) }
        for index in (position + 2)..<(position + length) where buffer[index] & 0xC0 != 0x80 {
            throw error(.invalidUTF8)
        }
        position += length
    }

    private mutating func parseEscape() throws(JSONParseError) {
        let escapeStart = position
        position += 1
        guard let byte = peek() else { throw error(.unexpectedEnd) }
        position += 1
        switch byte {
        case UInt8(ascii: "\""): scratch.append(0x22)
        case UInt8(ascii: "\\"): scratch.append(0x5C)
        case UInt8(ascii: "/"): scratch.append(0x2F)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try parseHex4()
            var scalarValue = UInt32(unit)
            if unit >= 0xD800, unit <= 0xDBFF {
                guard position + 1 < buffer.count, buffer[position] == UInt8(ascii: "\\"), buffer[position + 1] == UInt8(ascii: "u") else {
                    throw error(.loneSurrogate, at: escapeStart)
                }
                position += 2
                let low = try parseHex4()
                guard low >= 0xDC00, low <= 0xDFFF else { throw error(.loneSurrogate, at: escapeStart) }
                scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            } else if unit >= 0xDC00, unit <= 0xDFFF {
                throw error(.loneSurrogate, at: escapeStart)
            }
            guard let scalar = Unicode.Scalar(scalarValue) else { throw error(.loneSurrogate, at: escapeStart) }
            appendUTF8(scalar.value)
        default:
            throw error(.invalidEscape, at: escapeStart)
        }
    }

    private mutating func appendUTF8(_ value: UInt32) {
        switch value {
        case 0..<0x80:
            scratch.append(UInt8(value))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | value >> 6))
            scratch.append(UInt8(0x80 | value & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | value >> 12))
            scratch.append(UInt8(0x80 | value >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | value & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | value >> 18))
            scratch.append(UInt8(0x80 | value >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | value >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | value & 0x3F))
        }
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let byte = peek() else { throw error(.unexpectedEnd) }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error(.invalidEscape)
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }
}
