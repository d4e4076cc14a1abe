import TLS

extension Partner {
    /// The `partners` array: what the schema cannot see, each partner listed once and each
    /// certificate mapped to one partner, and subject and issuer names that parse (RFC 4514).
    static func configured(_ sections: [ConfigurationSection], _ problems: inout ConfigurationProblems) -> [Partner] {
        var partners: [Partner] = []
        var seenIDs: Set<String> = []
        var owners: [CertificateMatch: String] = [:]
        for section in sections {
            let id = section.string("id") ?? ""
            if !id.isEmpty && !seenIDs.insert(id).inserted {
                problems.add(section.setting("id"), "partner \(id) is listed twice")
            }
            let roles = Set((section.strings("roles") ?? []).compactMap(Role.init(rawValue:)))
            var matches: [CertificateMatch] = []
            for certificate in section.sections("certificates") {
                guard let match = CertificateMatch(section: certificate, &problems) else { continue }
                if let owner = owners[match], owner != id {
                    problems.add(certificate.path, "the same certificate is already mapped to partner \(owner)")
                }
                owners[match] = id
                matches.append(match)
            }
            partners.append(Partner(id: id, name: section.string("name") ?? "", roles: roles, certificates: matches))
        }
        return partners
    }
}

extension CertificateMatch {
    /// `{"sha256": …}` or `{"subject": …, "issuer": …}`; the issuer is bound to its client CA
    /// certificate later (`ConfigurationLoader.resolveIssuers`), once the CA bundle is read.
    init?(section: ConfigurationSection, _ problems: inout ConfigurationProblems) {
        if let text = section.string("sha256") {
            guard let hex = CertificateMatch.normalizedFingerprint(text) else { return nil }
            self = .fingerprint(hex)
            return
        }
        func name(_ key: String) -> DistinguishedName? {
            guard let text = section.string(key), !text.isEmpty, !problems.names(section.setting(key)) else { return nil }
            do {
                return try DistinguishedName(rfc4514: text)
            } catch {
                problems.add(section.setting(key), "is not an RFC 4514 distinguished name: \(error)")
                return nil
            }
        }
        let subject = name("subject")
        let issuer = name("issuer")
        guard let subject, let issuer else { return nil }
        self = .subjectAndIssuer(subject: subject, issuer: issuer, issuerCertificate: nil)
    }
}
