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
    /// The store's counts (`Exchange.snapshot`): cheap (kept by the store as they change), read
    /// again in the background as the retention reading is, not by the page that finds them old.
    private let snapshotCache = BackgroundRefreshed<ExchangeSnapshot>()
    /// What retention purges next: the earliest last referral of a subject still held is a
    /// reading in proportion to the referrals, so it is kept as the counts are.
    private let retentionCache = BackgroundRefreshed<RetentionStatus>()

    /// The daily counts of `countedEvents` from local day `firstDay` to `lastDay` (day numbers
    /// in `time`'s zone): whole past days from memory once read; today from memory plus what
    /// was appended since (read by seq), so that a page costs the entries added since the last.
    package func dailyCounts(_ exchange: Exchange, time: LocalTime, firstDay: Int64, lastDay: Int64, now: Timestamp) async throws -> [LogEventCount] {
        if let warmUp = warming.withLock({ $0 }) { await warmUp.value }
        return try await readDailyCounts(exchange, time: time, firstDay: firstDay, lastDay: lastDay, now: now)
    }

    private func readDailyCounts(_ exchange: Exchange, time: LocalTime, firstDay: Int64, lastDay: Int64, now: Timestamp) async throws -> [LogEventCount] {
        let today = time.dayNumber(now)
        let zone = time.identifier
        let known = pastDays.withLock { cache -> [Int64: [LogEventCount]] in
            if cache.zone != zone { cache = (zone, [:]) }
            return cache.days
        }
        let todaySoFar = todayCache.withLock { $0 }.flatMap { $0.zone == zone ? $0 : nil }
        func range(_ day: Int64) -> (day: Int64, since: Timestamp, until: Timestamp)? {
            guard let since = time.startOfDay(LocalTime.isoDate(dayNumber: day)),
                  let until = time.startOfDay(LocalTime.isoDate(dayNumber: day + 1)) else { return nil }
            return (day, since, until)
        }
        let days = Array(firstDay...max(firstDay, lastDay))
        var byDay: [Int64: [LogEventCount]] = [:]
        let missing = days.filter { $0 < today && known[$0] == nil }.compactMap(range)
        if !missing.isEmpty {
            for day in missing { byDay[day.day] = [] }
            for count in try await exchange.logEventCounts(days: missing, events: Self.countedEvents).counts {
                byDay[count.day, default: []].append(count)
            }
            pastDays.withLock { cache in
                guard cache.zone == zone else { return }
                if cache.days.count > 5000 { cache.days = [:] }
                for (day, counts) in byDay { cache.days[day] = counts }
            }
        }
        if days.contains(today), let todayRange = range(today) {
            let carried = todaySoFar?.day == today ? todaySoFar : nil
            let (fresh, head) = try await exchange.logEventCounts(days: [todayRange], afterSeq: carried?.through, events: Self.countedEvents)
            let merged = Self.merged((carried?.counts ?? []) + fresh)
            byDay[today] = merged
            todayCache.withLock { cache in
                // Keep the newer of two readings made at once.
                if let cache, cache.zone == zone, cache.day == today, (cache.through ?? 0) > (head ?? 0) { return }
                cache = (zone, today, head, merged)
            }
        }
        var out: [LogEventCount] = []
        for day in days { out += byDay[day] ?? known[day] ?? [] }
        return out
    }

    /// Today's counts and the head they were counted up to.
    private let todayCache = Mutex<(zone: String, day: Int64, through: Int64?, counts: [LogEventCount])?>(nil)

    /// One count per day, event, recipient and basis.
    static func merged(_ counts: [LogEventCount]) -> [LogEventCount] {
        var order: [LogEventCount] = []
        var index: [LogEventCount: Int] = [:]
        for count in counts {
            var key = count
            key.count = 0
            if let at = index[key] {
                order[at].count += count.count
            } else {
                index[key] = order.count
                order.append(count)
            }
        }
        return order
    }

    /// The reading of what the overview shows started at the daemon's start, if any: a page
    /// that comes while it runs waits for it instead of reading the same days again beside it.
    private let warming = Mutex<Task<Void, Never>?>(nil)

    /// Starts reading what the overview shows (the last 30 days' counts, the store's counts,
    /// retention) in the background, to have it in memory before the first page asks. A failure
    /// (the store closing at a stop) leaves the first page to read it.
    package func startWarmUp(_ exchange: Exchange) {
        let task = Task.detached(priority: .background) { [self] in
            let time = settings.time
            let now = Timestamp(Date())
            let today = time.dayNumber(now)
            _ = try? await readDailyCounts(exchange, time: time, firstDay: today - 29, lastDay: today, now: now)
            _ = try? await snapshot(exchange)
            _ = try? await retentionStatus(exchange)
        }
        warming.withLock { $0 = task }
    }

    /// `Exchange.snapshot`: read at the first call, then the last reading, which is read again in
    /// the background once `maxAge` old.
    package func snapshot(_ exchange: Exchange, maxAge: Duration = .seconds(5)) async throws -> ExchangeSnapshot {
        try await snapshotCache.value(maxAge: maxAge) { try await exchange.snapshot() }
    }

    /// `Exchange.retentionStatus` for the retention in force, kept as `snapshot` is.
    package func retentionStatus(_ exchange: Exchange, maxAge: Duration = .seconds(30)) async throws -> RetentionStatus {
        let policy = settings.retention
        return try await retentionCache.value(maxAge: maxAge) { try await exchange.retentionStatus(policy) }
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

/// A value read at the first call and then served from memory; once older than the caller's
/// `maxAge`, one call starts a reading in the background and every call meanwhile gets the old
/// value. For readings whose cost grows with the store and whose freshness to the second does
/// not matter (the console's counts): a page never waits for them but the first time.
final class BackgroundRefreshed<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var readAt: UInt64 = 0
        var reading = false
    }

    private let state = Mutex(State())

    func value(maxAge: Duration, _ read: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let now = MonotonicClock.now()
        let limit = UInt64(max(0, maxAge.components.seconds)) * 1_000_000_000
        let (cached, startReading) = state.withLock { state -> (Value?, Bool) in
            guard let value = state.value else { return (nil, false) }
            let start = now &- state.readAt >= limit && !state.reading
            if start { state.reading = true }
            return (value, start)
        }
        guard let cached else {
            let value = try await read()
            store(value, readAt: now)
            return value
        }
        if startReading {
            Task {
                // A failed reading (the store closing, the disk away) leaves the old value, and
                // the next call tries again.
                let value = try? await read()
                self.state.withLock { state in
                    state.reading = false
                    if let value, now >= state.readAt {
                        state.value = value
                        state.readAt = now
                    }
                }
            }
        }
        return cached
    }

    private func store(_ value: Value, readAt: UInt64) {
        state.withLock { state in
            guard state.value == nil || readAt >= state.readAt else { return }
            state.value = value
            state.readAt = readAt
        }
    }
}
