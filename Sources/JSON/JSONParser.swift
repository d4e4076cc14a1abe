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

    private enum Container {
        case array
        case object
    }

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
        var containers: [Container] = []
        var arrays: [[JSONValue]] = []
        var objects: [JSONObject] = []
        var keys: [String] = []

        while true {
            // Parse one value, or open a container and continue with its first member.
            skipWhitespace()
            guard let byte = peek() else { throw error(.unexpectedEnd) }
            var value: JSONValue
            switch byte {
            case UInt8(ascii: "["):
                guard containers.count < limits.maxDepth else { throw error(.tooDeep) }
                position += 1
                skipWhitespace()
                if peek() == UInt8(ascii: "]") {
                    position += 1
                    value = .array([])
                } else {
                    containers.append(.array)
                    arrays.append([])
                    continue
                }
            case UInt8(ascii: "{"):
                guard containers.count < limits.maxDepth else { throw error(.tooDeep) }
                position += 1
                skipWhitespace()
                if peek() == UInt8(ascii: "}") {
                    position += 1
                    value = .object(JSONObject())
                } else {
                    let key = try parseKey(in: JSONObject())
                    containers.append(.object)
                    objects.append(JSONObject())
                    keys.append(key)
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
            while let container = containers.last {
                skipWhitespace()
                switch container {
                case .array:
                    let last = arrays.count - 1
                    guard arrays[last].count < limits.maxMembers else { throw error(.tooManyMembers) }
                    arrays[last].append(value)
                    guard let next = peek() else { throw error(.unexpectedEnd) }
                    if next == UInt8(ascii: ",") {
                        position += 1
                    } else if next == UInt8(ascii: "]") {
                        position += 1
                        containers.removeLast()
                        value = .array(arrays.removeLast())
                        continue
                    } else {
                        throw error(.unexpectedByte)
                    }
                case .object:
                    let last = objects.count - 1
                    guard objects[last].count < limits.maxMembers else { throw error(.tooManyMembers) }
                    objects[last].appendNew(keys[last], value)
                    guard let next = peek() else { throw error(.unexpectedEnd) }
                    if next == UInt8(ascii: ",") {
                        position += 1
                        skipWhitespace()
                        keys[last] = try parseKey(in: objects[last])
                    } else if next == UInt8(ascii: "}") {
                        position += 1
                        containers.removeLast()
                        keys.removeLast()
                        value = .object(objects.removeLast())
                        continue
                    } else {
                        throw error(.unexpectedByte)
                    }
                }
                break
            }
            if containers.isEmpty { return value }
        }
    }

    /// Parses `"key"` and the `:` after it, refusing a key the object already has.
    private mutating func parseKey(in object: JSONObject) throws(JSONParseError) -> String {
        guard peek() == UInt8(ascii: "\"") else { throw error(.unexpectedByte) }
        let start = position
        let key = try parseString()
        if object.contains(key) { throw error(.duplicateKey, at: start) }
        skipWhitespace()
        guard peek() == UInt8(ascii: ":") else { throw error(.unexpectedByte) }
        position += 1
        return key
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
    private mutating func parseString() throws(JSONParseError) -> String {
        position += 1
        let start = position
        // Fast path: no escapes. Bytes are validated as they are scanned.
        while position < buffer.count {
            let byte = buffer[position]
            if byte == UInt8(ascii: "\"") {
                guard position - start <= limits.maxStringBytes else { throw error(.stringTooLong, at: start) }
                let string = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<position]), as: UTF8.self)
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
