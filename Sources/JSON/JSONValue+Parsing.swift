extension JSONValue {
    /// Parses a complete document in strict RFC 8259 JSON: UTF-8 only (no byte order
    /// mark), no duplicate object keys, no lone surrogates, no trailing data, within `limits`.
    ///
    /// - Throws: `JSONParseError` with the byte offset, line and column of the first problem.
    package static func parse(_ bytes: some Collection<UInt8>, limits: JSONLimits = .init()) throws(JSONParseError) -> JSONValue {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) -> JSONValue in
                var parser = JSONParser(buffer: buffer, limits: limits)
                do throws(JSONParseError) {
                    return try parser.parseDocument()
                } catch {
                    var located = error
                    located.locate(in: buffer)
                    throw located
                }
            }
        }
        if let result { return try result.get() }
        guard bytes.count <= limits.maxDocumentBytes else { throw JSONParseError(offset: 0, reason: .documentTooLarge) }
        let copy = Array(bytes)
        return try parse(copy, limits: limits)
    }

    /// Parses a complete document held in a string; see `parse(_:limits:)` for bytes.
    package static func parse(_ text: String, limits: JSONLimits = .init()) throws(JSONParseError) -> JSONValue {
        try parse(text.utf8, limits: limits)
    }
}
