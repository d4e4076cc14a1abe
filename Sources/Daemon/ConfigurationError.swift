/// A config that cannot be used, with every problem found (one per line).
package struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    package var path: String
    package var problems: [String]

    package init(path: String, problems: [String]) {
        self.path = path
        self.problems = problems
    }

    package var description: String {
        "\(path): \(problems.count) problem\(problems.count == 1 ? "" : "s")\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
