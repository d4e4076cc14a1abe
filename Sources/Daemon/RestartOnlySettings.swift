import HTTP
import Server

/// The settings a SIGHUP reload cannot apply: they shape what was built at start (listeners,
/// event loops, the store, the logger, the delivery service, the maintenance schedule).
enum RestartOnlySettings {
    /// The config keys (as written in the file, e.g. `limits.maxBodyBytes`) whose value differs
    /// between `old` and `new` but take effect only on restart; empty when none changed.
    static func changed(from old: Configuration, to new: Configuration) -> [String] {
        var keys: [String] = []
        func check<Value: Equatable>(_ key: String, _ value: (Configuration) -> Value) {
            if value(old) != value(new) { keys.append(key) }
        }
        check("listen") { $0.listen }
        check("ops") { $0.ops }
        check("logLevel") { $0.logLevel }
        check("limits.maxBodyBytes") { $0.server.parserLimits.maxBodyBytes }
        check("limits.maxHeaderBytes") { $0.server.parserLimits.maxHeaderBytes }
        check("limits.maxHeaderCount") { $0.server.parserLimits.maxHeaderCount }
        check("limits.maxTargetBytes") { $0.server.parserLimits.maxTargetBytes }
        check("limits.maxConnections") { $0.server.maxConnections }
        check("limits.maxConnectionsPerPartner") { $0.server.maxConnectionsPerPartner }
        check("limits.maxHandshakes") { $0.server.maxHandshakes }
        check("limits.maxHandshakesPerAddress") { $0.server.maxHandshakesPerAddress }
        check("limits.handshakeTimeoutSeconds") { $0.server.handshakeTimeout }
        check("limits.headerTimeoutSeconds") { $0.server.headerTimeout }
        check("limits.bodyTimeoutSeconds") { $0.server.bodyTimeout }
        check("limits.idleTimeoutSeconds") { $0.server.idleTimeout }
        check("limits.writeTimeoutSeconds") { $0.server.writeTimeout }
        check("limits.drainTimeoutSeconds") { $0.server.drainTimeout }
        check("limits.eventLoops") { $0.server.eventLoops }
        check("schemas") { $0.schemas }
        check("store.path") { $0.store.files?.path }
        check("store.keysPath") { $0.store.files?.keysPath }
        check("store.postgres") { Self.postgres($0)?.connection }
        check("store.postgresKeys") { Self.postgres($0)?.keysConnection }
        check("store.poolSize") { Self.postgres($0)?.poolSize }
        check("store.nodeId") { Self.postgres($0)?.nodeID }
        check("masterKey") { $0.masterKey }
        check("delivery") { $0.delivery }
        check("log") { $0.log }
        check("retention") { $0.retention }
        return keys
    }

    private static func postgres(_ configuration: Configuration) -> Configuration.PostgresSettings? {
        if case .postgres(let settings) = configuration.store { settings } else { nil }
    }
}
