extension JSONValue {
    /// Compact JSON text (no whitespace), object members in stored order, numbers exact.
    package func serialized() -> [UInt8] {
        var writer = JSONWriter(style: .compact)
        writer.output.reserveCapacity(1024)
        writer.write(self)
        return writer.output
    }

    /// Compact JSON text as a string; see `serialized()`.
    package func serializedString() -> String {
        String(decoding: serialized(), as: UTF8.self)
    }

    /// JSON text indented by two spaces per level, for people (the command line).
    package func prettyPrinted() -> String {
        var writer = JSONWriter(style: .pretty)
        writer.write(self)
        return String(decoding: writer.output, as: UTF8.self)
    }

    /// The RFC 8785 (JCS) canonical form: no whitespace, members sorted by the UTF-16
    /// code units of their keys, strings minimally escaped, and numbers in the ECMAScript
    /// form of their nearest IEEE 754 double (so `1.0` and `1` both become `1`).
    ///
    /// JCS is defined for I-JSON, whose numbers are doubles. Numbers beyond the double
    /// range (e.g. `1e400`), which JCS leaves undefined, are written in their exact form.
    package func canonicalized() -> [UInt8] {
        var writer = JSONWriter(style: .canonical)
        writer.output.reserveCapacity(1024)
        writer.write(self)
        return writer.output
    }
}
