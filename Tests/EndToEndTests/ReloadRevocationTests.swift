import Foundation
import JSON
import TestSupport
import XCTest

/// A reload that revokes a client ends what it had: a saved session (TLS 1.3 and 1.2, ticket and
/// session id) does not resume into service, each refusal is logged once and names no one.
final class ReloadRevocationTests: XCTestCase {
    func testSessionsSavedBeforeAReloadThatRevokesTheClientAreNotServed() throws {
        let root = try TestCA.root(subject: "/O=Root/CN=Root CA")
        let client = try root.client("victim", subject: "/O=Root/CN=Jane Victim-Witness")
        let config = try IdentityTests.config(
            clientCAs: [root.certificate], crls: [try root.crl()], partners: [try IdentityTests.partner("agency", sha256: client.certificate)]
        )
        let refex = try RefexProcess(config: config)
        let folder = ProjectPaths.temporaryDirectory("refex-sessions")
        for (index, variant) in SessionRecheckTests.variants.enumerated() {
            let first = try SessionRecheckTests.sClient(refex, client, variant.options + ["-sess_out", "\(folder)/\(index).pem"])
            XCTAssertTrue(first.output.contains("HTTP/1.1 200 OK"), "\(variant.name): \(first.output)\(first.errorOutput)")
            let resumed = try SessionRecheckTests.sClient(refex, client, variant.options + ["-sess_in", "\(folder)/\(index).pem"])
            XCTAssertTrue(resumed.output.contains("Reused,"), "\(variant.name) did not resume before the reload")
        }

        try root.revoke(client.certificate)
        var revoked = config
        var tls = revoked["tls"]?.objectValue ?? [:]
        tls["crl"] = .string(try TestCA.bundle([try root.crl()]))
        revoked["tls"] = .object(tls)
        try refex.rewriteConfig(revoked)
        refex.signal(SIGHUP)
        XCTAssertTrue(refex.waitForLog("config reloaded"), refex.logText)

        for (index, variant) in SessionRecheckTests.variants.enumerated() {
            let late = try SessionRecheckTests.sClient(refex, client, variant.options + ["-sess_in", "\(folder)/\(index).pem"])
            XCTAssertFalse(late.output.contains("HTTP/1.1 200"), "\(variant.name) served after the reload revoked it: \(late.output)")
            XCTAssertTrue(refex.waitForLog("reason=revoked", count: index + 1), refex.logText)
        }
        let refusals = refex.logText.split(separator: "\n").filter { $0.contains("TLS handshake refused") || $0.contains("no longer verifies") }
        XCTAssertEqual(refusals.count, SessionRecheckTests.variants.count, "one line per refused attempt: \(refusals)")
        for line in refusals {
            XCTAssertTrue(line.contains("peer=127.0.0.1:"), String(line))
            XCTAssertFalse(line.contains("Jane") || line.contains("Victim"), "a refusal names the client: \(line)")
        }
    }
}
