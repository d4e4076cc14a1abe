import Foundation
import TestSupport
import XCTest
@testable import Daemon

/// Secrets are read from systemd's `$CREDENTIALS_DIRECTORY` when passed there, else from the file
/// their setting names; a problem names the credential or the setting, never the bytes.
final class CredentialsTests: XCTestCase {
    private func file(_ folder: String, _ name: String, _ text: String) throws -> String {
        let path = "\(folder)/\(name)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testACredentialPassedBySystemdIsReadInsteadOfTheConfiguredFile() throws {
        let folder = ProjectPaths.temporaryDirectory("refex-credentials")
        let configured = try file(folder, "configured.key", "from the file")
        let credentials = "\(folder)/credentials"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        _ = try file(credentials, "tls-key", "from systemd")
        var problems = ConfigurationProblems()
        let passed = Credentials.read("tls-key", fallbackPath: configured, setting: "tls.privateKey", environment: ["CREDENTIALS_DIRECTORY": credentials], &problems)
        XCTAssertEqual(passed.map { String(decoding: $0, as: UTF8.self) }, "from systemd")
        XCTAssertTrue(Credentials.isPassed("tls-key", environment: ["CREDENTIALS_DIRECTORY": credentials]))
        // Another credential, not passed: the configured file.
        let other = Credentials.read("master-key", fallbackPath: configured, setting: "masterKey", environment: ["CREDENTIALS_DIRECTORY": credentials], &problems)
        XCTAssertEqual(other.map { String(decoding: $0, as: UTF8.self) }, "from the file")
        XCTAssertFalse(Credentials.isPassed("master-key", environment: ["CREDENTIALS_DIRECTORY": credentials]))
        XCTAssertFalse(Credentials.isPassed("tls-key", environment: ["CREDENTIALS_DIRECTORY": ""]))
        XCTAssertEqual(problems.lines, [])
    }

    func testAnUnreadableSecretNamesItsSettingAndNeverItsBytes() throws {
        let folder = ProjectPaths.temporaryDirectory("refex-credentials")
        var problems = ConfigurationProblems()
        XCTAssertNil(Credentials.read("master-key", fallbackPath: "\(folder)/absent.key", setting: "masterKey", environment: [:], &problems))
        XCTAssertNil(Credentials.read("log-signing-key", fallbackPath: nil, setting: "log.signingKey", environment: [:], &problems))
        XCTAssertEqual(problems.lines, [
            "masterKey: cannot read \(folder)/absent.key", "log.signingKey: missing, and no credential log-signing-key was passed",
        ])
    }
}
