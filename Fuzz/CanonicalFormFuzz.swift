// libFuzzer target: `log verify`'s fast canonical-form scanner against the full check. Wherever
// the scanner answers (canonical or not), `CanonicalForm` must give the same answer; "unsure" is
// always allowed (the verifier then asks `CanonicalForm`). Built by scripts/fuzz-canonical.sh,
// compiled into the module Exchange with only the two files it compares.
import JSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCanonicalForm(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let full = CanonicalForm.isCanonical(bytes)
    switch CanonicalEntryScanner.scan(bytes).verdict {
    case .canonical:
        precondition(full, "the fast scanner accepts what the full check rejects")
    case .notCanonical:
        precondition(!full, "the fast scanner rejects what the full check accepts")
    case .unsure:
        break
    }
    // The canonical form of what parses is itself canonical for both (when it is an object).
    if let value = try? JSONValue.parse(bytes), case .object = value {
        let canonical = value.canonicalized()
        let again = CanonicalForm.isCanonical(canonical)
        switch CanonicalEntryScanner.scan(canonical).verdict {
        case .canonical: precondition(again, "the scanner accepts a canonical form the full check rejects")
        case .notCanonical: precondition(!again, "the scanner rejects a canonical form the full check accepts")
        case .unsure: break
        }
    }
    return 0
}
