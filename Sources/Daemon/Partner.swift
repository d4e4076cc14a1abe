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
    /// Subject and issuer distinguished names in RFC 2253 form.
    case subjectAndIssuer(subject: String, issuer: String)

    package var description: String {
        switch self {
        case .fingerprint(let hex): return "sha256 \(hex)"
        case .subjectAndIssuer(let subject, let issuer): return "subject \(subject) issued by \(issuer)"
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
    private var bySubjectAndIssuer: [String: Partner] = [:]
    package private(set) var partners: [Partner] = []

    package init(_ partners: [Partner]) {
        self.partners = partners
        for partner in partners {
            for match in partner.certificates {
                switch match {
                case .fingerprint(let hex): byFingerprint[hex] = partner
                case .subjectAndIssuer(let subject, let issuer):
                    bySubjectAndIssuer[PartnerDirectory.key(subject: subject, issuer: issuer)] = partner
                }
            }
        }
    }

    /// The partner for `certificate`: by fingerprint first, then by subject and issuer.
    package func partner(for certificate: Certificate) -> Partner? {
        if let partner = byFingerprint[certificate.sha256Fingerprint] { return partner }
        return bySubjectAndIssuer[PartnerDirectory.key(subject: certificate.subject, issuer: certificate.issuer)]
    }

    package func partner(id: String) -> Partner? { partners.first { $0.id == id } }

    private static func key(subject: String, issuer: String) -> String {
        "\(normalizedName(subject))\u{0}\(normalizedName(issuer))"
    }

    /// RFC 2253 names compared without spaces around separators and with attribute types in upper case.
    static func normalizedName(_ name: String) -> String {
        name.split(separator: ",").map { part -> String in
            let pieces = part.split(separator: "=", maxSplits: 1)
            let type = pieces.first.map { $0.trimmingCharacters(in: .whitespaces).uppercased() } ?? ""
            let value = pieces.count > 1 ? pieces[1].trimmingCharacters(in: .whitespaces) : ""
            return "\(type)=\(value)"
        }.joined(separator: ",")
    }
}
