import JSON
import JSONSchema

/// Keeps, of the errors from a failed `oneOf`, only those of the branch the value was meant for.
///
/// A `oneOf` that matches nothing reports every branch's errors: for a push recipient with an
/// `http://` endpoint that is the one useful line (the endpoint must be https) and the pull
/// branch's (mode must be "pull", ca is not allowed), which suggest the wrong fix. The branch
/// meant is the one whose `const` keywords hold (`"mode": {"const": "push"}`); with no such
/// discriminator, the branch with the fewest errors. When no branch's discriminator holds, the
/// branches' errors are dropped and the `oneOf`'s own error stays.
enum OneOfBranches {
    static func relevant(_ errors: [ValidationError]) -> [ValidationError] {
        var dropped = Set<Int>()
        for (summaryIndex, summary) in errors.enumerated() where summary.keywordLocation.hasSuffix("/oneOf") {
            let prefix = summary.keywordLocation + "/"
            // This oneOf's branch errors: under its keyword location and its instance.
            var branches: [String: [Int]] = [:]
            for (index, error) in errors.enumerated() where error.keywordLocation.hasPrefix(prefix)
                && summary.instanceLocation.isPrefix(of: error.instanceLocation) {
                let branch = error.keywordLocation.dropFirst(prefix.count).prefix { $0 != "/" }
                branches[String(branch), default: []].append(index)
            }
            guard !branches.isEmpty else { continue }
            let discriminated = branches.filter { _, indices in
                !indices.contains { errors[$0].keywordLocation.hasSuffix("/const") }
            }
            let kept: String?
            if discriminated.count == 1 {
                kept = discriminated.first?.key
            } else if discriminated.isEmpty {
                kept = nil
            } else {
                kept = discriminated.min { $0.value.count < $1.value.count || ($0.value.count == $1.value.count && $0.key < $1.key) }?.key
            }
            for (branch, indices) in branches where branch != kept { dropped.formUnion(indices) }
            if kept != nil { dropped.insert(summaryIndex) }
        }
        return errors.enumerated().filter { !dropped.contains($0.offset) }.map(\.element)
    }
}
