import Foundation

/// A PKI made by `certs/dev-pki.sh` when a test process first needs one: certificates are never
/// checked in and never expire under the tests.
package enum TestPKI {
    private static let made: Result<String, SubprocessError> = {
        let folder = ProjectPaths.temporaryDirectory("refex-pki")
        do {
            let result = try Subprocess.run("/bin/bash", ["\(ProjectPaths.root)/certs/dev-pki.sh", folder], timeout: 120)
            guard result.status == 0 else {
                return .failure(SubprocessError(description: "dev-pki.sh failed: \(result.errorOutput)"))
            }
            return .success(folder)
        } catch let error as SubprocessError {
            return .failure(error)
        } catch {
            return .failure(SubprocessError(description: "\(error)"))
        }
    }()

    /// The folder holding `ca.crt`, `police.crt`, … (see certs/dev-pki.sh).
    package static func folder() throws -> String { try made.get() }

    /// `NAME.crt`'s path.
    package static func certificate(_ name: String) throws -> String { "\(try folder())/\(name).crt" }

    package static func key(_ name: String) throws -> String { "\(try folder())/\(name).key" }

    /// A master key file (64 hex digits) next to the PKI.
    package static func masterKey() throws -> String {
        let path = "\(try folder())/master.key"
        if !FileManager.default.fileExists(atPath: path) {
            let hex = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            try Data(hex.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        return path
    }

    /// SHA-256 fingerprint of `NAME.crt` as `openssl x509 -fingerprint` prints it.
    package static func fingerprint(_ name: String) throws -> String {
        let result = try Subprocess.run("openssl", ["x509", "-in", try certificate(name), "-noout", "-fingerprint", "-sha256"])
        return String(result.output.split(separator: "=").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
