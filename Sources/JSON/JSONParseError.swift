/// Why a document was rejected by the parser, and where.
///
/// The description never quotes the document: documents carry personal data.
package struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    package enum Reason: Sendable, Hashable {
        /// A byte sequence that is not UTF-8 (overlong, truncated, out of range, or an encoded surrogate).
        case invalidUTF8
        /// A `\u` escape of one half of a surrogate pair without the other half.
        case loneSurrogate
        /// Something other than whitespace after the top-level value.
        case trailingData
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

    /// Creates an error at a byte offset.
    package init(offset: Int, reason: Reason) {
        self.offset = offset
        self.reason = reason
    }

    /// For example `byte 17: duplicate object key`.
    package var description: String {
        "byte \(offset): \(reason.summary)"
    }
}

extension JSONParseError.Reason {
    /// A short, data-free explanation.
    package var summary: String {
        switch self {
        case .invalidUTF8: "invalid UTF-8"
        case .loneSurrogate: "unpaired UTF-16 surrogate in a \\u escape"
        case .trailingData: "unexpected data after the JSON value"
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
