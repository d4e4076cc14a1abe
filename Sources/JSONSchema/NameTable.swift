import JSON

/// Finds which of a fixed set of names (property names, `required`, string `enum` values) a
/// string is, comparing bytes: a small open-addressing table keyed by the length and a few
/// bytes, then one `memcmp`-like comparison. Code-point exact, like `ExactString`.
///
/// A class, so that the program's plain-data tables can hold it unretained (`Unmanaged`).
final class NameTable: Sendable {
    private let slots: [Int32]
    private let mask: Int
    /// Every name's UTF-8 bytes, one after another; name `i` is `bytes[offsets[i]..<offsets[i + 1]]`.
    private let bytes: [UInt8]
    private let offsets: [Int]
    let names: [String]

    init(_ names: [String]) {
        self.names = names
        var bytes: [UInt8] = []
        var offsets = [0]
        for name in names {
            bytes += name.utf8
            offsets.append(bytes.count)
        }
        self.bytes = bytes
        self.offsets = offsets
        var size = 4
        while size < names.count * 2 { size *= 2 }
        mask = size - 1
        var slots = [Int32](repeating: -1, count: size)
        for (index, name) in names.enumerated() {
            var slot = Array(name.utf8).withUnsafeBufferPointer { Self.hash($0) } & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index)
        }
        self.slots = slots
    }

    @inline(__always)
    private static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        let count = key.count
        guard count > 0 else { return 0 }
        return (count &* 0x9E37) ^ (Int(key[0]) &* 0x3B) ^ (Int(key[count - 1]) &* 0x2F1) ^ (Int(key[count >> 1]) &* 0x61C8)
    }

    /// The index of `string` among the names, compared by code points.
    func index(of string: String) -> Int? {
        if let found = string.utf8.withContiguousStorageIfAvailable({ lookup($0) }) { return found }
        return Array(string.utf8).withUnsafeBufferPointer { lookup($0) }
    }

    private func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        var slot = Self.hash(key) & mask
        return bytes.withUnsafeBufferPointer { stored in
            while true {
                let candidate = Int(slots[slot])
                if candidate < 0 { return nil }
                let start = offsets[candidate]
                if offsets[candidate + 1] - start == key.count {
                    var same = true
                    for offset in 0..<key.count where stored[start + offset] != key[offset] {
                        same = false
                        break
                    }
                    if same { return candidate }
                }
                slot = (slot + 1) & mask
            }
        }
    }
}
