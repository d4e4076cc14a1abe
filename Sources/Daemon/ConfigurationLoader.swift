import Crypto
import Exchange
import Foundation
import HTTP
import JSON
import JSONSchema
import Logging
import Server
import TLS

/// A configuration with everything it names loaded and checked: what `serve` runs on and what
/// SIGHUP swaps in.
package struct LoadedConfiguration: Sendable {
    package var configuration: Configuration
    package var tlsContext: TLSServerContext
    package var partners: PartnerDirectory
    package var catalog: SchemaCatalog
    package var masterKey: SymmetricKey
    /// refex's delivery client certificate and key (PEM), when push recipients are configured.
    package var deliveryCredentials: (certificate: [UInt8], key: [UInt8])?
    /// The checkpoint signing key, when configured (or passed as a credential).
    package var logSigningKey: Ed25519PrivateKey?
}

/// A configuration as host commands (`refex log`, `subject`, `outbox`, `retention`) load it.
package struct HostConfiguration: Sendable {
    package var configuration: Configuration
    package var catalog: SchemaCatalog
    package var masterKey: SymmetricKey
    package var logSigningKey: Ed25519PrivateKey?
}

/// Reads a config file and checks everything in it: keys, values, files, keys against
/// certificates, partners. `refex config check` and start-up both use it.
package enum ConfigurationLoader {
    static let maxFileBytes = 1 << 20
    static let topLevelKeys: Set<String> = [
        "$schema", "listen", "ops", "tls", "limits", "logLevel", "partners", "recipients", "schemas", "store", "masterKey", "delivery",
        "log", "retention",
    ]
    static let deliverySettingKeys: Set<String> = [
        "clientCertificate", "clientKey", "connectTimeoutSeconds", "timeoutSeconds", "maxAgeSeconds", "backoffBaseMilliseconds",
        "backoffMaxSeconds", "concurrency", "circuitFailures", "circuitOpenSeconds", "pollIntervalMilliseconds",
    ]
    static let storeKeys: Set<String> = ["path", "keysPath"]
    static let recipientKeys: Set<String> = ["id", "name", "services", "fields", "categories", "delivery"]
    static let deliveryKeys: Set<String> = ["mode", "endpoint", "ca", "partner"]
    /// Where `make install` put the schemas beside the running binary (`/usr/share/refex/schemas`
    /// for a binary that is not installed).
    package static var defaultSchemas: String { InstallLayout.schemas }
    static let configSchemaID = "urn:refex:schema:config:1"
    static let tlsKeys: Set<String> = ["certificate", "privateKey", "clientCA", "crl"]
    static let limitKeys: Set<String> = [
        "maxBodyBytes", "maxHeaderBytes", "maxHeaderCount", "maxTargetBytes", "maxConnections", "maxConnectionsPerPartner",
        "maxHandshakes", "maxHandshakesPerAddress",
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
        let decoded = decode(document, path: path, &reader)
        var configuration = decoded
        var resolvedPartners: [Partner]?
        var catalog: SchemaCatalog?
        var tlsContext: TLSServerContext?
        var masterKey: SymmetricKey?
        var deliveryCredentials: (certificate: [UInt8], key: [UInt8])?
        var logSigningKey: Ed25519PrivateKey?
        if let decoded {
            let configuration = decoded
            catalog = loadCatalog(configuration.schemas, &reader)
            if let catalog { validate(document, with: catalog, &reader) }
            tlsContext = loadTLS(configuration.tls, environment: environment, &reader)
            if let tlsContext {
                resolvedPartners = resolveIssuers(decoded.partners, clientCAs: tlsContext.clientCAs, &reader)
            }
            masterKey = loadMasterKey(configuration.masterKey, environment: environment, &reader)
            checkRecipients(configuration, &reader)
            checkStore(configuration.store, &reader)
            deliveryCredentials = loadDeliveryCredentials(configuration, environment: environment, &reader)
            logSigningKey = loadLogSigningKey(configuration.log, environment: environment, &reader)
        }
        if let resolvedPartners { configuration?.partners = resolvedPartners }
        guard reader.problems.isEmpty, let configuration, let tlsContext, let catalog, let masterKey else {
            throw ConfigurationError(path: path, problems: reader.problems)
        }
        return LoadedConfiguration(
            configuration: configuration, tlsContext: tlsContext, partners: PartnerDirectory(configuration.partners),
            catalog: catalog, masterKey: masterKey, deliveryCredentials: deliveryCredentials, logSigningKey: logSigningKey
        )
    }

    /// What a host command needs, loaded without the TLS context, the delivery credentials and
    /// (unless asked) the schemas: fast, and usable on a host that only holds the store.
    package static func loadForHost(
        path: String, needsCatalog: Bool, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> HostConfiguration {
        var reader = ConfigurationReader()
        guard let document = readDocument(path, &reader), let configuration = decode(document, path: path, &reader) else {
            throw ConfigurationError(path: path, problems: reader.problems)
        }
        let catalog = needsCatalog ? loadCatalog(configuration.schemas, &reader) : SchemaCatalog.empty
        let masterKey = loadMasterKey(configuration.masterKey, environment: environment, &reader)
        let logSigningKey = loadLogSigningKey(configuration.log, environment: environment, &reader)
        guard reader.problems.isEmpty, let catalog, let masterKey else { throw ConfigurationError(path: path, problems: reader.problems) }
        return HostConfiguration(configuration: configuration, catalog: catalog, masterKey: masterKey, logSigningKey: logSigningKey)
    }

    private static func loadLogSigningKey(
        _ settings: Configuration.LogSettings, environment: [String: String], _ reader: inout ConfigurationReader
    ) -> Ed25519PrivateKey? {
        let credential = environment["CREDENTIALS_DIRECTORY"].map { "\($0)/log-signing-key" }
        let hasCredential = credential.map { FileManager.default.fileExists(atPath: $0) } ?? false
        guard settings.signingKey != nil || hasCredential else { return nil }
        guard let bytes = Credentials.read("log-signing-key", fallbackPath: settings.signingKey, environment: environment, what: "log.signingKey", &reader) else {
            return nil
        }
        do {
            return try Ed25519PrivateKey(pem: bytes)
        } catch {
            reader.problem("log.signingKey", "not an Ed25519 private key in PEM (make one with: refex keys generate FILE)")
            return nil
        }
    }

    private static func loadDeliveryCredentials(
        _ configuration: Configuration, environment: [String: String], _ reader: inout ConfigurationReader
    ) -> (certificate: [UInt8], key: [UInt8])? {
        let pushes = configuration.recipients.contains { if case .push = $0.delivery { return true } else { return false } }
        guard let settings = configuration.delivery else {
            if pushes { reader.problem("delivery", "push recipients are configured: give refex's client certificate and key here") }
            return nil
        }
        guard let certificate = readFile(settings.clientCertificate, what: "delivery.clientCertificate", &reader),
              let key = Credentials.read("delivery-key", fallbackPath: settings.clientKey, environment: environment, what: "delivery.clientKey", &reader) else {
            return nil
        }
        do {
            guard let leaf = try Certificate.parsePEM(certificate).first else {
                reader.problem("delivery.clientCertificate", "\(settings.clientCertificate) holds no PEM certificate")
                return nil
            }
            if try !privateKey(key, matches: leaf) {
                reader.problem("delivery.clientKey", "does not match the delivery client certificate")
                return nil
            }
            if leaf.notAfter < Date() { reader.problem("delivery.clientCertificate", "expired on \(leaf.notAfter)") }
        } catch {
            reader.problem("delivery.clientKey", "\(error)")
            return nil
        }
        return (certificate, key)
    }

    private static func loadCatalog(_ folder: String, _ reader: inout ConfigurationReader) -> SchemaCatalog? {
        do {
            let catalog = try SchemaCatalog(folder: folder)
            for required in ["urn:refex:schema:referral:1", "urn:refex:schema:consent:1", "urn:refex:schema:override:1", configSchemaID]
            where catalog.schema(required) == nil {
                reader.problem("schemas", "\(folder) has no schema \(required)")
            }
            return catalog
        } catch {
            reader.problem("schemas", "\(error)")
            return nil
        }
    }

    /// The config's own schema: reports what the checks above did not already say about a location.
    private static func validate(_ document: JSONValue, with catalog: SchemaCatalog, _ reader: inout ConfigurationReader) {
        guard let result = catalog.validate(document, against: configSchemaID), !result.isValid else { return }
        let reported = Set(reader.problems.compactMap { $0.split(separator: ":").first.map(String.init) })
        for error in OneOfBranches.relevant(result.errors) {
            let location = dottedPath(error.instanceLocation)
            if reported.contains(where: { $0 == location || $0.hasPrefix(location + ".") || $0.hasPrefix(location + "[") || location.hasPrefix($0) }) {
                continue
            }
            reader.problem(location, error.message)
        }
    }

    /// `/partners/2/roles/1` → `partners[2].roles[1]`.
    static func dottedPath(_ pointer: JSONPointer) -> String {
        var out = ""
        for token in pointer.tokens {
            if let index = Int(token), String(index) == token {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? token : ".\(token)"
            }
        }
        return out
    }

    private static func loadMasterKey(_ path: String, environment: [String: String], _ reader: inout ConfigurationReader) -> SymmetricKey? {
        guard let bytes = Credentials.read("master-key", fallbackPath: path, environment: environment, what: "masterKey", &reader) else {
            return nil
        }
        guard let key = Keyring.parseMasterKey(bytes) else {
            reader.problem("masterKey", "must hold 32 bytes, or 64 hexadecimal digits (make one with: openssl rand -hex 32)")
            return nil
        }
        return key
    }

    private static func checkRecipients(_ configuration: Configuration, _ reader: inout ConfigurationReader) {
        for (index, recipient) in configuration.recipients.enumerated() {
            let path = "recipients[\(index)]"
            // Its delivery could not be read (a problem is already listed): there is nothing to check.
            if reader.problems.contains(where: { $0.hasPrefix("\(path).delivery") }) { continue }
            switch recipient.delivery {
            case .push(_, let ca):
                if let pem = readFile(ca, what: "\(path).delivery.ca", &reader), (try? Certificate.parsePEM(pem))?.isEmpty ?? true {
                    reader.problem("\(path).delivery.ca", "\(ca) holds no PEM certificate")
                }
            case .pull(let partnerID):
                guard let partner = configuration.partners.first(where: { $0.id == partnerID }) else {
                    reader.problem("\(path).delivery.partner", "there is no partner \(partnerID)")
                    continue
                }
                if !partner.roles.contains(.receive) {
                    reader.problem("\(path).delivery.partner", "partner \(partnerID) needs the receive role to pull a mailbox")
                }
            }
        }
    }

    private static func checkStore(_ store: Configuration.StoreFiles, _ reader: inout ConfigurationReader) {
        for (file, what) in [(store.path, "store.path"), (store.keysPath, "store.keysPath")] {
            let folder = (file as NSString).deletingLastPathComponent
            let directory = folder.isEmpty ? "." : folder
            if !FileManager.default.isWritableFile(atPath: directory) {
                reader.problem(what, "the folder \(directory) is not writable")
            } else if FileManager.default.fileExists(atPath: file) && !FileManager.default.isWritableFile(atPath: file) {
                reader.problem(what, "\(file) is not writable")
            }
        }
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
            if let value = int("maxConnectionsPerPartner", 1...1_000_000) { server.maxConnectionsPerPartner = value }
            if let value = int("maxHandshakes", 1...1_000_000) { server.maxHandshakes = value }
            if let value = int("maxHandshakesPerAddress", 1...1_000_000) { server.maxHandshakesPerAddress = value }
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
        let recipients = decodeRecipients(reader.array(root, "recipients", at: "", required: false), resolve: resolve, &reader)
        let schemas = resolve(reader.string(root, "schemas", at: "", required: false)) ?? defaultSchemas
        let storeObject = reader.object(root["store"], at: "store", allowed: storeKeys)
        let storePath = resolve(reader.string(storeObject, "path", at: "store"))
        let keysPath = resolve(reader.string(storeObject, "keysPath", at: "store", required: false))
        let masterKey = resolve(reader.string(root, "masterKey", at: ""))
        var log = Configuration.LogSettings()
        if let object = reader.object(root["log"], at: "log", allowed: ["signingKey", "checkpointEveryEntries", "checkpointEverySeconds"], required: false) {
            log.signingKey = resolve(reader.string(object, "signingKey", at: "log", required: false))
            if let value = reader.integer(object, "checkpointEveryEntries", at: "log", range: 1...10_000_000) { log.checkpointEveryEntries = value }
            if let value = reader.integer(object, "checkpointEverySeconds", at: "log", range: 1...86_400) { log.checkpointEverySeconds = value }
        }
        var retention = Configuration.RetentionSettings()
        if let object = reader.object(root["retention"], at: "retention", allowed: ["referralsDays", "consentsDays", "logDays", "runEveryMinutes"], required: false) {
            retention.referralsDays = reader.integer(object, "referralsDays", at: "retention", range: 1...36_500)
            retention.consentsDays = reader.integer(object, "consentsDays", at: "retention", range: 1...36_500)
            retention.logDays = reader.integer(object, "logDays", at: "retention", range: 1...36_500)
            if let value = reader.integer(object, "runEveryMinutes", at: "retention", range: 1...10_080) { retention.runEveryMinutes = value }
            if let log = retention.logDays, let longest = [retention.referralsDays, retention.consentsDays].compactMap({ $0 }).max(), log < longest {
                reader.problem("retention.logDays", "must be at least as long as the other retention periods: the log accounts for what they removed")
            }
        }
        var delivery: Configuration.DeliverySettings?
        if let object = reader.object(root["delivery"], at: "delivery", allowed: deliverySettingKeys, required: false) {
            let certificatePath = resolve(reader.string(object, "clientCertificate", at: "delivery")) ?? ""
            let keyPath = resolve(reader.string(object, "clientKey", at: "delivery")) ?? ""
            var settings = Configuration.DeliverySettings(clientCertificate: certificatePath, clientKey: keyPath)
            func number(_ key: String, _ range: ClosedRange<Int64>, _ target: inout Int64) {
                if let value = reader.integer(object, key, at: "delivery", range: range) { target = value }
            }
            number("connectTimeoutSeconds", 1...86_400, &settings.connectTimeoutSeconds)
            number("timeoutSeconds", 1...86_400, &settings.timeoutSeconds)
            number("maxAgeSeconds", 1...31_536_000, &settings.maxAgeSeconds)
            number("backoffBaseMilliseconds", 10...600_000, &settings.backoffBaseMilliseconds)
            number("backoffMaxSeconds", 1...86_400, &settings.backoffMaxSeconds)
            number("concurrency", 1...64, &settings.concurrency)
            number("circuitFailures", 1...1000, &settings.circuitFailures)
            number("circuitOpenSeconds", 1...86_400, &settings.circuitOpenSeconds)
            number("pollIntervalMilliseconds", 10...60_000, &settings.pollIntervalMilliseconds)
            delivery = settings
        }

        guard let listen, let ops, let certificate, let privateKey, let clientCA, let storePath, let masterKey else { return nil }
        return Configuration(
            path: path, listen: listen, ops: ops,
            tls: .init(certificate: certificate, privateKey: privateKey, clientCA: clientCA, crl: crl),
            server: server, logLevel: logLevel, partners: partners, recipients: recipients, schemas: schemas,
            store: .init(path: storePath, keysPath: keysPath ?? defaultKeysPath(storePath)), masterKey: masterKey, delivery: delivery,
            log: log, retention: retention
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
                    let subjectText = reader.string(entry, "subject", at: certificatePath)
                    let issuerText = reader.string(entry, "issuer", at: certificatePath)
                    func name(_ text: String?, _ key: String) -> DistinguishedName? {
                        guard let text, !text.isEmpty else { return nil }
                        do {
                            return try DistinguishedName(rfc4514: text)
                        } catch {
                            reader.problem("\(certificatePath).\(key)", "is not an RFC 4514 distinguished name: \(error)")
                            return nil
                        }
                    }
                    if let subject = name(subjectText, "subject"), let issuer = name(issuerText, "issuer") {
                        match = .subjectAndIssuer(subject: subject, issuer: issuer, issuerCertificate: nil)
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

    /// Binds every subject mapping to the one `tls.clientCA` certificate its issuer names, by that
    /// certificate's fingerprint; a mapping whose issuer names none, or several, is a problem.
    static func resolveIssuers(_ partners: [Partner], clientCAs: [Certificate], _ reader: inout ConfigurationReader) -> [Partner] {
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
                    reader.problem(
                        path,
                        "\(issuer) is not the subject of any tls.clientCA certificate: a subject mapping must name the client CA certificate that issues the partner's certificate (or map the certificate by sha256)"
                    )
                default:
                    reader.problem(
                        path,
                        "\(issuer) is the subject of \(namesakes.count) tls.clientCA certificates: a name cannot say which CA vouches for the partner; map the certificate by sha256, or keep one CA of that name"
                    )
                }
                return match
            }
            return partner
        }
    }

    /// `refex.db` → `refex-keys.db`.
    static func defaultKeysPath(_ storePath: String) -> String {
        let ext = (storePath as NSString).pathExtension
        let base = ext.isEmpty ? storePath : String(storePath.dropLast(ext.count + 1))
        return ext.isEmpty ? "\(base)-keys" : "\(base)-keys.\(ext)"
    }

    private static func decodeRecipients(_ items: [JSONValue]?, resolve: (String?) -> String?, _ reader: inout ConfigurationReader) -> [Recipient] {
        guard let items else { return [] }
        var recipients: [Recipient] = []
        var seen: Set<String> = []
        for (index, item) in items.enumerated() {
            let path = "recipients[\(index)]"
            guard let object = reader.object(item, at: path, allowed: recipientKeys) else { continue }
            let id = reader.string(object, "id", at: path) ?? ""
            if !id.isEmpty && !isIdentifier(id) {
                reader.problem("\(path).id", "must be 1-64 characters: lower-case letters, digits and hyphens")
            }
            if !id.isEmpty && !seen.insert(id).inserted { reader.problem("\(path).id", "recipient \(id) is listed twice") }
            let name = reader.string(object, "name", at: path) ?? ""
            let services = Set((reader.array(object, "services", at: path) ?? []).compactMap(\.stringValue))
            let fields = (reader.array(object, "fields", at: path) ?? []).compactMap(\.stringValue)
            for (fieldIndex, field) in fields.enumerated() where (try? JSONPointer(parsing: field)) == nil || field.isEmpty {
                reader.problem("\(path).fields[\(fieldIndex)]", "is not a JSON Pointer (RFC 6901), e.g. /subject/name")
            }
            let categories = Set((reader.array(object, "categories", at: path, required: false) ?? []).compactMap(\.stringValue))
            let deliveryPath = "\(path).delivery"
            guard let delivery = reader.object(object["delivery"], at: deliveryPath, allowed: deliveryKeys) else { continue }
            let mode: DeliveryMode
            switch reader.string(delivery, "mode", at: deliveryPath) {
            case "push":
                let endpoint = reader.string(delivery, "endpoint", at: deliveryPath) ?? ""
                if !endpoint.isEmpty && !(endpoint.hasPrefix("https://") && URL(string: endpoint)?.host != nil) {
                    reader.problem("\(deliveryPath).endpoint", "must be an https:// URL")
                }
                let ca = resolve(reader.string(delivery, "ca", at: deliveryPath)) ?? ""
                mode = .push(endpoint: endpoint, caPath: ca)
            case "pull":
                mode = .pull(partnerID: reader.string(delivery, "partner", at: deliveryPath) ?? "")
            case let other:
                if other != nil { reader.problem("\(deliveryPath).mode", "must be push or pull") }
                continue
            }
            recipients.append(Recipient(id: id, name: name, services: services, fields: fields, categories: categories, delivery: mode))
        }
        return recipients
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
            } else {
                let problems = try TLSServerContext.anchorProblems(clientCAPEM: caPEM)
                for problem in problems { reader.problem("tls.clientCA", problem) }
                if !problems.isEmpty { usable = false }
            }
        } catch {
            reader.problem("tls.clientCA", "\(error)")
            usable = false
        }
        if let crlPEM {
            do {
                let problems = try TLSServerContext.revocationProblems(clientCAPEM: caPEM, crlPEM: crlPEM, now: Date())
                for problem in problems { reader.problem("tls.crl", problem) }
                if !problems.isEmpty { usable = false }
            } catch {
                reader.problem("tls.crl", "\(error)")
                usable = false
            }
        }
        guard usable else { return nil }
        do {
            let context = try TLSServerContext(TLSServerConfiguration(
                certificateChainPEM: certificatePEM, privateKeyPEM: keyPEM, clientCAPEM: caPEM, crlPEM: crlPEM
            ))
            if let nextUpdate = context.crlNextUpdate, nextUpdate < Date() {
                reader.problem("tls.crl", "the CRL expired on \(nextUpdate) (its next update): every client certificate would be refused; install a fresh CRL")
                return nil
            }
            return context
        } catch let error as TLSError {
            reader.problem(error.setting ?? "tls", "\(error)")
            return nil
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
