import Console
import Crypto
import Exchange
import Foundation
import Server
import Synchronization

/// What the console's routes need beyond the exchange: the settings of the running config
/// (replaced on reload), the TLS context for its warnings, the partner certificates seen, the
/// form tokens' key, and the newest log verification found in the log.
package final class ConsoleEnvironment: Sendable {
    /// The parts of the config the console shows or uses.
    package struct Settings: Sendable {
        package var partners: [Partner]
        package var time: LocalTime
        package var fieldNames: FieldNames
        package var controllerName: String
        package var retention: RetentionPolicy

        package init(partners: [Partner], time: LocalTime, fieldNames: FieldNames, controllerName: String, retention: RetentionPolicy) {
            self.partners = partners
            self.time = time
            self.fieldNames = fieldNames
            self.controllerName = controllerName
            self.retention = retention
        }

        package init(_ configuration: Configuration) {
            self.init(
                partners: configuration.partners, time: LocalTime(identifier: configuration.console.timeZone) ?? .london,
                fieldNames: FieldNames(folder: configuration.schemas), controllerName: configuration.console.controllerName,
                retention: configuration.retention.policy
            )
        }
    }

    private let current: Mutex<Settings>
    package let tokens: CSRFTokens
    package let tls: TLSContextHolder?
    package let partnerCertificates: PartnerCertificateExpiry?
    package let publicKey: Ed25519PublicKey?
    /// The recipients whose delivery circuit is open now.
    package let openCircuits: @Sendable () -> Set<String>
    /// The newest verification recorded in the log, and the head it was looked for up to.
    private let verification = Mutex<(scannedThrough: Int64?, found: RecordedVerification?)>((nil, nil))

    package init(
        settings: Settings, tokens: CSRFTokens = CSRFTokens(), tls: TLSContextHolder? = nil,
        partnerCertificates: PartnerCertificateExpiry? = nil, publicKey: Ed25519PublicKey? = nil,
        openCircuits: @escaping @Sendable () -> Set<String> = { [] }
    ) {
        self.openCircuits = openCircuits
        current = Mutex(settings)
        self.tokens = tokens
        self.tls = tls
        self.partnerCertificates = partnerCertificates
        self.publicKey = publicKey
    }

    package var settings: Settings { current.withLock { $0 } }

    /// Swaps in a reloaded config's settings.
    package func replace(_ configuration: Configuration) {
        var settings = Settings(configuration)
        current.withLock { old in
            // Retention takes effect on restart only: show the one in force.
            settings.retention = old.retention
            old = settings
        }
    }

    /// The newest verification the log records: read from the log (where each verification is
    /// kept, as a `log.viewed` entry), looking only at entries newer than those already read.
    package func lastVerification(_ exchange: Exchange) async throws -> RecordedVerification? {
        let (scanned, known) = verification.withLock { $0 }
        let (found, head) = try await exchange.recordedVerification(after: scanned)
        return verification.withLock { state in
            if let found, found.seq > (state.found?.seq ?? 0) { state.found = found }
            if let head, head > (state.scannedThrough ?? 0) { state.scannedThrough = head }
            return state.found ?? known
        }
    }
}
