/// Every problem found in a config, each naming the setting it is about as a dotted path
/// (`partners[2].roles`), so that one check lists them all instead of stopping at the first.
struct ConfigurationProblems {
    private(set) var lines: [String] = []
    /// The settings named so far.
    private var settings: [String] = []

    var isEmpty: Bool { lines.isEmpty }

    /// Adds `message` about `setting` (empty: the file as a whole).
    mutating func add(_ setting: String, _ message: String) {
        lines.append(setting.isEmpty ? message : "\(setting): \(message)")
        settings.append(setting)
    }

    /// Whether a problem names `setting` or a setting inside it (`delivery` covers
    /// `delivery.ca` and `delivery[0]`): a check of a value already refused stays quiet.
    func names(_ setting: String) -> Bool {
        settings.contains { $0 == setting || $0.hasPrefix(setting + ".") || $0.hasPrefix(setting + "[") }
    }
}
