/// A finite automaton for the ECMA-262 patterns that need no backtracking (no back
/// references, lookarounds or `\b`): a Thompson NFA over Unicode scalars, with a DFA for
/// ASCII input built when the schema is compiled. Matching runs in time linear in the
/// string, so a hostile string cannot make a pattern backtrack for ever, and it is much
/// faster than ICU for the short strings documents hold.
///
/// Immutable after construction; safe to share between threads.
final class RegexAutomaton: Sendable {
    private enum State: Sendable {
        case consume(set: Int, next: Int)
        case split(Int, Int)
        case startAnchor(next: Int)
        case endAnchor(next: Int)
        case match
    }

    private let states: [State]
    private let sets: [ScalarSet]
    private let start: Int

    // The DFA: one row of 128 transitions per state, for ASCII input.
    private static let accept: Int32 = -1
    private static let unbuilt: Int32 = -2
    private let transitions: [Int32]
    private let acceptsAtEnd: [Bool]
    private let isDead: [Bool]
    private let stateSets: [[Int32]]
    private let stateIndex: [[Int32]: Int32]
    private let initial: Int32

    /// Limits that keep compilation cheap; beyond them ICU is used instead.
    private static let maxNFAStates = 4096
    private static let maxDFAStates = 1024

    private struct Unsupported: Error {}

    /// Builds the automaton, or returns nil if the pattern needs features it lacks or is too large.
    init?(_ node: RegexNode) {
        var builder = NFABuilder()
        let start: Int
        do {
            let match = builder.add(.match)
            start = try builder.compile(node, next: match)
        } catch {
            return nil
        }
        states = builder.states
        sets = builder.sets
        self.start = start

        // Subset construction over ASCII, breadth first.
        var transitions: [Int32] = []
        var acceptsAtEnd: [Bool] = []
        var isDead: [Bool] = []
        var stateSets: [[Int32]] = []
        var stateIndex: [[Int32]: Int32] = [:]
        let states = builder.states
        let sets = builder.sets

        func intern(_ closure: Closure) -> Int32 {
            if closure.match { return Self.accept }
            let key = closure.key
            if let existing = stateIndex[key] { return existing }
            guard stateSets.count < Self.maxDFAStates else { return Self.unbuilt }
            let id = Int32(stateSets.count)
            stateIndex[key] = id
            stateSets.append(closure.consuming)
            acceptsAtEnd.append(closure.acceptsAtEnd)
            isDead.append(closure.consuming.isEmpty && !closure.acceptsAtEnd)
            transitions.append(contentsOf: repeatElement(Self.unbuilt, count: 128))
            return id
        }

        let first = Self.closure(states, [start], atStart: true)
        let initial = intern(first)
        self.initial = initial
        if initial >= 0 {
            var next = 0
            while next < stateSets.count {
                for byte in 0..<128 {
                    let kernel = Self.step(states, sets, stateSets[next], UInt32(byte)) + [start]
                    transitions[next * 128 + byte] = intern(Self.closure(states, kernel, atStart: false))
                }
                next += 1
            }
        }
        self.transitions = transitions
        self.acceptsAtEnd = acceptsAtEnd
        self.isDead = isDead
        self.stateSets = stateSets
        self.stateIndex = stateIndex
    }

    private struct Closure {
        var consuming: [Int32]
        var match: Bool
        var acceptsAtEnd: Bool

        var key: [Int32] { consuming + [acceptsAtEnd ? -1 : -2] }
    }

    /// The consuming states reachable without input, whether the match state is, and
    /// whether it is once the end of input allows `$`.
    private static func closure(_ states: [State], _ kernel: [Int], atStart: Bool) -> Closure {
        var visited = [Bool](repeating: false, count: states.count)
        var stack = kernel
        var consuming: [Int32] = []
        var match = false
        var endKernel: [Int] = []
        while let state = stack.popLast() {
            guard !visited[state] else { continue }
            visited[state] = true
            switch states[state] {
            case .consume: consuming.append(Int32(state))
            case .split(let a, let b): stack.append(b); stack.append(a)
            case .startAnchor(let next): if atStart { stack.append(next) }
            case .endAnchor(let next): endKernel.append(next)
            case .match: match = true
            }
        }
        var acceptsAtEnd = match
        if !acceptsAtEnd, !endKernel.isEmpty {
            // Past `$` only the end of input may follow: more anchors, or the match.
            var seen = [Bool](repeating: false, count: states.count)
            var endStack = endKernel
            while let state = endStack.popLast(), !acceptsAtEnd {
                guard !seen[state] else { continue }
                seen[state] = true
                switch states[state] {
                case .split(let a, let b): endStack.append(a); endStack.append(b)
                case .startAnchor(let next): if atStart { endStack.append(next) }
                case .endAnchor(let next): endStack.append(next)
                case .match: acceptsAtEnd = true
                case .consume: break
                }
            }
        }
        consuming.sort()
        return Closure(consuming: consuming, match: match, acceptsAtEnd: acceptsAtEnd)
    }

    private static func step(_ states: [State], _ sets: [ScalarSet], _ current: [Int32], _ scalar: UInt32) -> [Int] {
        var kernel: [Int] = []
        for state in current {
            if case .consume(let set, let next) = states[Int(state)], sets[set].contains(scalar) {
                kernel.append(next)
            }
        }
        return kernel
    }

    /// Whether the pattern matches anywhere in `string` (patterns are not anchored).
    func matches(_ string: String) -> Bool {
        if let result = string.utf8.withContiguousStorageIfAvailable({ run($0) }) { return result }
        return Array(string.utf8).withUnsafeBufferPointer { run($0) }
    }

    private func run(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var state = initial
        if state == Self.accept { return true }
        if state == Self.unbuilt { return simulate(bytes, from: 0, current: nil) }
        var index = 0
        let count = bytes.count
        return transitions.withUnsafeBufferPointer { table in
            while index < count {
                let byte = bytes[index]
                if byte < 0x80 {
                    let next = table[Int(state) &* 128 &+ Int(byte)]
                    if next >= 0 {
                        state = next
                        index &+= 1
                        if isDead[Int(state)] { return false }
                        continue
                    }
                    if next == Self.accept { return true }
                    return simulate(bytes, from: index, current: stateSets[Int(state)])
                }
                // A non-ASCII scalar: one step on the NFA, then back to the DFA if it knows the set.
                let (scalar, length) = Self.decode(bytes, index)
                let closure = Self.closure(states, Self.step(states, sets, stateSets[Int(state)], scalar) + [start], atStart: false)
                if closure.match { return true }
                index += length
                guard let known = stateIndex[closure.key] else {
                    return simulate(bytes, from: index, current: closure.consuming, acceptsAtEnd: closure.acceptsAtEnd)
                }
                state = known
                if isDead[Int(state)] { return false }
            }
            return acceptsAtEnd[Int(state)]
        }
    }

    /// Runs the NFA directly from `index` (after the DFA gave up, or for a huge DFA).
    private func simulate(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, current: [Int32]?, acceptsAtEnd initialEnd: Bool = false) -> Bool {
        var set: [Int32]
        var atEnd = initialEnd
        var index = start
        if let current {
            set = current
            if index == 0 {
                atEnd = Self.closure(states, [self.start], atStart: true).acceptsAtEnd
            } else if let dfaState = stateIndex[current + [-1]], acceptsAtEnd[Int(dfaState)] {
                atEnd = true
            }
        } else {
            let first = Self.closure(states, [self.start], atStart: true)
            if first.match { return true }
            set = first.consuming
            atEnd = first.acceptsAtEnd
        }
        while index < bytes.count {
            let (scalar, length) = Self.decode(bytes, index)
            index += length
            let closure = Self.closure(states, Self.step(states, sets, set, scalar) + [self.start], atStart: false)
            if closure.match { return true }
            set = closure.consuming
            atEnd = closure.acceptsAtEnd
        }
        return atEnd
    }

    /// Decodes the scalar at `index` of valid UTF-8 (Swift strings always are).
    @inline(__always)
    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> (UInt32, Int) {
        let lead = UInt32(bytes[index])
        if lead < 0x80 { return (lead, 1) }
        func continuation(_ offset: Int) -> UInt32 {
            index + offset < bytes.count ? UInt32(bytes[index + offset] & 0x3F) : 0
        }
        if lead < 0xE0 { return ((lead & 0x1F) << 6 | continuation(1), 2) }
        if lead < 0xF0 { return ((lead & 0x0F) << 12 | continuation(1) << 6 | continuation(2), 3) }
        return ((lead & 0x07) << 18 | continuation(1) << 12 | continuation(2) << 6 | continuation(3), 4)
    }

    /// Thompson construction, continuation style: each node is compiled with the state that follows it.
    private struct NFABuilder {
        var states: [State] = []
        var sets: [ScalarSet] = []

        mutating func add(_ state: State) -> Int {
            states.append(state)
            return states.count - 1
        }

        mutating func compile(_ node: RegexNode, next: Int) throws(Unsupported) -> Int {
            guard states.count < RegexAutomaton.maxNFAStates else { throw Unsupported() }
            switch node {
            case .empty:
                return next
            case .scalars(let set):
                guard set.isSupported else { throw Unsupported() }
                sets.append(set)
                return add(.consume(set: sets.count - 1, next: next))
            case .sequence(let nodes):
                var current = next
                for node in nodes.reversed() { current = try compile(node, next: current) }
                return current
            case .alternation(let nodes):
                var starts: [Int] = []
                for node in nodes { starts.append(try compile(node, next: next)) }
                var current = starts[starts.count - 1]
                for branch in starts.dropLast().reversed() { current = add(.split(branch, current)) }
                return current
            case .group(let inner, _, _):
                return try compile(inner, next: next)
            case .startAnchor:
                return add(.startAnchor(next: next))
            case .endAnchor:
                return add(.endAnchor(next: next))
            case .repetition(let inner, let minimum, let maximum, _):
                var current = next
                if let maximum {
                    for _ in 0..<(maximum - minimum) {
                        let body = try compile(inner, next: current)
                        current = add(.split(body, next))
                        guard states.count < RegexAutomaton.maxNFAStates else { throw Unsupported() }
                    }
                } else {
                    let loop = add(.split(next, next))
                    let body = try compile(inner, next: loop)
                    states[loop] = .split(body, next)
                    current = loop
                }
                for _ in 0..<minimum {
                    current = try compile(inner, next: current)
                    guard states.count < RegexAutomaton.maxNFAStates else { throw Unsupported() }
                }
                return current
            case .wordBoundary, .lookaround, .backReference, .namedBackReference:
                throw Unsupported()
            }
        }
    }
}
