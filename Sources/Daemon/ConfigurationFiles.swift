import Foundation
import JSON

/// Reads what a config names from disk: the config file itself, and the files its settings name.
/// Reading is all it does; what the bytes mean is decided elsewhere.
enum ConfigurationFiles {
    static let maxConfigBytes = 1 << 20

    /// The config file, parsed; nil, with the problem, when it cannot be read, is too large or is
    /// not JSON.
    static func document(_ path: String, _ problems: inout ConfigurationProblems) -> JSONValue? {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            problems.add("", "cannot read the config file \(path)")
            return nil
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxConfigBytes + 1)) ?? Data()
        guard data.count <= maxConfigBytes else {
            problems.add("", "the config file is larger than \(maxConfigBytes) bytes")
            return nil
        }
        do {
            return try JSONValue.parse(Array(data))
        } catch {
            problems.add("", "not valid JSON: \(error)")
            return nil
        }
    }

    /// The bytes of `path`, which `setting` names; nil, with the problem, when it cannot be read.
    static func read(_ path: String, setting: String, _ problems: inout ConfigurationProblems) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path) else {
            problems.add(setting, "cannot read \(path)")
            return nil
        }
        return Array(data)
    }
}

/// Secrets systemd passes (`LoadCredential=`) in `$CREDENTIALS_DIRECTORY`, each read from there
/// when present, else from the file its setting names.
package enum Credentials {
    /// Whether systemd passed credential `name`.
    static func isPassed(_ name: String, environment: [String: String]) -> Bool {
        path(name, environment: environment) != nil
    }

    /// Credential `name`'s bytes, or those of `fallbackPath` (named by `setting`); nil, with the
    /// problem, when neither can be read. The bytes are never part of a problem.
    static func read(
        _ name: String, fallbackPath: String?, setting: String, environment: [String: String], _ problems: inout ConfigurationProblems
    ) -> [UInt8]? {
        if let path = path(name, environment: environment) {
            return ConfigurationFiles.read(path, setting: "credential \(name)", &problems)
        }
        guard let fallbackPath else {
            problems.add(setting, "missing, and no credential \(name) was passed")
            return nil
        }
        return ConfigurationFiles.read(fallbackPath, setting: setting, &problems)
    }

    private static func path(_ name: String, environment: [String: String]) -> String? {
        guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else { return nil }
        let path = "\(directory)/\(name)"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}
