// libFuzzer target for the JSON parser: any input must be rejected cleanly or parse into a
// value that every writer round-trips. Built by scripts/fuzz-json.sh.
import JSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let limits = JSONLimits(maxDepth: 64, maxStringBytes: 1 << 16, maxMembers: 1 << 12, maxDocumentBytes: 1 << 20)
    let value: JSONValue
    do {
        value = try JSONValue.parse(bytes, limits: limits)
    } catch {
        precondition(error.offset >= 0 && error.offset <= size, "error offset out of range")
        return 0
    }
    // Compact, pretty and canonical output all parse back to the same value (canonical
    // output rounds numbers to doubles, so it is compared with itself).
    guard let compact = try? JSONValue.parse(value.serialized(), limits: .init()), compact == value else {
        preconditionFailure("compact output does not round-trip")
    }
    guard let pretty = try? JSONValue.parse(value.prettyPrinted(), limits: .init()), pretty == value else {
        preconditionFailure("pretty output does not round-trip")
    }
    let canonical = value.canonicalized()
    guard let reparsed = try? JSONValue.parse(canonical, limits: .init()), reparsed.canonicalized() == canonical else {
        preconditionFailure("canonical output is not stable")
    }
    precondition(value.hashValue == compact.hashValue, "equal values hash differently")
    // Every pointer to a member resolves to it.
    if case .object(let object) = value {
        for (key, member) in object {
            precondition(value.value(at: JSONPointer.root.appending(key)) == member, "pointer does not resolve")
            precondition((try? JSONPointer(parsing: JSONPointer.root.appending(key).description)) == JSONPointer(tokens: [key]), "pointer text does not round-trip")
        }
    }
    return 0
}
