import Foundation
import JSON

/// Runs refex as an ordinary user, so that file permissions bite: as `nobody` (through setpriv,
/// with no capability) when the tests run as root, as the current user otherwise.
package enum Unprivileged {
    package static var isRoot: Bool { getuid() == 0 }

    /// The command line that runs `arguments` unprivileged.
    package static func command(_ arguments: [String]) -> [String] {
        guard isRoot else { return arguments }
        return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"] + arguments
    }

    /// Runs refex with `arguments` unprivileged.
    package static func runRefex(_ arguments: [String], environment: [String: String]? = nil, timeout: TimeInterval = 30) throws -> SubprocessResult {
        let full = command([try shared.get().binary] + arguments)
        return try Subprocess.run(full[0], Array(full.dropFirst()), environment: environment, timeout: timeout)
    }

    /// The binary and the schemas where the unprivileged user can reach them: the checkout may sit
    /// in a folder only its owner may enter (a home folder is 0700 on Debian 12).
    private static let shared: Result<(binary: String, schemas: String), SubprocessError> = {
        guard isRoot else { return .success((ProjectPaths.refexBinary, "\(ProjectPaths.root)/schemas")) }
        let folder = ProjectPaths.temporaryDirectory("refex-unprivileged-bin")
        chmod(folder, 0o755)
        do {
            try FileManager.default.copyItem(atPath: ProjectPaths.refexBinary, toPath: "\(folder)/refex")
            try FileManager.default.copyItem(atPath: "\(ProjectPaths.root)/schemas", toPath: "\(folder)/schemas")
            // The copies keep the checkout's modes (0755 and 0644); only the way in was closed.
            chmod("\(folder)/refex", 0o755)
            return .success(("\(folder)/refex", "\(folder)/schemas"))
        } catch {
            return .failure(SubprocessError(description: "cannot copy refex for the unprivileged user: \(error)"))
        }
    }()

    /// Makes `path` the unprivileged user's (when the tests run as root).
    package static func handOver(_ path: String) {
        if isRoot { chown(path, 65534, 65534) }
    }

    /// A folder the unprivileged user can read (not write) holding copies of every file the test
    /// config names, each readable by anyone (mode 0644), and that config, with its store in a
    /// folder the unprivileged user owns. Tests then take permissions away one at a time.
    package static func setUp() throws -> (folder: String, config: JSONObject, files: [String: String]) {
        let folder = ProjectPaths.temporaryDirectory("refex-unprivileged")
        chmod(folder, 0o755)
        var files: [String: String] = [:]
        func copy(_ source: String, as name: String) throws -> String {
            let target = "\(folder)/\(name)"
            try FileManager.default.copyItem(atPath: source, toPath: target)
            chmod(target, 0o644)
            files[name] = target
            return target
        }
        let pki = try TestPKI.folder()
        var config = try RefexProcess.config()
        config["schemas"] = .string(try shared.get().schemas)
        config["masterKey"] = .string(try copy(try TestPKI.masterKey(), as: "master.key"))
        config["tls"] = [
            "certificate": .string(try copy("\(pki)/server.crt", as: "server.crt")),
            "privateKey": .string(try copy("\(pki)/server.key", as: "server.key")),
            "clientCA": .string(try copy("\(pki)/ca.crt", as: "ca.crt")),
        ]
        config["delivery"] = [
            "clientCertificate": .string(try copy("\(pki)/refex-client.crt", as: "refex-client.crt")),
            "clientKey": .string(try copy("\(pki)/refex-client.key", as: "refex-client.key")),
        ]
        let ca = try copy("\(pki)/ca.crt", as: "recipient-ca.crt")
        config["recipients"] = .array(try RefexProcess.recipients().map { recipient in
            guard var object = recipient.objectValue, var delivery = object["delivery"]?.objectValue else { return recipient }
            if delivery["ca"] != nil { delivery["ca"] = .string(ca) }
            object["delivery"] = .object(delivery)
            return .object(object)
        })
        let state = "\(folder)/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        chmod(state, 0o700)
        handOver(state)
        config["store"] = ["path": .string("\(state)/refex.db")]
        return (folder, config, files)
    }
}
