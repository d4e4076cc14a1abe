import Exchange
import Foundation
import HTTP
import Logging
import Server

/// refex's configuration, as read from its JSON file (see README, "Configuration").
/// Relative paths are resolved against the config file's folder. Each section's type reads its
/// own section (`Configuration+Log.swift`, `Partner+Configuration.swift`, …) from a document the
/// config schema has checked (`ConfigurationSchema`); `ConfigurationLoader` loads what it names.
package struct Configuration: Sendable {
    /// The config file this came from.
    package var path: String
    /// The mutual-TLS listener for partners.
    package var listen: ListenAddress
    /// The plain-HTTP loopback listener for /healthz, /readyz and /metrics.
    package var ops: ListenAddress
    package var tls: TLSFiles
    package var server: ServerConfiguration
    package var logLevel: Logger.Level
    package var partners: [Partner]
    package var recipients: [Recipient]
    /// The folder of JSON Schemas.
    package var schemas: String
    package var store: StoreSettings
    /// The master key file; `$CREDENTIALS_DIRECTORY/master-key` is used instead when present.
    package var masterKey: String
    package var delivery: DeliverySettings?
    package var log: LogSettings
    package var retention: RetentionSettings
    package var console = ConsoleSettings()
}
