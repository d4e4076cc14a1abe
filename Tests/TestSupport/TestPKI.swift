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

/// A certificate authority made with openssl when a test asks for one, for PKI layouts the
/// development PKI does not have: several CAs, intermediates, names with escapes, certificates
/// that expire in seconds, revoked CAs, CRLs that are forged, future-dated or about to expire.
package final class TestCA: @unchecked Sendable {
    /// `/C=GB/O=Police/CN=Police CA` (openssl's `-subj` form).
    package let subject: String
    package let certificate: String
    package let key: String
    /// The CA certificates between this CA and its root, this one first (empty for a root).
    package let chain: [String]
    private let folder: String
    private let configPath: String

    private init(folder: String, subject: String, chain: [String]) throws {
        self.folder = folder
        self.subject = subject
        certificate = "\(folder)/ca.crt"
        key = "\(folder)/ca.key"
        self.chain = chain
        configPath = "\(folder)/ca.cnf"
        try Data("".utf8).write(to: URL(fileURLWithPath: "\(folder)/index.txt"))
        try Data("1000\n".utf8).write(to: URL(fileURLWithPath: "\(folder)/crlnumber"))
        try Data(String(format: "%016llX\n", UInt64.random(in: 1...UInt64.max / 2)).utf8).write(to: URL(fileURLWithPath: "\(folder)/serial"))
        let config = """
            [ ca ]
            default_ca = this
            [ this ]
            dir = \(folder)
            database = $dir/index.txt
            new_certs_dir = $dir
            serial = $dir/serial
            crlnumber = $dir/crlnumber
            certificate = $dir/ca.crt
            private_key = $dir/ca.key
            default_md = sha256
            default_crl_days = 30
            policy = anything
            unique_subject = no
            copy_extensions = none
            [ anything ]
            commonName = optional
            [ ca_ext ]
            basicConstraints = critical, CA:true
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid
            [ client_ext ]
            basicConstraints = critical, CA:false
            keyUsage = critical, digitalSignature
            extendedKeyUsage = clientAuth
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid
            [ crl_akid ]
            authorityKeyIdentifier = keyid
            [ delta_crl ]
            authorityKeyIdentifier = keyid
            deltaCRL = critical, DER:02:02:03:E8
            [ critical_unknown_crl ]
            authorityKeyIdentifier = keyid
            1.3.6.1.4.1.55555.1 = critical, ASN1:NULL
            [ user_only_crl ]
            authorityKeyIdentifier = keyid
            issuingDistributionPoint = critical, @user_only_idp
            [ user_only_idp ]
            onlyuser = TRUE
            [ ca_only_crl ]
            authorityKeyIdentifier = keyid
            issuingDistributionPoint = critical, @ca_only_idp
            [ ca_only_idp ]
            onlyCA = TRUE
            [ indirect_crl ]
            authorityKeyIdentifier = keyid
            issuingDistributionPoint = critical, @indirect_idp
            [ indirect_idp ]
            indirectCRL = TRUE

            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: configPath))
    }

    /// A self-signed root CA in a new folder.
    package static func root(subject: String, days: Int = 30, keyUsage: String = "critical,keyCertSign,cRLSign") throws -> TestCA {
        let folder = ProjectPaths.temporaryDirectory("refex-ca")
        let ca = try TestCA(folder: folder, subject: subject, chain: [])
        try TestCA.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca.key, "-subj", subject,
            "-multivalue-rdn", "-days", String(days), "-sha256", "-addext", "basicConstraints=critical,CA:true",
            "-addext", "keyUsage=\(keyUsage)", "-addext", "subjectKeyIdentifier=hash", "-out", ca.certificate,
        ])
        return ca
    }

    /// An intermediate CA issued by this one.
    package func intermediate(subject: String) throws -> TestCA {
        let child = try TestCA(folder: ProjectPaths.temporaryDirectory("refex-ca"), subject: subject, chain: [])
        try issue(subject: subject, key: child.key, certificate: child.certificate, extensions: "ca_ext", validFor: nil)
        return try TestCA(folder: child.folder, subject: subject, chain: [child.certificate] + chain)
    }

    /// A client certificate issued by this CA: `.crt` and `.key` in this CA's folder, and `.chain.pem`
    /// with the intermediates a client presents. `validFor`: seconds from now until notAfter (default 30 days).
    package func client(_ name: String, subject: String, validFor seconds: Int? = nil) throws -> TestClient {
        let leaf = TestClient(certificate: "\(folder)/\(name).crt", key: "\(folder)/\(name).key", chainFile: "\(folder)/\(name).chain.pem")
        try issue(subject: subject, key: leaf.key, certificate: leaf.certificate, extensions: "client_ext", validFor: seconds)
        var pem = try Data(contentsOf: URL(fileURLWithPath: leaf.certificate))
        for intermediate in chain { pem += try Data(contentsOf: URL(fileURLWithPath: intermediate)) }
        try pem.write(to: URL(fileURLWithPath: leaf.chainFile))
        return leaf
    }

    /// Marks a certificate this CA issued as revoked in its next CRL.
    package func revoke(_ certificatePath: String) throws {
        try TestCA.openssl(["ca", "-batch", "-config", configPath, "-revoke", certificatePath, "-crl_reason", "keyCompromise"])
    }

    /// Writes this CA's CRL to a new file and returns its path. `lastUpdate`/`nextUpdate` as
    /// `YYYYMMDDHHMMSSZ`, or `seconds` until the next update. `extensions`: a section of the CA's
    /// config: `crl_akid` (the CA's key identifier in the CRL), or `delta_crl`, `critical_unknown_crl`,
    /// `indirect_crl`, `user_only_crl` (onlyContainsUserCerts), `ca_only_crl` (onlyContainsCACerts) for CRLs refex must refuse where they cannot serve.
    package func crl(lastUpdate: String? = nil, nextUpdate: String? = nil, seconds: Int? = nil, extensions: String? = nil) throws -> String {
        let path = "\(folder)/crl-\(UUID().uuidString.prefix(8)).pem"
        var args = ["ca", "-batch", "-config", configPath, "-gencrl", "-out", path]
        if let extensions { args += ["-crlexts", extensions] }
        if let lastUpdate { args += ["-crl_lastupdate", lastUpdate] }
        if let nextUpdate { args += ["-crl_nextupdate", nextUpdate] }
        if let seconds { args += ["-crlsec", String(seconds)] }
        try TestCA.openssl(args)
        return path
    }

    /// SHA-256 fingerprint of a certificate file, 64 lower-case hex digits.
    package static func fingerprint(_ certificatePath: String) throws -> String {
        let result = try Subprocess.run("openssl", ["x509", "-in", certificatePath, "-noout", "-fingerprint", "-sha256"])
        return String(result.output.split(separator: "=").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: ":", with: "").lowercased()
    }

    /// Concatenates PEM files into a new file (a CA bundle or a CRL bundle).
    package static func bundle(_ paths: [String]) throws -> String {
        let path = ProjectPaths.temporaryDirectory("refex-bundle") + "/bundle.pem"
        var data = Data()
        for item in paths { data += try Data(contentsOf: URL(fileURLWithPath: item)) }
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    private func issue(subject: String, key: String, certificate: String, extensions: String, validFor seconds: Int?) throws {
        let csr = "\(certificate).csr"
        try TestCA.openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj", subject,
            "-multivalue-rdn", "-out", csr,
        ])
        var args = ["ca", "-batch", "-config", configPath, "-preserveDN", "-notext", "-extensions", extensions, "-in", csr, "-out", certificate]
        if let seconds {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyyMMddHHmmss'Z'"
            args += ["-startdate", formatter.string(from: Date().addingTimeInterval(-60)),
                     "-enddate", formatter.string(from: Date().addingTimeInterval(TimeInterval(seconds)))]
        } else {
            args += ["-days", "30"]
        }
        try TestCA.openssl(args)
    }

    private static func openssl(_ arguments: [String]) throws {
        let result = try Subprocess.run("openssl", arguments, timeout: 60)
        guard result.status == 0 else {
            throw SubprocessError(description: "openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(result.errorOutput)")
        }
    }
}

/// A client certificate made by a `TestCA`.
package struct TestClient: Sendable {
    package var certificate: String
    package var key: String
    /// The certificate followed by its CA's intermediates: what a client presents.
    package var chainFile: String

    package init(certificate: String, key: String, chainFile: String) {
        self.certificate = certificate
        self.key = key
        self.chainFile = chainFile
    }
}
