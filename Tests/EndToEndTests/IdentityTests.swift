import Foundation
import JSON
import TestSupport
import XCTest

/// Who a client certificate is, through the built daemon with PKIs made for each layout: subject
/// mappings bound to the client CA certificate that issued them, names compared exactly, and
/// revocation through the whole chain.
final class IdentityTests: XCTestCase {
    /// Two client CAs; the hub's issues an intermediate that borrows the police CA's name, and under
    /// it a certificate with the police partner's subject.
    struct TwoCAs {
        let police: TestCA
        let hub: TestCA
        let impostorCA: TestCA
        let policeClient: TestClient
        let impostor: TestClient
        let hubClient: TestClient

        init() throws {
            police = try TestCA.root(subject: "/C=GB/O=Police/CN=Police CA")
            hub = try TestCA.root(subject: "/O=Hub/CN=Hub CA")
            impostorCA = try hub.intermediate(subject: "/C=GB/O=Police/CN=Police CA")
            policeClient = try police.client("police", subject: "/C=GB/O=Police/CN=police")
            impostor = try impostorCA.client("impostor", subject: "/C=GB/O=Police/CN=police")
            hubClient = try hub.client("hub", subject: "/O=Hub/CN=hub")
        }
    }

    static let twoCAs = Shared<TwoCAs>()

    override class func tearDown() { twoCAs.reset() }

    /// A config whose client CAs, CRLs and partners are these (no recipients).
    static func config(clientCAs: [String], crls: [String]?, partners: [JSONValue], limits: JSONValue? = nil) throws -> JSONObject {
        var config = try RefexProcess.config()
        var tls = config["tls"]?.objectValue ?? [:]
        tls["clientCA"] = .string(try TestCA.bundle(clientCAs))
        tls["crl"] = try crls.map { .string(try TestCA.bundle($0)) }
        config["tls"] = .object(tls)
        config["partners"] = .array(partners)
        config["recipients"] = []
        if let limits { config["limits"] = limits }
        return config
    }

    static func partner(_ id: String, subject: String, issuer: String) -> JSONValue {
        ["id": .string(id), "name": .string(id), "roles": ["refer"], "certificates": [["subject": .string(subject), "issuer": .string(issuer)]]]
    }

    static func partner(_ id: String, sha256 certificate: String) throws -> JSONValue {
        ["id": .string(id), "name": .string(id), "roles": ["refer"], "certificates": [["sha256": .string(try TestCA.fingerprint(certificate))]]]
    }

    static func whoami(_ refex: RefexProcess, _ client: TestClient, _ extra: [String] = []) throws -> (SubprocessResult, ClientResponse?) {
        try Curl.request(extra + ["--cert", client.chainFile, "--key", client.key, "\(refex.baseURL)/v1/whoami"], as: nil)
    }

    private func check(_ config: JSONObject) throws -> SubprocessResult {
        let path = ProjectPaths.temporaryDirectory() + "/refex.json"
        try RefexProcess.write(config, to: path)
        return try Subprocess.run(ProjectPaths.refexBinary, ["config", "check", "--config", path])
    }

    // MARK: Item 1: identity bound to the CA certificate

    func testASubjectMappingIsBoundToTheCACertificateNotToItsName() throws {
        let pki = try Self.twoCAs.get { try TwoCAs() }
        for crls in [nil, [try pki.police.crl(), try pki.hub.crl()]] as [[String]?] {
            let refex = try RefexProcess(config: try Self.config(
                clientCAs: [pki.police.certificate, pki.hub.certificate], crls: crls,
                partners: [
                    Self.partner("police", subject: "CN=police,O=Police,C=GB", issuer: "CN=Police CA,O=Police,C=GB"),
                    try Self.partner("hub", sha256: pki.hubClient.certificate),
                ]
            ))
            let (_, police) = try Self.whoami(refex, pki.policeClient)
            XCTAssertEqual(police?.status, 200)
            XCTAssertEqual(police?.json?["partner"]?.stringValue, "police")
            XCTAssertEqual(try Self.whoami(refex, pki.hubClient).1?.json?["partner"]?.stringValue, "hub")

            let (result, impostor) = try Self.whoami(refex, pki.impostor)
            XCTAssertNil(impostor, "a certificate under an intermediate borrowing the police CA's name: \(impostor?.body ?? "")")
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(refex.waitForLog("TLS handshake refused"), refex.logText)
            if crls == nil {
                // Without CRLs OpenSSL accepts the chain; refex's own rule refuses it.
                XCTAssertTrue(refex.waitForLog("reason=borrowed_ca_name"), refex.logText)
            }
        }
    }

    func testACertificateFromAnotherCAWithTheSameNamesIsNotThePartner() throws {
        // The police CA has an issuing intermediate; its certificate carries the partner's subject, but
        // the mapping names the root as issuer: not the partner (403), though it chains.
        let pki = try Self.twoCAs.get { try TwoCAs() }
        let issuing = try pki.police.intermediate(subject: "/C=GB/O=Police/CN=Police Issuing CA")
        let viaIssuing = try issuing.client("via-issuing", subject: "/C=GB/O=Police/CN=police")
        let refex = try RefexProcess(config: try Self.config(
            clientCAs: [pki.police.certificate, pki.hub.certificate], crls: nil,
            partners: [Self.partner("police", subject: "CN=police,O=Police,C=GB", issuer: "CN=Police CA,O=Police,C=GB")]
        ))
        XCTAssertEqual(try Self.whoami(refex, viaIssuing).1?.status, 403)
        XCTAssertEqual(try Self.whoami(refex, pki.policeClient).1?.status, 200)
    }

    func testConfigCheckRefusesAnIssuerThatIsNotExactlyOneClientCACertificate() throws {
        let pki = try Self.twoCAs.get { try TwoCAs() }
        let twin = try TestCA.root(subject: "/C=GB/O=Police/CN=Police CA")
        let none = try check(try Self.config(
            clientCAs: [pki.hub.certificate], crls: nil,
            partners: [Self.partner("police", subject: "CN=police,O=Police,C=GB", issuer: "CN=Police CA,O=Police,C=GB")]
        ))
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.errorOutput.contains("partners[0].certificates[0].issuer: CN=Police CA,O=Police,C=GB is not the subject of any tls.clientCA certificate"), none.errorOutput)
        let two = try check(try Self.config(
            clientCAs: [pki.police.certificate, twin.certificate], crls: nil,
            partners: [Self.partner("police", subject: "CN=police,O=Police,C=GB", issuer: "CN=Police CA,O=Police,C=GB")]
        ))
        XCTAssertEqual(two.status, 1)
        XCTAssertTrue(two.errorOutput.contains("is the subject of 2 tls.clientCA certificates"), two.errorOutput)
        // Names are compared exactly: another case, another order, is another name.
        for issuer in ["CN=police ca,O=Police,C=GB", "C=GB,O=Police,CN=Police CA"] {
            let other = try check(try Self.config(
                clientCAs: [pki.police.certificate], crls: nil, partners: [Self.partner("police", subject: "CN=police,O=Police,C=GB", issuer: issuer)]
            ))
            XCTAssertEqual(other.status, 1, issuer)
        }
        let bad = try check(try Self.config(
            clientCAs: [pki.police.certificate], crls: nil, partners: [Self.partner("police", subject: "CN=Doe,JANE", issuer: "CN=Police CA,O=Police,C=GB")]
        ))
        XCTAssertTrue(bad.errorOutput.contains("partners[0].certificates[0].subject: is not an RFC 4514 distinguished name"), bad.errorOutput)
    }

    // MARK: Item 2: names compared as parsed names

    func testAnEscapedCommaIsNotASeparatorAndValuesAreNotCaseFolded() throws {
        let pki = try Self.twoCAs.get { try TwoCAs() }
        let jane = try pki.police.client("jane", subject: "/C=GB/O=Police/CN=Doe, Jane")
        let others = [
            try pki.police.client("jane-upper", subject: "/C=GB/O=Police/CN=Doe,JANE"),
            try pki.police.client("jane-lower", subject: "/C=GB/O=Police/CN=doe, jane"),
            try pki.police.client("jane-multi", subject: "/C=GB/O=Police/CN=Doe, Jane+UID=1"),
            try pki.police.client("jane-two", subject: "/C=GB/O=Police/CN=Doe/CN=Jane"),
        ]
        let refex = try RefexProcess(config: try Self.config(
            clientCAs: [pki.police.certificate, pki.hub.certificate], crls: nil,
            partners: [Self.partner("jane", subject: #"CN=Doe\2C Jane,O=Police,C=GB"#, issuer: "CN=Police CA,O=Police,C=GB")]
        ))
        XCTAssertEqual(try Self.whoami(refex, jane).1?.json?["partner"]?.stringValue, "jane")
        for other in others {
            XCTAssertEqual(try Self.whoami(refex, other).1?.status, 403, other.certificate)
        }
    }

    // MARK: Item 3: revocation through the whole chain

    func testARevokedIntermediateRevokesWhatItIssued() throws {
        let root = try TestCA.root(subject: "/O=Root/CN=Root CA")
        let intermediate = try root.intermediate(subject: "/O=Root/CN=Issuing CA")
        let leaf = try intermediate.client("leaf", subject: "/O=Root/CN=leaf")
        let partners = [try Self.partner("leaf", sha256: leaf.certificate)]
        let clean = try RefexProcess(config: try Self.config(
            clientCAs: [root.certificate, intermediate.certificate], crls: [try root.crl(), try intermediate.crl()], partners: partners
        ))
        XCTAssertEqual(try Self.whoami(clean, leaf).1?.status, 200)

        try root.revoke(intermediate.certificate)
        let refex = try RefexProcess(config: try Self.config(
            clientCAs: [root.certificate, intermediate.certificate], crls: [try root.crl(), try intermediate.crl()], partners: partners
        ))
        let (result, response) = try Self.whoami(refex, leaf)
        XCTAssertNil(response)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(refex.waitForLog("reason=revoked"), refex.logText)
    }

    func testRevocationIsCheckedAtAThirdLevel() throws {
        let root = try TestCA.root(subject: "/O=Root/CN=Root CA")
        let first = try root.intermediate(subject: "/O=Root/CN=Regional CA")
        let second = try first.intermediate(subject: "/O=Root/CN=Issuing CA")
        let leaf = try second.client("leaf", subject: "/O=Root/CN=leaf")
        try first.revoke(second.certificate)
        let refex = try RefexProcess(config: try Self.config(
            clientCAs: [root.certificate, first.certificate, second.certificate],
            crls: [try root.crl(), try first.crl(), try second.crl()], partners: [try Self.partner("leaf", sha256: leaf.certificate)]
        ))
        XCTAssertNil(try Self.whoami(refex, leaf).1)
        XCTAssertTrue(refex.waitForLog("reason=revoked"), refex.logText)
    }

    func testConfigCheckNamesEveryClientCAWithoutACRL() throws {
        let root = try TestCA.root(subject: "/O=Root/CN=Root CA")
        let intermediate = try root.intermediate(subject: "/O=Root/CN=Issuing CA")
        let result = try check(try Self.config(clientCAs: [root.certificate, intermediate.certificate], crls: [try root.crl()], partners: []))
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errorOutput.contains("tls.crl: the tls.clientCA certificate CN=Issuing CA,O=Root has no CRL"), result.errorOutput)
        XCTAssertFalse(result.errorOutput.contains("CN=Root CA,O=Root has no CRL"), result.errorOutput)
    }

    // MARK: Item 5: CRLs that would lock everyone out

    func testConfigCheckRefusesACRLNotSignedByItsIssuer() throws {
        let root = try TestCA.root(subject: "/O=Root/CN=Root CA")
        let forger = try TestCA.root(subject: "/O=Root/CN=Root CA")
        let stranger = try TestCA.root(subject: "/O=Elsewhere/CN=Stranger CA")
        let forged = try check(try Self.config(clientCAs: [root.certificate], crls: [try forger.crl()], partners: []))
        XCTAssertEqual(forged.status, 1)
        XCTAssertTrue(forged.errorOutput.contains("tls.crl: the CRL issued by CN=Root CA,O=Root is not signed by that tls.clientCA certificate"), forged.errorOutput)
        let unrelated = try check(try Self.config(clientCAs: [root.certificate], crls: [try root.crl(), try stranger.crl()], partners: []))
        XCTAssertEqual(unrelated.status, 1)
        XCTAssertTrue(unrelated.errorOutput.contains("the CRL issued by CN=Stranger CA,O=Elsewhere is from no tls.clientCA certificate"), unrelated.errorOutput)
    }

    func testACRLNotYetInForceIsRefusedAtCheckAndReload() throws {
        let root = try TestCA.root(subject: "/O=Root/CN=Root CA")
        let leaf = try root.client("leaf", subject: "/O=Root/CN=leaf")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss'Z'"
        let tomorrow = try root.crl(
            lastUpdate: formatter.string(from: Date().addingTimeInterval(86_400)), nextUpdate: formatter.string(from: Date().addingTimeInterval(30 * 86_400))
        )
        let partners = [try Self.partner("leaf", sha256: leaf.certificate)]
        let result = try check(try Self.config(clientCAs: [root.certificate], crls: [tomorrow], partners: partners))
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errorOutput.contains("its thisUpdate is in the future"), result.errorOutput)

        let refex = try RefexProcess(config: try Self.config(clientCAs: [root.certificate], crls: [try root.crl()], partners: partners))
        XCTAssertEqual(try Self.whoami(refex, leaf).1?.status, 200)
        try refex.rewriteConfig(try Self.config(clientCAs: [root.certificate], crls: [tomorrow], partners: partners))
        refex.signal(SIGHUP)
        XCTAssertTrue(refex.waitForLog("config reload refused"), refex.logText)
        XCTAssertTrue(refex.waitForLog("thisUpdate is in the future"), refex.logText)
        XCTAssertEqual(try Self.whoami(refex, leaf).1?.status, 200, "the running config stays")
    }
}
