import Foundation
import TLS

extension ConfigurationLoader {
    /// The listener's TLS context from the `tls` files: the key matches the certificate, neither
    /// has expired, every client CA chains to a root in the bundle, and the CRL covers each CA and
    /// is in force. Nil, with every problem named, when any of that fails.
    static func loadTLS(_ files: Configuration.TLSFiles, environment: [String: String], _ problems: inout ConfigurationProblems) -> TLSServerContext? {
        let certificatePEM = ConfigurationFiles.read(files.certificate, setting: "tls.certificate", &problems)
        let keyPEM = Credentials.read("tls-key", fallbackPath: files.privateKey, setting: "tls.privateKey", environment: environment, &problems)
        let caPEM = ConfigurationFiles.read(files.clientCA, setting: "tls.clientCA", &problems)
        let crlPEM = files.crl.flatMap { ConfigurationFiles.read($0, setting: "tls.crl", &problems) }
        guard let certificatePEM, let keyPEM, let caPEM, files.crl == nil || crlPEM != nil else { return nil }

        var usable = true
        do {
            let chain = try Certificate.parsePEM(certificatePEM)
            if let leaf = chain.first {
                if leaf.notAfter < Date() { problems.add("tls.certificate", "the server certificate expired on \(leaf.notAfter)"); usable = false }
                do {
                    if try !privateKey(keyPEM, matches: leaf) {
                        problems.add("tls.privateKey", "does not match the server certificate \(files.certificate)")
                        usable = false
                    }
                } catch {
                    problems.add("tls.privateKey", "\(error)")
                    usable = false
                }
            } else {
                problems.add("tls.certificate", "\(files.certificate) holds no PEM certificate")
                usable = false
            }
        } catch {
            problems.add("tls.certificate", "\(error)")
            usable = false
        }
        do {
            if try Certificate.parsePEM(caPEM).isEmpty {
                problems.add("tls.clientCA", "\(files.clientCA) holds no PEM certificate")
                usable = false
            } else {
                let found = try TLSServerContext.anchorProblems(clientCAPEM: caPEM)
                for problem in found { problems.add("tls.clientCA", problem) }
                if !found.isEmpty { usable = false }
            }
        } catch {
            problems.add("tls.clientCA", "\(error)")
            usable = false
        }
        if let crlPEM {
            do {
                let found = try TLSServerContext.revocationProblems(clientCAPEM: caPEM, crlPEM: crlPEM, now: Date())
                for problem in found { problems.add("tls.crl", problem) }
                if !found.isEmpty { usable = false }
            } catch {
                problems.add("tls.crl", "\(error)")
                usable = false
            }
        }
        guard usable else { return nil }
        do {
            let context = try TLSServerContext(TLSServerConfiguration(
                certificateChainPEM: certificatePEM, privateKeyPEM: keyPEM, clientCAPEM: caPEM, crlPEM: crlPEM
            ))
            if let nextUpdate = context.crlNextUpdate, nextUpdate < Date() {
                problems.add("tls.crl", "the CRL expired on \(nextUpdate) (its next update): every client certificate would be refused; install a fresh CRL")
                return nil
            }
            return context
        } catch let error as TLSError {
            problems.add(error.setting ?? "tls", "\(error)")
            return nil
        } catch {
            problems.add("tls", "\(error)")
            return nil
        }
    }

    /// Binds every subject mapping to the one `tls.clientCA` certificate its issuer names, by that
    /// certificate's fingerprint; a mapping whose issuer names none, or several, is a problem.
    static func resolveIssuers(_ partners: [Partner], clientCAs: [Certificate], _ problems: inout ConfigurationProblems) -> [Partner] {
        partners.enumerated().map { partnerIndex, partner in
            var partner = partner
            partner.certificates = partner.certificates.enumerated().map { index, match in
                guard case .subjectAndIssuer(let subject, let issuer, _) = match else { return match }
                let path = "partners[\(partnerIndex)].certificates[\(index)].issuer"
                // By fingerprint: the same certificate twice in the bundle is still one CA.
                let namesakes = Dictionary(clientCAs.filter { $0.subjectName == issuer }.map { ($0.sha256Fingerprint, $0) }) { first, _ in first }
                    .values.sorted { $0.sha256Fingerprint < $1.sha256Fingerprint }
                switch namesakes.count {
                case 1:
                    return .subjectAndIssuer(subject: subject, issuer: issuer, issuerCertificate: namesakes[0].sha256Fingerprint)
                case 0:
                    problems.add(
                        path,
                        "\(issuer) is not the subject of any tls.clientCA certificate: a subject mapping must name the client CA certificate that issues the partner's certificate (or map the certificate by sha256)"
                    )
                default:
                    problems.add(
                        path,
                        "\(issuer) is the subject of \(namesakes.count) tls.clientCA certificates: a name cannot say which CA vouches for the partner; map the certificate by sha256, or keep one CA of that name"
                    )
                }
                return match
            }
            return partner
        }
    }
}
