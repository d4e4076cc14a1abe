import Foundation
import HTTP
import JSON
import Logging
import Server
import TLS

/// A configuration with everything it names loaded and checked: what `serve` runs on and what
/// SIGHUP swaps in.
package struct LoadedConfiguration: Sendable {
    package var configuration: Configuration
    package var tlsContext: TLSServerContext
    package var partners: PartnerDirectory
}

/// Reads a config file and checks everything in it: keys, values, files, keys against
/// certificates, partners. `refex config check` and start-up both use it.
package enum ConfigurationLoader {
    static let maxFileBytes = 1 << 20
    static let topLevelKeys: Set<String> = ["listen", "ops", "tls", "limits", "logLevel", "partners"]
    static let tlsKeys: Set<String> = ["certificate", "privateKey", "clientCA", "crl"]
    static let limitKeys: Set<String> = [
        "maxBodyBytes", "maxHeaderBytes", "maxHeaderCount", "maxTargetBytes", "maxConnections",
        "handshakeTimeoutSeconds", "headerTimeoutSeconds", "bodyTimeoutSeconds", "idleTimeoutSeconds",
        "writeTimeoutSeconds", "drainTimeoutSeconds", "eventLoops",
    ]
    static let partnerKeys: Set<String> = ["id", "name", "roles", "certificates"]
    static let certificateKeys: Set<String> = ["sha256", "subject", "issuer"]

    /// Loads and checks `path`; throws `ConfigurationError` listing every problem.
    package static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LoadedConfiguration {
        var reader = ConfigurationReader()
        let document = readDocument(path, &reader)
        guard let document else { throw ConfigurationError(path: path, problems: reader.problems) }
        let configuration = decode(document, path: path, &reader)
        var tlsContext: TLSServerContext?
        if let configuration {
            tlsContext = loadTLS(configuration.tls, environment: environment, &reader)
        }
        guard reader.problems.isEmpty, let configuration, let tlsContext else {
            throw ConfigurationError(path: path, problems: reader.problems)
        }
        return LoadedConfiguration(configuration: configuration, tlsContext: tlsContext, partners: PartnerDirectory(configuration.partners))
    }

    private static func readDocument(_ path: String, _ reader: inout ConfigurationReader) -> JSONValue? {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            reader.problem("", "cannot read the config file \(path)")
            return nil
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxFileBytes + 1)) ?? Data()
        guard data.count <= maxFileBytes else {
            reader.problem("", "the config file is larger than \(maxFileBytes) bytes")
            return nil
        }
        do {
            return try JSONValue.parse(Array(data))
        } catch {
            reader.problem("", "not valid JSON: \(error)")
            return nil
        }
    }

    private static func decode(_ document: JSONValue, path: String, _ reader: inout ConfigurationReader) -> Configuration? {
        let folder = (path as NSString).deletingLastPathComponent
        func resolve(_ file: String?) -> String? {
            guard let file, !file.isEmpty else { return nil }
            return file.hasPrefix("/") ? file : (folder.isEmpty ? file : "\(folder)/\(file)")
        }

        guard let root = reader.object(document, at: "", allowed: topLevelKeys) else { return nil }
        let listen = address(reader.string(root, "listen", at: ""), at: "listen", &reader)
        let ops = address(reader.string(root, "ops", at: ""), at: "ops", &reader)
        if let ops, !ops.isLoopback {
            reader.problem("ops", "must be a loopback address (127.0.0.1 or ::1): it serves metrics without TLS")
        }

        let tlsObject = reader.object(root["tls"], at: "tls", allowed: tlsKeys)
        let certificate = resolve(reader.string(tlsObject, "certificate", at: "tls"))
        let privateKey = resolve(reader.string(tlsObject, "privateKey", at: "tls"))
        let clientCA = resolve(reader.string(tlsObject, "clientCA", at: "tls"))
        let crl = resolve(reader.string(tlsObject, "crl", at: "tls", required: false))

        var server = ServerConfiguration()
        if let limits = reader.object(root["limits"], at: "limits", allowed: limitKeys, required: false) {
            func int(_ key: String, _ range: ClosedRange<Int64>) -> Int? {
                reader.integer(limits, key, at: "limits", range: range).map { Int($0) }
            }
            func seconds(_ key: String) -> Duration? {
                reader.integer(limits, key, at: "limits", range: 1...86_400).map { .seconds($0) }
            }
            if let value = int("maxBodyBytes", 1...(64 << 20)) { server.parserLimits.maxBodyBytes = value }
            if let value = int("maxHeaderBytes", 1024...(1 << 20)) { server.parserLimits.maxHeaderBytes = value }
            if let value = int("maxHeaderCount", 8...1000) { server.parserLimits.maxHeaderCount = value }
            if let value = int("maxTargetBytes", 256...(64 << 10)) { server.parserLimits.maxTargetBytes = value }
            if let value = int("maxConnections", 1...1_000_000) { server.maxConnections = value }
            if let value = int("eventLoops", 0...256) { server.eventLoops = value }
            if let value = seconds("handshakeTimeoutSeconds") { server.handshakeTimeout = value }
            if let value = seconds("headerTimeoutSeconds") { server.headerTimeout = value }
            if let value = seconds("bodyTimeoutSeconds") { server.bodyTimeout = value }
            if let value = seconds("idleTimeoutSeconds") { server.idleTimeout = value }
            if let value = seconds("writeTimeoutSeconds") { server.writeTimeout = value }
            if let value = seconds("drainTimeoutSeconds") { server.drainTimeout = value }
        }

        var logLevel = Logger.Level.info
        if let name = reader.string(root, "logLevel", at: "", required: false) {
            if let level = Logger.Level(name: name) {
                logLevel = level
            } else {
                reader.problem("logLevel", "must be one of debug, info, notice, warning, error, critical")
            }
        }

        let partners = decodePartners(reader.array(root, "partners", at: ""), &reader)

        guard let listen, let ops, let certificate, let privateKey, let clientCA else { return nil }
        return Configuration(
            path: path, listen: listen, ops: ops,
            tls: .init(certificate: certificate, privateKey: privateKey, clientCA: clientCA, crl: crl),
            server: server, logLevel: logLevel, partners: partners
        )
    }

    private static func address(_ text: String?, at path: String, _ reader: inout ConfigurationReader) -> ListenAddress? {
        guard let text, !text.isEmpty else { return nil }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                reader.problem(path, "must be HOST:PORT, e.g. 127.0.0.1:8443 or [::1]:8443")
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                reader.problem(path, "must be HOST:PORT, e.g. 127.0.0.1:8443")
                return nil
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        // Port 0 asks the kernel for a free port; refex reports the one it got when it is ready.
        guard let port = UInt16(portText) else {
            reader.problem(path, "the port must be a number from 0 to 65535")
            return nil
        }
        var scratch = [UInt8](repeating: 0, count: 16)
        let hostString = String(host)
        guard hostString == "localhost" || inet_pton(AF_INET, hostString, &scratch) == 1 || inet_pton(AF_INET6, hostString, &scratch) == 1 else {
            reader.problem(path, "the host must be an IP address (or localhost)")
            return nil
        }
        return ListenAddress(host: hostString, port: port)
    }

    private static func decodePartners(_ items: [JSONValue]?, _ reader: inout ConfigurationReader) -> [Partner] {
        guard let items else { return [] }
        var partners: [Partner] = []
        var seenIDs: Set<String> = []
        var seenCertificates: [CertificateMatch: String] = [:]
        for (index, item) in items.enumerated() {
            let path = "partners[\(index)]"
            guard let object = reader.object(item, at: path, allowed: partnerKeys) else { continue }
            let id = reader.string(object, "id", at: path) ?? ""
            if !id.isEmpty && !isIdentifier(id) {
                reader.problem("\(path).id", "must be 1-64 characters: lower-case letters, digits and hyphens, starting with a letter or digit")
            }
            if !id.isEmpty && !seenIDs.insert(id).inserted {
                reader.problem("\(path).id", "partner \(id) is listed twice")
            }
            let name = reader.string(object, "name", at: path) ?? ""
            var roles: Set<Role> = []
            for (roleIndex, value) in (reader.array(object, "roles", at: path) ?? []).enumerated() {
                if let text = value.stringValue, let role = Role(rawValue: text) {
                    roles.insert(role)
                } else {
                    reader.problem("\(path).roles[\(roleIndex)]", "must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
                }
            }
            if object["roles"]?.arrayValue?.isEmpty == true {
                reader.problem("\(path).roles", "must name at least one role")
            }
            var matches: [CertificateMatch] = []
            let certificates = reader.array(object, "certificates", at: path) ?? []
            if object["certificates"] != nil && certificates.isEmpty {
                reader.problem("\(path).certificates", "must list at least one certificate")
            }
            for (certificateIndex, value) in certificates.enumerated() {
                let certificatePath = "\(path).certificates[\(certificateIndex)]"
                guard let entry = reader.object(value, at: certificatePath, allowed: certificateKeys) else { continue }
                var match: CertificateMatch?
                if entry["sha256"] != nil {
                    if entry["subject"] != nil || entry["issuer"] != nil {
                        reader.problem(certificatePath, "give either sha256, or subject and issuer, not both")
                    }
                    let text = reader.string(entry, "sha256", at: certificatePath) ?? ""
                    if let hex = CertificateMatch.normalizedFingerprint(text) {
                        match = .fingerprint(hex)
                    } else {
                        reader.problem("\(certificatePath).sha256", "is not a SHA-256 fingerprint (64 hex digits, colons allowed)")
                    }
                } else if entry["subject"] != nil || entry["issuer"] != nil {
                    let subject = reader.string(entry, "subject", at: certificatePath)
                    let issuer = reader.string(entry, "issuer", at: certificatePath)
                    if let subject, let issuer, !subject.isEmpty, !issuer.isEmpty {
                        match = .subjectAndIssuer(subject: subject, issuer: issuer)
                    }
                } else {
                    reader.problem(certificatePath, "needs sha256, or subject and issuer")
                }
                if let match {
                    if let owner = seenCertificates[match], owner != id {
                        reader.problem(certificatePath, "the same certificate is already mapped to partner \(owner)")
                    }
                    seenCertificates[match] = id
                    matches.append(match)
                }
            }
            partners.append(Partner(id: id, name: name, roles: roles, certificates: matches))
        }
        return partners
    }

    /// Partner and recipient ids: `[a-z0-9][a-z0-9-]{0,63}`.
    package static func isIdentifier(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, bytes.count <= 64 else { return false }
        func allowed(_ byte: UInt8) -> Bool { (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D }
        return first != 0x2D && bytes.allSatisfy(allowed)
    }

    private static func loadTLS(_ files: Configuration.TLSFiles, environment: [String: String], _ reader: inout ConfigurationReader) -> TLSServerContext? {
        let certificatePEM = readFile(files.certificate, what: "tls.certificate", &reader)
        let keyPEM = Credentials.read("tls-key", fallbackPath: files.privateKey, environment: environment, what: "tls.privateKey", &reader)
        let caPEM = readFile(files.clientCA, what: "tls.clientCA", &reader)
        let crlPEM = files.crl.flatMap { readFile($0, what: "tls.crl", &reader) }
        guard let certificatePEM, let keyPEM, let caPEM, files.crl == nil || crlPEM != nil else { return nil }

        var usable = true
        do {
            let chain = try Certificate.parsePEM(certificatePEM)
            if let leaf = chain.first {
                if leaf.notAfter < Date() { reader.problem("tls.certificate", "the server certificate expired on \(leaf.notAfter)"); usable = false }
                do {
                    if try !privateKey(keyPEM, matches: leaf) {
                        reader.problem("tls.privateKey", "does not match the server certificate \(files.certificate)")
                        usable = false
                    }
                } catch {
                    reader.problem("tls.privateKey", "\(error)")
                    usable = false
                }
            } else {
                reader.problem("tls.certificate", "\(files.certificate) holds no PEM certificate")
                usable = false
            }
        } catch {
            reader.problem("tls.certificate", "\(error)")
            usable = false
        }
        do {
            if try Certificate.parsePEM(caPEM).isEmpty {
                reader.problem("tls.clientCA", "\(files.clientCA) holds no PEM certificate")
                usable = false
            }
        } catch {
            reader.problem("tls.clientCA", "\(error)")
            usable = false
        }
        guard usable else { return nil }
        do {
            return try TLSServerContext(TLSServerConfiguration(
                certificateChainPEM: certificatePEM, privateKeyPEM: keyPEM, clientCAPEM: caPEM, crlPEM: crlPEM
            ))
        } catch {
            reader.problem("tls", "\(error)")
            return nil
        }
    }

    static func readFile(_ path: String, what: String, _ reader: inout ConfigurationReader) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path) else {
            reader.problem(what, "cannot read \(path)")
            return nil
        }
        return Array(data)
    }
}

/// Secrets passed by systemd (`LoadCredential=`) in `$CREDENTIALS_DIRECTORY`, else read from the configured path.
package enum Credentials {
    static func read(
        _ name: String, fallbackPath: String?, environment: [String: String], what: String, _ reader: inout ConfigurationReader
    ) -> [UInt8]? {
        if let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty {
            let path = "\(directory)/\(name)"
            if FileManager.default.fileExists(atPath: path) {
                return ConfigurationLoader.readFile(path, what: "credential \(name)", &reader)
            }
        }
        guard let fallbackPath else {
            reader.problem(what, "missing, and no credential \(name) was passed")
            return nil
        }
        return ConfigurationLoader.readFile(fallbackPath, what: what, &reader)
    }
}
