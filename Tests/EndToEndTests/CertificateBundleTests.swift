import Foundation
import JSON
import TestSupport
import XCTest

/// Client CA and CRL bundles as operators assemble them: the same CA certificate twice, and CRLs
/// that OpenSSL would apply wrongly (a delta taken for the complete list) or not at all (a critical
/// extension it does not process, an indirect CRL). Through `config check`, the daemon and SIGHUP.
final class CertificateBundleTests: XCTestCase {
    private func check(_ config: JSONObject) throws -> SubprocessResult {
        let path = ProjectPaths.temporaryDirectory() + "/refex.json"
        try RefexProcess.write(config, to: path)
        return try Subprocess.run(ProjectPaths.refexBinary, ["config", "check", "--config", path])
    }

    func testTheSameCACertificateTwiceInTheBundleIsOneCA() throws {
        let police = try TestCA.root(subject: "/C=GB/O=Police/CN=Police CA")
        let hub = try TestCA.root(subject: "/O=Hub/CN=Hub CA")
        let client = try police.client("police", subject: "/C=GB/O=Police/CN=police")
        let partners = [IdentityTests.partner("police", subject: "CN=police,O=Police,C=GB", issuer: "CN=Police CA,O=Police,C=GB")]
        let config = try IdentityTests.config(
            clientCAs: [police.certificate, hub.certificate, police.certificate], crls: [try police.crl(), try hub.crl()], partners: partners
        )
        let result = try check(config)
        XCTAssertEqual(result.status, 0, result.errorOutput)
        let refex = try RefexProcess(config: config)
        XCTAssertEqual(try IdentityTests.whoami(refex, client).1?.json?["partner"]?.stringValue, "police")
        // Two different certificates of one name are still refused.
        let twin = try TestCA.root(subject: "/C=GB/O=Police/CN=Police CA")
        let two = try check(try IdentityTests.config(
            clientCAs: [police.certificate, twin.certificate, police.certificate], crls: nil, partners: partners
        ))
        XCTAssertTrue(two.errorOutput.contains("is the subject of 2 tls.clientCA certificates"), two.errorOutput)
    }

    func testCRLsOpenSSLWouldMisapplyAreRefusedAtCheckAndReload() throws {
        let root = try TestCA.root(subject: "/O=Root/CN=Root CA")
        let leaf = try root.client("leaf", subject: "/O=Root/CN=leaf")
        let revoked = try root.client("revoked", subject: "/O=Root/CN=revoked")
        try root.revoke(revoked.certificate)
        let base = try root.crl()
        let partners = [try IdentityTests.partner("leaf", sha256: leaf.certificate), try IdentityTests.partner("revoked", sha256: revoked.certificate)]
        let cases: [(crls: [String], message: String)] = [
            // A delta CRL lists only what changed since its base; taken as the whole list (alone, or
            // read before the base), what the base revokes would pass.
            ([try root.crl(extensions: "delta_crl")], "is a delta CRL"),
            ([try root.crl(extensions: "delta_crl"), base], "is a delta CRL"),
            ([try root.crl(extensions: "critical_unknown_crl")], "has a critical extension (1.3.6.1.4.1.55555.1) that refex cannot process"),
            ([try root.crl(extensions: "indirect_crl")], "is an indirect, reason-partitioned or attribute-certificate CRL"),
        ]
        for (crls, message) in cases {
            let result = try check(try IdentityTests.config(clientCAs: [root.certificate], crls: crls, partners: partners))
            XCTAssertEqual(result.status, 1, message)
            XCTAssertTrue(result.errorOutput.contains("tls.crl: the CRL issued by CN=Root CA,O=Root \(message)"), result.errorOutput)
        }

        let refex = try RefexProcess(config: try IdentityTests.config(clientCAs: [root.certificate], crls: [base], partners: partners))
        XCTAssertEqual(try IdentityTests.whoami(refex, leaf).1?.status, 200)
        XCTAssertNil(try IdentityTests.whoami(refex, revoked).1)
        try refex.rewriteConfig(try IdentityTests.config(clientCAs: [root.certificate], crls: cases[1].crls, partners: partners))
        refex.signal(SIGHUP)
        XCTAssertTrue(refex.waitForLog("config reload refused"), refex.logText)
        XCTAssertTrue(refex.waitForLog("is a delta CRL"), refex.logText)
        XCTAssertNil(try IdentityTests.whoami(refex, revoked).1, "the base CRL's revocation still holds")
        XCTAssertEqual(try IdentityTests.whoami(refex, leaf).1?.status, 200)
    }

    /// OpenSSL trusts a chain only up to a self-signed root: an intermediate in the bundle without
    /// its root would refuse every certificate under it (`unknown_ca`), so check and reload refuse it.
    func testAnIntermediateInTheBundleWithoutItsRootIsRefused() throws {
        let root = try TestCA.root(subject: "/O=Root/CN=Root CA")
        let issuing = try root.intermediate(subject: "/O=Root/CN=Issuing CA")
        let second = try issuing.intermediate(subject: "/O=Root/CN=Second CA")
        let leaf = try issuing.client("leaf", subject: "/O=Root/CN=leaf")
        let partners = [IdentityTests.partner("leaf", subject: "CN=leaf,O=Root", issuer: "CN=Issuing CA,O=Root")]
        for bundle in [[issuing.certificate], [second.certificate, root.certificate]] {
            let result = try check(try IdentityTests.config(clientCAs: bundle, crls: nil, partners: partners))
            XCTAssertEqual(result.status, 1, result.errorOutput)
            XCTAssertTrue(result.errorOutput.contains("tls.clientCA: the certificate CN="), result.errorOutput)
            XCTAssertTrue(result.errorOutput.contains("is not anchored: its issuer CN="), result.errorOutput)
        }
        let complete = try IdentityTests.config(clientCAs: [root.certificate, issuing.certificate], crls: nil, partners: partners)
        XCTAssertEqual(try check(complete).status, 0)
        let refex = try RefexProcess(config: complete)
        XCTAssertEqual(try IdentityTests.whoami(refex, leaf).1?.json?["partner"]?.stringValue, "leaf")
        try refex.rewriteConfig(try IdentityTests.config(clientCAs: [issuing.certificate], crls: nil, partners: partners))
        refex.signal(SIGHUP)
        XCTAssertTrue(refex.waitForLog("config reload refused"), refex.logText)
        XCTAssertTrue(refex.waitForLog("CN=Issuing CA,O=Root is not anchored"), refex.logText)
        XCTAssertEqual(try IdentityTests.whoami(refex, leaf).1?.status, 200, "the running config stays")
    }

    /// With CRLs, every CA of a chain needs its CRL, and a CRL is only taken from a CA in the bundle:
    /// the CRL of an intermediate that partners send themselves says to put that intermediate there.
    func testTheCRLOfAnIntermediateOutsideTheBundleSaysWhereItBelongs() throws {
        let root = try TestCA.root(subject: "/O=Root/CN=Root CA")
        let issuing = try root.intermediate(subject: "/O=Root/CN=Issuing CA")
        let result = try check(try IdentityTests.config(clientCAs: [root.certificate], crls: [try root.crl(), try issuing.crl()], partners: []))
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(
            result.errorOutput.contains("the CRL issued by CN=Issuing CA,O=Root is from no tls.clientCA certificate: its signature cannot be checked (an intermediate CA whose certificates partners present needs its certificate in tls.clientCA"),
            result.errorOutput
        )
        // The mirror of a missing intermediate CRL: the root's is missing.
        let rootless = try check(try IdentityTests.config(clientCAs: [root.certificate, issuing.certificate], crls: [try issuing.crl()], partners: []))
        XCTAssertEqual(rootless.status, 1)
        XCTAssertTrue(rootless.errorOutput.contains("tls.crl: the tls.clientCA certificate CN=Root CA,O=Root has no CRL"), rootless.errorOutput)
    }

    /// Attribute type keywords in any case name RFC 4514's attributes (OpenSSL's own `uid` is another
    /// attribute); a malformed dotted OID is refused by config check with the reason.
    func testKeywordsInAnyCaseNameTheStandardAttributes() throws {
        let police = try TestCA.root(subject: "/C=GB/O=Police/CN=Police CA")
        let officer = try police.client("officer", subject: "/C=GB/O=Police/UID=jd")
        let config = try IdentityTests.config(
            clientCAs: [police.certificate], crls: nil,
            partners: [IdentityTests.partner("jd", subject: "uid=jd,organizationname=Police,c=GB", issuer: "COMMONNAME=Police CA,o=Police,2.5.4.6=GB")]
        )
        XCTAssertEqual(try check(config).status, 0)
        let refex = try RefexProcess(config: config)
        XCTAssertEqual(try IdentityTests.whoami(refex, officer).1?.json?["partner"]?.stringValue, "jd")
        let bad = try check(try IdentityTests.config(
            clientCAs: [police.certificate], crls: nil, partners: [IdentityTests.partner("jd", subject: "2.5..4=jd,O=Police,C=GB", issuer: "CN=Police CA,O=Police,C=GB")]
        ))
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.errorOutput.contains("partners[0].certificates[0].subject: is not an RFC 4514 distinguished name: unknown attribute type 2.5..4"), bad.errorOutput)
    }

    /// Two client CAs of one name (allowed when their partners are mapped by sha256): OpenSSL picks a
    /// CRL by name and key identifier, so CRLs without an authorityKeyIdentifier would let one CA's
    /// CRL be used for the other's certificates and refuse them all. Refused at check; with key
    /// identifiers both CAs' partners get in.
    func testTwoCAsOfOneNameNeedCRLsThatSayWhichCAIssuedThem() throws {
        let first = try TestCA.root(subject: "/O=Twin/CN=Twin CA")
        let second = try TestCA.root(subject: "/O=Twin/CN=Twin CA")
        let clients = [try first.client("a", subject: "/O=Twin/CN=a"), try second.client("b", subject: "/O=Twin/CN=b")]
        let partners = [try IdentityTests.partner("a", sha256: clients[0].certificate), try IdentityTests.partner("b", sha256: clients[1].certificate)]
        let plain = try check(try IdentityTests.config(clientCAs: [first.certificate, second.certificate], crls: [try first.crl(), try second.crl()], partners: partners))
        XCTAssertEqual(plain.status, 1)
        XCTAssertTrue(plain.errorOutput.contains("the CRL issued by CN=Twin CA,O=Twin does not say by its authorityKeyIdentifier which of the 2 tls.clientCA certificates"), plain.errorOutput)
        let config = try IdentityTests.config(
            clientCAs: [first.certificate, second.certificate], crls: [try first.crl(extensions: "crl_akid"), try second.crl(extensions: "crl_akid")], partners: partners
        )
        XCTAssertEqual(try check(config).status, 0)
        let refex = try RefexProcess(config: config)
        for (client, id) in zip(clients, ["a", "b"]) {
            XCTAssertEqual(try IdentityTests.whoami(refex, client).1?.json?["partner"]?.stringValue, id, refex.logText)
        }
    }

    /// A CRL limited to end-entity certificates cannot say whether a CA certificate is revoked: from a
    /// CA that issued one in the bundle, or from a root (checked against its own CRL), it is refused;
    /// from an intermediate that issues the partners' own certificates it serves.
    func testACRLOfEndEntitiesOnlyIsRefusedWhereACACertificateIsCheckedAgainstIt() throws {
        let root = try TestCA.root(subject: "/O=Root/CN=Root CA")
        let issuing = try root.intermediate(subject: "/O=Root/CN=Issuing CA")
        let leaf = try issuing.client("leaf", subject: "/O=Root/CN=leaf")
        let partners = [try IdentityTests.partner("leaf", sha256: leaf.certificate)]
        for bundle in [[root.certificate, issuing.certificate], [issuing.certificate, root.certificate]] {
            let refused = try check(try IdentityTests.config(
                clientCAs: bundle, crls: [try root.crl(extensions: "user_only_crl"), try issuing.crl()], partners: partners
            ))
            XCTAssertEqual(refused.status, 1)
            XCTAssertTrue(
                refused.errorOutput.contains("the CRL issued by CN=Root CA,O=Root covers end-entity certificates only (onlyContainsUserCerts), but the CA certificate CN="),
                refused.errorOutput
            )
        }
        let direct = try root.client("direct", subject: "/O=Root/CN=direct")
        let alone = try check(try IdentityTests.config(
            clientCAs: [root.certificate], crls: [try root.crl(extensions: "user_only_crl")], partners: [try IdentityTests.partner("direct", sha256: direct.certificate)]
        ))
        XCTAssertTrue(alone.errorOutput.contains("but the CA certificate CN=Root CA,O=Root, which that CA issued, is checked against it"), alone.errorOutput)
        let config = try IdentityTests.config(
            clientCAs: [root.certificate, issuing.certificate], crls: [try root.crl(), try issuing.crl(extensions: "user_only_crl")], partners: partners
        )
        XCTAssertEqual(try check(config).status, 0)
        let refex = try RefexProcess(config: config)
        XCTAssertEqual(try IdentityTests.whoami(refex, leaf).1?.json?["partner"]?.stringValue, "leaf")
    }

    /// The mirror: a CRL of CA certificates only (an ARL) serves a root that issues intermediates, not
    /// the CA that issues partners' certificates.
    func testACRLOfCACertificatesOnlyIsRefusedFromTheCAThatIssuesPartners() throws {
        let root = try TestCA.root(subject: "/O=Root/CN=Root CA")
        let issuing = try root.intermediate(subject: "/O=Root/CN=Issuing CA")
        let leaf = try issuing.client("leaf", subject: "/O=Root/CN=leaf")
        let partners = [try IdentityTests.partner("leaf", sha256: leaf.certificate)]
        let refused = try check(try IdentityTests.config(
            clientCAs: [root.certificate, issuing.certificate], crls: [try root.crl(), try issuing.crl(extensions: "ca_only_crl")], partners: partners
        ))
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(
            refused.errorOutput.contains("the CRL issued by CN=Issuing CA,O=Root covers CA certificates only (onlyContainsCACerts), but that CA issues no CA certificate of tls.clientCA"),
            refused.errorOutput
        )
        let config = try IdentityTests.config(
            clientCAs: [root.certificate, issuing.certificate], crls: [try root.crl(extensions: "ca_only_crl"), try issuing.crl()], partners: partners
        )
        XCTAssertEqual(try check(config).status, 0)
        let refex = try RefexProcess(config: config)
        XCTAssertEqual(try IdentityTests.whoami(refex, leaf).1?.json?["partner"]?.stringValue, "leaf")
    }
}
