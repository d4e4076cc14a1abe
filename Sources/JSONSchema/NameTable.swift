import JSON

/// Finds which of a fixed set of names (property names, `required`, string `enum` values) a
/// string is: a small open-addressing table keyed by `ExactString.fingerprint` (which the
/// parser computes for every object key), then one comparison. Code-point exact.
///
/// A class, so that the program's plain-data tables can hold it unretained (`Unmanaged`).
final class NameTable: Sendable {
    private let slots: [Int32]
    private let mask: UInt32
    private let fingerprints: [UInt32]
    private let isASCII: [Bool]
    let names: [String]

    init(_ names: [String]) {
        self.names = names
        fingerprints = names.map { ExactString.fingerprint(of: $0) }
        isASCII = names.map { $0.utf8.allSatisfy { $0 < 0x80 } }
        var size = 4
        while size < names.count * 2 { size *= 2 }
        mask = UInt32(size - 1)
        var slots = [Int32](repeating: -1, count: size)
        for index in names.indices {
            var slot = Int(fingerprints[index] & mask)
            while slots[slot] >= 0 { slot = (slot + 1) & Int(mask) }
            slots[slot] = Int32(index)
        }
        self.slots = slots
    }

    /// The index of `string` among the names, compared by code points.
    func index(of string: String) -> Int? {
        index(of: string, fingerprint: ExactString.fingerprint(of: string))
    }

    /// The index of `string` by comparing with each name in turn: faster than hashing for a
    /// few names.
    func linearIndex(of string: String) -> Int? {
        for (index, name) in names.enumerated() where name == string && (isASCII[index] || ExactString.equal(name, string)) {
            return index
        }
        return nil
    }

    /// The index of `string`, whose `ExactString.fingerprint` is `fingerprint`, among the names.
    func index(of string: String, fingerprint: UInt32) -> Int? {
        var slot = Int(fingerprint & mask)
        while true {
            let candidate = Int(slots[slot])
            if candidate < 0 { return nil }
            // An ASCII name equal under `==` has the same bytes: no other string of the same
            // length is canonically equivalent to it.
            if fingerprints[candidate] == fingerprint, names[candidate] == string,
               isASCII[candidate] || ExactString.equal(names[candidate], string) {
                return candidate
            }
            slot = (slot + 1) & Int(mask)
        }
    }
}
