import Foundation
import TLS

/// What a partner may do (DESIGN.md, "Roles and identities").
package enum Role: String, Sendable, Hashable, CaseIterable, Comparable {
    case refer
    case override
    case receive
    case admin

    package static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// An organisation that talks to refex, known by one or more client certificates.
package struct Partner: Sendable, Hashable {
    package var id: String
    package var name: String
    package var roles: Set<Role>
    package var certificates: [CertificateMatch]

    package init(id: String, name: String, roles: Set<Role>, certificates: [CertificateMatch]) {
        self.id = id
        self.name = name
        self.roles = roles
        self.certificates = certificates
    }
}

/// How the config names a partner's certificate.
package enum CertificateMatch: Sendable, Hashable, CustomStringConvertible {
    /// SHA-256 of the certificate's DER, lower-case hex without separators.
    case fingerprint(String)
    /// The certificate's subject, issued by one certificate of the client CA bundle: the issuer's
    /// name must be that of exactly one `tls.clientCA` certificate, and the verified chain must run
    /// through that very certificate (its SHA-256 fingerprint, resolved when the config is loaded).
    /// A name alone is never enough: any CA in the bundle could issue a certificate, or an
    /// intermediate, with any name.
    case subjectAndIssuer(subject: DistinguishedName, issuer: DistinguishedName, issuerCertificate: String?)

    package var description: String {
        switch self {
        case .fingerprint(let hex): return "sha256 \(hex)"
        case .subjectAndIssuer(let subject, let issuer, _): return "subject \(subject) issued by \(issuer)"
        }
    }

    /// A fingerprint in any common spelling (`AB:CD:…`, `abcd…`), normalised; nil if it is not 32 bytes of hex.
    package static func normalizedFingerprint(_ text: String) -> String? {
        let hex = text.replacingOccurrences(of: ":", with: "").lowercased()
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            return nil
        }
        return hex
    }
}

/// Finds the partner a verified client certificate belongs to.
package struct PartnerDirectory: Sendable {
    private var byFingerprint: [String: Partner] = [:]
    /// Subject name → (fingerprint of the client CA certificate that must have issued it, partner).
    private var bySubject: [DistinguishedName: [(issuerCertificate: String, partner: Partner)]] = [:]
    package private(set) var partners: [Partner] = []

    package init(_ partners: [Partner]) {
        self.partners = partners
        for partner in partners {
            for match in partner.certificates {
                switch match {
                case .fingerprint(let hex): byFingerprint[hex] = partner
                case .subjectAndIssuer(let subject, _, let issuerCertificate):
                    // Unresolved (no single client CA certificate has the issuer's name): matches nothing.
                    guard let issuerCertificate else { continue }
                    bySubject[subject, default: []].append((issuerCertificate, partner))
                }
            }
        }
    }

    /// The partner for a verified chain (client certificate first, trust anchor last): by the
    /// client certificate's fingerprint, else by its subject name together with the client CA
    /// certificate that issued it in this chain.
    package func partner(for chain: [Certificate]) -> Partner? {
        guard let leaf = chain.first else { return nil }
        if let partner = byFingerprint[leaf.sha256Fingerprint] { return partner }
        guard chain.count >= 2, let candidates = bySubject[leaf.subjectName] else { return nil }
        let issuer = chain[1]
        guard issuer.subjectName == leaf.issuerName else { return nil }
        return candidates.first { $0.issuerCertificate == issuer.sha256Fingerprint }?.partner
    }

    package func partner(id: String) -> Partner? { partners.first { $0.id == id } }
}
