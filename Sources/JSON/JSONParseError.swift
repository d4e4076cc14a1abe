/// Why a document was rejected by the parser, and where: the byte offset, and the line and
/// column a person finds it at in an editor.
///
/// The description never quotes the document: documents carry personal data. Two errors are
/// equal when their offset and reason are (line and column follow from the offset).
package struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    package enum Reason: Sendable, Hashable {
        /// A byte sequence that is not UTF-8 (overlong, truncated, out of range, or an encoded surrogate).
        case invalidUTF8
        /// A `\u` escape of one half of a surrogate pair without the other half.
        case loneSurrogate
        /// Something other than whitespace after the top-level value.
        case trailingData
        /// A comma before the `]` or `}` that closes an array or object (`[1,]`), at the comma.
        case trailingComma
        /// A number with a superfluous leading zero (`01`).
        case leadingZero
        /// An unescaped control character (U+0000 to U+001F) inside a string.
        case controlCharacterInString
        /// An object with the same key twice.
        case duplicateKey
        /// Arrays and objects nested deeper than `JSONLimits.maxDepth`.
        case tooDeep
        /// A string longer than `JSONLimits.maxStringBytes`.
        case stringTooLong
        /// An object or array with more than `JSONLimits.maxMembers` members.
        case tooManyMembers
        /// A document larger than `JSONLimits.maxDocumentBytes`.
        case documentTooLarge
        /// The document ended in the middle of a value.
        case unexpectedEnd
        /// A byte that cannot start or continue a value here.
        case unexpectedByte
        /// A number that does not follow the JSON grammar.
        case invalidNumber
        /// A number whose exponent is beyond what refex represents (about ±10⁹).
        case numberOutOfRange
        /// A backslash escape that JSON does not define, or a malformed `\u` escape.
        case invalidEscape
        /// A UTF-8 byte order mark, or a document in UTF-16 or UTF-32.
        case byteOrderMark
        /// An empty document, or one of whitespace only.
        case emptyDocument
    }

    /// The zero-based byte offset in the document at which the problem was found.
    package var offset: Int
    /// What went wrong.
    package var reason: Reason
    /// The line of `offset`, from 1; 0 when not known.
    package var line: Int
    /// The column of `offset` on its line, from 1, counting characters (Unicode scalars, a tab as
    /// one); 0 when not known.
    package var column: Int

    /// Creates an error at a byte offset; `JSONValue.parse` adds its line and column.
    package init(offset: Int, reason: Reason, line: Int = 0, column: Int = 0) {
        self.offset = offset
        self.reason = reason
        self.line = line
        self.column = column
    }

    /// Sets `line` and `column` from `offset` in the document that was parsed.
    mutating func locate(in document: UnsafeBufferPointer<UInt8>) {
        var line = 1
        var column = 1
        for index in 0..<min(offset, document.count) {
            let byte = document[index]
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1  // continuation bytes belong to the character before them
            }
        }
        self.line = line
        self.column = column
    }

    package static func == (lhs: JSONParseError, rhs: JSONParseError) -> Bool {
        lhs.offset == rhs.offset && lhs.reason == rhs.reason
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(offset)
        hasher.combine(reason)
    }

    /// For example `line 3, column 5 (byte 42): duplicate object key`.
    package var description: String {
        line > 0 ? "line \(line), column \(column) (byte \(offset)): \(reason.summary)" : "byte \(offset): \(reason.summary)"
    }
}

extension JSONParseError.Reason {
    /// A short, data-free explanation.
    package var summary: String {
        switch self {
        case .invalidUTF8: "invalid UTF-8"
        case .loneSurrogate: "unpaired UTF-16 surrogate in a \\u escape"
        case .trailingData: "unexpected data after the JSON value"
        case .trailingComma: "trailing comma: remove the comma before the closing bracket or brace"
        case .leadingZero: "number with a leading zero"
        case .controlCharacterInString: "unescaped control character in a string"
        case .duplicateKey: "duplicate object key"
        case .tooDeep: "arrays and objects nested too deeply"
        case .stringTooLong: "string too long"
        case .tooManyMembers: "too many members in an object or array"
        case .documentTooLarge: "document too large"
        case .unexpectedEnd: "unexpected end of document"
        case .unexpectedByte: "unexpected character"
        case .invalidNumber: "invalid number"
        case .numberOutOfRange: "number exponent out of range"
        case .invalidEscape: "invalid escape sequence in a string"
        case .byteOrderMark: "byte order mark or non-UTF-8 encoding"
        case .emptyDocument: "empty document"
        }
    }
}
