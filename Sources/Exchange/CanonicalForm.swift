import JSON

/// The one verdict on whether bytes are a log entry written in RFC 8785 (JCS) canonical form: a
/// JSON object that `canonicalized()` writes back byte for byte, every number within IEEE 754
/// double range (RFC 8785 §3.2.2.3: a number a double cannot hold is an error, not a form).
/// `CanonicalEntryScanner` is a fast path that must agree with it wherever it answers
/// (`make fuzz` with `scripts/fuzz-canonical.sh` checks that it does).
enum CanonicalForm {
    /// The parsed entry when `bytes` are canonical; nil otherwise (not JSON, not an object, not
    /// canonical, or a number out of range).
    static func parsedIfCanonical(_ bytes: [UInt8]) -> JSONValue? {
        guard let parsed = try? JSONValue.parse(bytes), case .object = parsed,
              allNumbersFinite(parsed), parsed.canonicalized() == bytes else { return nil }
        return parsed
    }

    static func isCanonical(_ bytes: [UInt8]) -> Bool { parsedIfCanonical(bytes) != nil }

    private static func allNumbersFinite(_ value: JSONValue) -> Bool {
        switch value {
        case .number(let number): return number.doubleValue.isFinite
        case .array(let items): return items.allSatisfy(allNumbersFinite)
        case .object(let object): return object.values.allSatisfy(allNumbersFinite)
        case .null, .bool, .string: return true
        }
    }
}
