import Exchange
import Foundation
import JSON
import Logging
import Server

extension Configuration {
    /// Decodes a config document without reading any file: checks it against the config schema
    /// (which owns keys, types and ranges), then lets each section's type read its section and
    /// check what the schema cannot (a listener's address, the ops listener on loopback, an id
    /// listed twice, a pull recipient's partner, retention periods against each other).
    ///
    /// Nil when a setting it cannot do without is missing or refused; every problem found, the
    /// schema's first, is in `problems`. `path` is the config file's, against whose folder
    /// relative paths resolve. `schema` is nil only when it could not be loaded (a problem
    /// already listed): the sections are then still read, for what else they can find.
    init?(document: JSONValue, path: String, schema: ConfigurationSchema?, _ problems: inout ConfigurationProblems) {
        schema?.check(document, into: &problems)
        let folder = (path as NSString).deletingLastPathComponent
        guard let root = ConfigurationSection(document, path: "", folder: folder) else {
            if problems.isEmpty { problems.add("", "the config must be a JSON object, not \(document.typeName)") }
            return nil
        }
        func address(_ key: String) -> ListenAddress? {
            guard let text = root.string(key), !problems.names(key) else { return nil }
            return ListenAddress(configured: text, setting: key, &problems)
        }
        let listen = address("listen")
        let ops = address("ops")
        if let ops, !ops.isLoopback {
            problems.add("ops", "must be a loopback address (127.0.0.1 or ::1): it serves metrics without TLS")
        }
        let tls = TLSFiles(section: root.section("tls"))
        let partners = Partner.configured(root.sections("partners"), &problems)
        let recipients = Recipient.configured(root.sections("recipients"), partners: partners, &problems)
        let store = StoreSettings(section: root.section("store"), &problems)
        let retention = RetentionSettings(section: root.section("retention"), &problems)
        let console = ConsoleSettings(section: root.section("console"), &problems)
        guard let listen, let ops, let tls, let store, let masterKey = root.file("masterKey") else { return nil }
        self.init(
            path: path, listen: listen, ops: ops, tls: tls, server: ServerConfiguration(limits: root.section("limits")),
            logLevel: root.string("logLevel").flatMap(Logger.Level.init(name:)) ?? .info, partners: partners, recipients: recipients,
            schemas: Self.schemasFolder(root), store: store, masterKey: masterKey,
            delivery: root.section("delivery").flatMap(DeliverySettings.init(section:)), log: LogSettings(section: root.section("log")),
            retention: retention, console: console
        )
    }

    /// The folder of JSON Schemas a config document names (resolved against the config's
    /// folder), or where `make install` put them: read before the document can be checked,
    /// since the config schema is among them.
    static func schemasFolder(_ root: ConfigurationSection?) -> String {
        root?.file("schemas") ?? InstallLayout.schemas
    }
}
