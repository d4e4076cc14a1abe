import Crypto
import Exchange
import Foundation
import JSON
import JSONSchema
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
    /// What is worth a second look but not an error (with `checkDisclosures`: a service given
    /// to more than one recipient), each naming the settings it is about.
    package var notices: [String] = []
}

/// A configuration as host commands (`refex log`, `subject`, `outbox`, `retention`) load it.
package struct HostConfiguration: Sendable {
    package var configuration: Configuration
    package var catalog: SchemaCatalog
    package var masterKey: SymmetricKey
    package var logSigningKey: Ed25519PrivateKey?
}

/// Loads a config file and everything it names, checking each: `refex config check`, start-up
/// and SIGHUP use it. Reading files is `ConfigurationFiles` and `Credentials`; what the document
/// may hold is the config schema's (`ConfigurationSchema`); what it means is each section type's
/// (`Configuration(document:…)`); this puts them together and checks what the files hold (keys
/// against certificates, the CA bundle and CRL, the store's folder).
package enum ConfigurationLoader {
    /// The schemas every refex needs, the config's own among them.
    static let requiredSchemas = [
        "urn:refex:schema:referral:1", "urn:refex:schema:consent:1", "urn:refex:schema:override:1", ConfigurationSchema.id,
    ]

    /// Where `make install` put the schemas beside the running binary (`/usr/share/refex/schemas`
    /// for a binary that is not installed).
    package static var defaultSchemas: String { InstallLayout.schemas }

    /// Loads and checks `path`; throws `ConfigurationError` listing every problem.
    /// `checkDisclosures` (`refex config check`): also refuse a recipient's `fields` pointer that no
    /// referral schema can produce and a category none marks, and give notices.
    package static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment, checkDisclosures: Bool = false
    ) throws -> LoadedConfiguration {
        var problems = ConfigurationProblems()
        guard let document = ConfigurationFiles.document(path, &problems) else { throw ConfigurationError(path: path, problems: problems.lines) }
        let catalog = loadCatalog(for: document, path: path, &problems)
        let decoded = Configuration(document: document, path: path, schema: catalog.flatMap(ConfigurationSchema.init(catalog:)), &problems)
        guard var configuration = decoded else { throw ConfigurationError(path: path, problems: problems.lines) }
        let tlsContext = loadTLS(configuration.tls, environment: environment, &problems)
        if let tlsContext {
            configuration.partners = resolveIssuers(configuration.partners, clientCAs: tlsContext.clientCAs, &problems)
        }
        let masterKey = loadMasterKey(configuration.masterKey, environment: environment, &problems)
        checkRecipientCAs(document, path: path, &problems)
        configuration.store = checkStore(configuration.store, environment: environment, &problems)
        let deliveryCredentials = loadDeliveryCredentials(configuration, environment: environment, &problems)
        let logSigningKey = loadLogSigningKey(configuration.log, environment: environment, &problems)
        var notices: [String] = []
        if checkDisclosures, let catalog, let root = ConfigurationSection(document, path: "", folder: "") {
            notices = RecipientDisclosureCheck.check(root, shape: ReferralSchemaShape(catalog: catalog), &problems)
        }
        guard problems.isEmpty, let tlsContext, let catalog, let masterKey else { throw ConfigurationError(path: path, problems: problems.lines) }
        return LoadedConfiguration(
            configuration: configuration, tlsContext: tlsContext, partners: PartnerDirectory(configuration.partners),
            catalog: catalog, masterKey: masterKey, deliveryCredentials: deliveryCredentials, logSigningKey: logSigningKey, notices: notices
        )
    }

    /// What a host command needs, loaded without the TLS context and the delivery credentials:
    /// fast, and usable on a host that only holds the store. The schemas are always read (the
    /// config is checked against its own); `needsCatalog` is kept for the commands that also
    /// validate documents with them.
    package static func loadForHost(
        path: String, needsCatalog: Bool, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> HostConfiguration {
        var problems = ConfigurationProblems()
        guard let document = ConfigurationFiles.document(path, &problems) else { throw ConfigurationError(path: path, problems: problems.lines) }
        let catalog = loadCatalog(for: document, path: path, &problems)
        let decoded = Configuration(document: document, path: path, schema: catalog.flatMap(ConfigurationSchema.init(catalog:)), &problems)
        guard var configuration = decoded else { throw ConfigurationError(path: path, problems: problems.lines) }
        configuration.store = loadStoreCredentials(configuration.store, environment: environment, &problems)
        let masterKey = loadMasterKey(configuration.masterKey, environment: environment, &problems)
        let logSigningKey = loadLogSigningKey(configuration.log, environment: environment, &problems)
        guard problems.isEmpty, let catalog, let masterKey else { throw ConfigurationError(path: path, problems: problems.lines) }
        return HostConfiguration(
            configuration: configuration, catalog: needsCatalog ? catalog : .empty, masterKey: masterKey, logSigningKey: logSigningKey
        )
    }

    /// The schemas the document names (`schemas`, else the installed ones), which hold the
    /// config's own schema: read before the document can be checked.
    private static func loadCatalog(for document: JSONValue, path: String, _ problems: inout ConfigurationProblems) -> SchemaCatalog? {
        let root = ConfigurationSection(document, path: "", folder: (path as NSString).deletingLastPathComponent)
        if let named = root?.object["schemas"], (named.stringValue ?? "").isEmpty {
            // The schema would say so, but it is in the folder this should have named.
            problems.add("schemas", "must name a folder; the installed schemas are used to check the rest")
        }
        let folder = Configuration.schemasFolder(root)
        do {
            let catalog = try SchemaCatalog(folder: folder)
            for required in requiredSchemas where catalog.schema(required) == nil {
                problems.add("schemas", "\(folder) has no schema \(required)")
            }
            return catalog
        } catch {
            problems.add("schemas", "\(error)")
            return nil
        }
    }

    private static func loadLogSigningKey(
        _ settings: Configuration.LogSettings, environment: [String: String], _ problems: inout ConfigurationProblems
    ) -> Ed25519PrivateKey? {
        guard settings.signingKey != nil || Credentials.isPassed("log-signing-key", environment: environment) else { return nil }
        guard let bytes = Credentials.read(
            "log-signing-key", fallbackPath: settings.signingKey, setting: "log.signingKey", environment: environment, &problems
        ) else { return nil }
        do {
            return try Ed25519PrivateKey(pem: bytes)
        } catch {
            problems.add("log.signingKey", "not an Ed25519 private key in PEM (make one with: refex keys generate FILE)")
            return nil
        }
    }

    private static func loadMasterKey(_ path: String, environment: [String: String], _ problems: inout ConfigurationProblems) -> SymmetricKey? {
        guard let bytes = Credentials.read("master-key", fallbackPath: path, setting: "masterKey", environment: environment, &problems) else {
            return nil
        }
        guard let key = Keyring.parseMasterKey(bytes) else {
            problems.add("masterKey", "must hold 32 bytes, or 64 hexadecimal digits (make one with: openssl rand -hex 32)")
            return nil
        }
        return key
    }

    private static func loadDeliveryCredentials(
        _ configuration: Configuration, environment: [String: String], _ problems: inout ConfigurationProblems
    ) -> (certificate: [UInt8], key: [UInt8])? {
        let pushes = configuration.recipients.contains { if case .push = $0.delivery { return true } else { return false } }
        guard let settings = configuration.delivery else {
            if pushes && !problems.names("delivery") {
                problems.add("delivery", "push recipients are configured: give refex's client certificate and key here")
            }
            return nil
        }
        guard let certificate = ConfigurationFiles.read(settings.clientCertificate, setting: "delivery.clientCertificate", &problems),
              let key = Credentials.read(
                  "delivery-key", fallbackPath: settings.clientKey, setting: "delivery.clientKey", environment: environment, &problems
              ) else {
            return nil
        }
        do {
            guard let leaf = try Certificate.parsePEM(certificate).first else {
                problems.add("delivery.clientCertificate", "\(settings.clientCertificate) holds no PEM certificate")
                return nil
            }
            if try !privateKey(key, matches: leaf) {
                problems.add("delivery.clientKey", "does not match the delivery client certificate")
                return nil
            }
            if leaf.notAfter < Date() { problems.add("delivery.clientCertificate", "expired on \(leaf.notAfter)") }
        } catch {
            problems.add("delivery.clientKey", "\(error)")
            return nil
        }
        return (certificate, key)
    }

    /// Each push recipient's CA file holds a certificate (read from the document, so that each
    /// problem names the recipient by its index even when another could not be decoded).
    private static func checkRecipientCAs(_ document: JSONValue, path: String, _ problems: inout ConfigurationProblems) {
        let root = ConfigurationSection(document, path: "", folder: (path as NSString).deletingLastPathComponent)
        for recipient in root?.sections("recipients") ?? [] {
            guard let delivery = recipient.section("delivery"), !problems.names(delivery.path), delivery.string("mode") == "push",
                  let ca = delivery.file("ca") else { continue }
            if let pem = ConfigurationFiles.read(ca, setting: delivery.setting("ca"), &problems), (try? Certificate.parsePEM(pem))?.isEmpty ?? true {
                problems.add(delivery.setting("ca"), "\(ca) holds no PEM certificate")
            }
        }
    }

    /// The store's folder must be writable (SQLite); a PostgreSQL store gets its credentials.
    private static func checkStore(
        _ store: Configuration.StoreSettings, environment: [String: String], _ problems: inout ConfigurationProblems
    ) -> Configuration.StoreSettings {
        guard case .sqlite(let files) = store else { return loadStoreCredentials(store, environment: environment, &problems) }
        checkStoreFiles(files, &problems)
        return store
    }

    /// A PostgreSQL store's secrets, from systemd credentials: the password (`postgres-password`)
    /// and the client key (`postgres-client-key`, given to libpq as `sslkey`). Neither is
    /// required: a passfile, a certificate alone or a trusted local socket may do instead.
    static func loadStoreCredentials(
        _ store: Configuration.StoreSettings, environment: [String: String], _ problems: inout ConfigurationProblems
    ) -> Configuration.StoreSettings {
        guard case .postgres(var settings) = store else { return store }
        if Credentials.isPassed("postgres-password", environment: environment),
           let bytes = Credentials.read("postgres-password", fallbackPath: nil, setting: "store.postgres", environment: environment, &problems) {
            var text = String(decoding: bytes, as: UTF8.self)
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            if text.isEmpty || text.contains("\n") || text.contains("\0") {
                problems.add("credential postgres-password", "must hold the password on one line")
            } else {
                settings.password = Configuration.PostgresPassword(text)
            }
        }
        if let directory = environment["CREDENTIALS_DIRECTORY"], Credentials.isPassed("postgres-client-key", environment: environment) {
            settings.clientKeyPath = "\(directory)/postgres-client-key"
        }
        if !PostgresSupport.isBuilt {
            problems.add("store.postgres", "this build of refex has no PostgreSQL store; use store.path (SQLite)")
        }
        return .postgres(settings)
    }

    private static func checkStoreFiles(_ store: Configuration.StoreFiles, _ problems: inout ConfigurationProblems) {
        for (file, setting) in [(store.path, "store.path"), (store.keysPath, "store.keysPath")] {
            let folder = (file as NSString).deletingLastPathComponent
            let directory = folder.isEmpty ? "." : folder
            if !FileManager.default.isWritableFile(atPath: directory) {
                problems.add(setting, "the folder \(directory) is not writable")
            } else if FileManager.default.fileExists(atPath: file) && !FileManager.default.isWritableFile(atPath: file) {
                problems.add(setting, "\(file) is not writable")
            }
        }
    }
}
