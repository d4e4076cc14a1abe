import Foundation
import JSON
import TestSupport
import XCTest

/// Subject mappings pinned to an intermediate in `tls.clientCA`, and the chains a client may send
/// around it: a certificate straight from the root, an intermediate of the same name under another
/// root, extra certificates that have nothing to do with the chain. Through the built daemon.
final class ChainLayoutTests: XCTestCase {
    struct Layout {
        let root: TestCA
        let issuing: TestCA
        let otherRoot: TestCA
        /// Under the other root, named like `issuing`, not in tls.clientCA.
        let namesake: TestCA
        let viaIssuing: TestClient
        let fromRoot: TestClient
        let viaNamesake: TestClient

        init() throws {
            root = try TestCA.root(subject: "/O=Health/CN=Health Root CA")
            issuing = try root.intermediate(subject: "/O=Health/CN=Health Issuing CA")
            otherRoot = try TestCA.root(subject: "/O=Other/CN=Other Root CA")
            namesake = try otherRoot.intermediate(subject: "/O=Health/CN=Health Issuing CA")
            viaIssuing = try issuing.client("gp", subject: "/O=Health/CN=gp")
            fromRoot = try root.client("gp-root", subject: "/O=Health/CN=gp")
            viaNamesake = try namesake.client("gp-namesake", subject: "/O=Health/CN=gp")
        }

        var clientCAs: [String] { [root.certificate, issuing.certificate, otherRoot.certificate] }
        var partners: [JSONValue] { [IdentityTests.partner("gp", subject: "CN=gp,O=Health", issuer: "CN=Health Issuing CA,O=Health")] }
    }

    static let layout = Shared<Layout>()

    override class func tearDown() { layout.reset() }

    private func presenting(_ client: TestClient, with extra: [String]) throws -> TestClient {
        TestClient(certificate: client.certificate, key: client.key, chainFile: try TestCA.bundle([client.chainFile] + extra))
    }

    func testAnIntermediateNamedAsIssuerIsThePinAndNotItsRootOrItsNamesake() throws {
        let pki = try Self.layout.get { try Layout() }
        for crls in [nil, [try pki.root.crl(), try pki.issuing.crl(), try pki.otherRoot.crl()]] as [[String]?] {
            let refex = try RefexProcess(config: try IdentityTests.config(clientCAs: pki.clientCAs, crls: crls, partners: pki.partners))
            XCTAssertEqual(try IdentityTests.whoami(refex, pki.viaIssuing).1?.json?["partner"]?.stringValue, "gp")
            // Chains to the same root, same subject, but not issued by the pinned intermediate.
            XCTAssertEqual(try IdentityTests.whoami(refex, pki.fromRoot).1?.status, 403)
            // An intermediate under another client root with the pinned intermediate's name.
            let (_, namesake) = try IdentityTests.whoami(refex, pki.viaNamesake)
            XCTAssertNil(namesake, "issued by an intermediate borrowing the pinned one's name: \(namesake?.body ?? "")")
            XCTAssertTrue(refex.waitForLog("TLS handshake refused"), refex.logText)
        }
    }

    func testExtraCertificatesSentByTheClientChangeNothing() throws {
        let pki = try Self.layout.get { try Layout() }
        let stranger = try TestCA.root(subject: "/O=Stranger/CN=Stranger CA")
        let refex = try RefexProcess(config: try IdentityTests.config(clientCAs: pki.clientCAs, crls: nil, partners: pki.partners))
        // The partner's chain followed by unrelated certificates, the namesake among them.
        let padded = try presenting(pki.viaIssuing, with: [stranger.certificate, pki.namesake.certificate, pki.otherRoot.certificate])
        XCTAssertEqual(try IdentityTests.whoami(refex, padded).1?.json?["partner"]?.stringValue, "gp")
        // The namesake's certificate sent with the genuine intermediate and root alongside.
        let dressed = try presenting(pki.viaNamesake, with: [pki.namesake.certificate, pki.issuing.certificate, pki.root.certificate])
        XCTAssertNil(try IdentityTests.whoami(refex, dressed).1)
        // The root's certificate sent with its own leaf: still not issued by the pin.
        let fromRoot = try presenting(pki.fromRoot, with: [pki.issuing.certificate, pki.root.certificate])
        XCTAssertEqual(try IdentityTests.whoami(refex, fromRoot).1?.status, 403)
    }
}
