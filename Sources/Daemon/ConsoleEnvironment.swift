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

    /// The events the console counts by day (the overview's and the charts').
    package static let countedEvents: [LogEvent] = [.referralReceived, .disclosureAuthorised, .disclosureWithheld, .disclosureFailed, .disclosureDelivered]

    /// Counts of whole past days, by time zone and day: the log only grows, so a day that has
    /// ended keeps its counts (retention prunes whole old days, which the pages still count as
    /// they were). Today is always read afresh.
    private let pastDays = Mutex<(zone: String, days: [Int64: [LogEventCount]])>(("", [:]))
    /// The store's counts (`Exchange.snapshot`), kept for a few seconds: disclosures by state are
    /// counted over the whole table.
    private let snapshotCache = Mutex<(at: UInt64, value: ExchangeSnapshot)?>(nil)

    /// The daily counts of `countedEvents` from local day `firstDay` to `lastDay` (day numbers
    /// in `time`'s zone), whole past days from memory, the rest from the store.
    package func dailyCounts(_ exchange: Exchange, time: LocalTime, firstDay: Int64, lastDay: Int64, now: Timestamp) async throws -> [LogEventCount] {
        let today = time.dayNumber(now)
        let zone = time.identifier
        let known = pastDays.withLock { cache -> [Int64: [LogEventCount]] in
            if cache.zone != zone { cache = (zone, [:]) }
            return cache.days
        }
        var ranges: [(day: Int64, since: Timestamp, until: Timestamp)] = []
        for day in firstDay...max(firstDay, lastDay) where known[day] == nil || day >= today {
            guard let since = time.startOfDay(LocalTime.isoDate(dayNumber: day)),
                  let until = time.startOfDay(LocalTime.isoDate(dayNumber: day + 1)) else { continue }
            ranges.append((day, since, until))
        }
        let fresh = try await exchange.logEventCounts(days: ranges, events: Self.countedEvents)
        var byDay: [Int64: [LogEventCount]] = [:]
        for range in ranges { byDay[range.day] = [] }
        for count in fresh { byDay[count.day, default: []].append(count) }
        pastDays.withLock { cache in
            guard cache.zone == zone else { return }
            if cache.days.count > 5000 { cache.days = [:] }
            for (day, counts) in byDay where day < today { cache.days[day] = counts }
        }
        var out: [LogEventCount] = []
        for day in firstDay...max(firstDay, lastDay) { out += byDay[day] ?? known[day] ?? [] }
        return out
    }

    /// `Exchange.snapshot`, at most `maxAge` old.
    package func snapshot(_ exchange: Exchange, maxAge: Duration = .seconds(5)) async throws -> ExchangeSnapshot {
        let now = MonotonicClock.now()
        let limit = UInt64(maxAge.components.seconds) * 1_000_000_000
        if let cached = snapshotCache.withLock({ $0 }), now &- cached.at < limit { return cached.value }
        let value = try await exchange.snapshot()
        snapshotCache.withLock { $0 = (now, value) }
        return value
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
