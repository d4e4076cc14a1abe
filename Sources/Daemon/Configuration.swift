import Exchange
import Foundation
import HTTP
import Logging
import Server

/// refex's configuration, as read from its JSON file (see README, "Configuration").
/// Relative paths are resolved against the config file's folder.
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
    package var store: StoreFiles
    /// The master key file; `$CREDENTIALS_DIRECTORY/master-key` is used instead when present.
    package var masterKey: String
    package var delivery: DeliverySettings?
    package var log: LogSettings
    package var retention: RetentionSettings

    /// The `log` section: the checkpoint signing key and how often to sign.
    package struct LogSettings: Sendable, Hashable {
        /// `$CREDENTIALS_DIRECTORY/log-signing-key` is used instead when present.
        package var signingKey: String?
        package var checkpointEveryEntries: Int64 = 1000
        package var checkpointEverySeconds: Int64 = 300
    }

    /// The `retention` section, in days (nil: kept for ever).
    package struct RetentionSettings: Sendable, Hashable {
        package var referralsDays: Int64?
        package var consentsDays: Int64?
        package var logDays: Int64?
        package var runEveryMinutes: Int64 = 60

        package var policy: RetentionPolicy {
            RetentionPolicy(
                referrals: referralsDays.map { .seconds($0 * 86_400) }, consents: consentsDays.map { .seconds($0 * 86_400) },
                log: logDays.map { .seconds($0 * 86_400) }
            )
        }
    }

    /// The `delivery` section (see the README).
    package struct DeliverySettings: Sendable, Hashable {
        package var clientCertificate: String
        /// `$CREDENTIALS_DIRECTORY/delivery-key` is used instead when present.
        package var clientKey: String
        package var connectTimeoutSeconds: Int64 = 5
        package var timeoutSeconds: Int64 = 30
        package var maxAgeSeconds: Int64 = 86_400
        package var backoffBaseMilliseconds: Int64 = 1000
        package var backoffMaxSeconds: Int64 = 300
        package var concurrency: Int64 = 2
        package var circuitFailures: Int64 = 5
        package var circuitOpenSeconds: Int64 = 30
        package var pollIntervalMilliseconds: Int64 = 250
    }

    package struct StoreFiles: Sendable, Hashable {
        package var path: String
        package var keysPath: String
    }

    package struct TLSFiles: Sendable, Hashable {
        package var certificate: String
        /// Read from `$CREDENTIALS_DIRECTORY/tls-key` instead when systemd passes that credential.
        package var privateKey: String
        package var clientCA: String
        package var crl: String?
    }
}
