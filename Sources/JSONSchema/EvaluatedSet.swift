/// Which properties and items of one instance location have been evaluated, for
/// `unevaluatedProperties` and `unevaluatedItems`. Only allocated when tracking.
struct EvaluatedSet {
    /// Whether anyone will read the result; if not, marking does nothing.
    let tracking: Bool
    private var properties: [UInt64] = []
    private var items: [UInt64] = []

    init(tracking: Bool) {
        self.tracking = tracking
    }

    static var untracked: EvaluatedSet { EvaluatedSet(tracking: false) }

    private static func mark(_ bits: inout [UInt64], _ position: Int) {
        let word = position >> 6
        if word >= bits.count { bits.append(contentsOf: repeatElement(0, count: word - bits.count + 1)) }
        bits[word] |= 1 << UInt64(position & 63)
    }

    private static func isMarked(_ bits: [UInt64], _ position: Int) -> Bool {
        let word = position >> 6
        return word < bits.count && bits[word] & (1 << UInt64(position & 63)) != 0
    }

    private static func merge(_ bits: inout [UInt64], _ other: [UInt64]) {
        if bits.count < other.count { bits.append(contentsOf: repeatElement(0, count: other.count - bits.count)) }
        for (index, word) in other.enumerated() { bits[index] |= word }
    }

    mutating func markProperty(_ position: Int) {
        if tracking { Self.mark(&properties, position) }
    }

    func isPropertyEvaluated(_ position: Int) -> Bool {
        Self.isMarked(properties, position)
    }

    mutating func markItem(_ position: Int) {
        if tracking { Self.mark(&items, position) }
    }

    func isItemEvaluated(_ position: Int) -> Bool {
        Self.isMarked(items, position)
    }

    /// Adds what a successful in-place subschema evaluated.
    mutating func merge(_ other: EvaluatedSet) {
        guard tracking else { return }
        if !other.properties.isEmpty { Self.merge(&properties, other.properties) }
        if !other.items.isEmpty { Self.merge(&items, other.items) }
    }
}
