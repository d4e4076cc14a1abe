import JSON

/// One object of a config document, read by typed accessors after the document has been checked
/// against the config schema (`ConfigurationSchema`).
///
/// The schema owns keys, types and ranges, and has listed what it refused: an accessor returns
/// nil for a value of the wrong type and says nothing more about it.
struct ConfigurationSection {
    let object: JSONObject
    /// Where the object is, as problems name it: empty for the document, `delivery`, `recipients[2]`.
    let path: String
    /// The config file's folder: relative paths in the config resolve against it.
    let folder: String

    init?(_ value: JSONValue?, path: String, folder: String) {
        guard case .object(let object)? = value else { return nil }
        self.object = object
        self.path = path
        self.folder = folder
    }

    /// The dotted path of `key` in this section, as problems name it.
    func setting(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func string(_ key: String) -> String? { object[key]?.stringValue }

    func integer(_ key: String) -> Int64? { object[key]?.int64Value }

    /// The strings of the array at `key` (members of another type are skipped).
    func strings(_ key: String) -> [String]? { object[key]?.arrayValue?.compactMap(\.stringValue) }

    /// The file named at `key`, resolved against the config's folder; nil when absent or empty.
    func file(_ key: String) -> String? {
        guard let name = string(key), !name.isEmpty else { return nil }
        if name.hasPrefix("/") || folder.isEmpty { return name }
        return "\(folder)/\(name)"
    }

    func section(_ key: String) -> ConfigurationSection? {
        ConfigurationSection(object[key], path: setting(key), folder: folder)
    }

    /// The objects of the array at `key`, each with its index (`partners[2]`); members that are
    /// not objects are skipped.
    func sections(_ key: String) -> [ConfigurationSection] {
        (object[key]?.arrayValue ?? []).enumerated().compactMap { index, value in
            ConfigurationSection(value, path: "\(setting(key))[\(index)]", folder: folder)
        }
    }
}
