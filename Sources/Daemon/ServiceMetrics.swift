import Exchange
import Foundation
import Logging
import Metrics
import Server
import Store
import Synchronization
import TLS

/// The metrics a Prometheus user watches refex by (see contrib/prometheus/refex.rules.yml):
/// referrals received, disclosures by state, the log's length and the age of its last signed
/// checkpoint, the store accepting writes, and seconds until the CRL's next update and until
/// the server, delivery and partner certificates expire. Ids and numbers only.
///
/// Store counts are read off the event loops every `refreshInterval`, and after a scrape that
/// found them older than `staleAfter` (so the next scrape sees them fresh); a scrape itself only
/// reads the last values. Times are computed when scraped.
package final class ServiceMetrics: Sendable {
    /// How often the store's counts are read again.
    package static let refreshInterval: Duration = .seconds(15)
    /// A scrape that finds the counts older than this asks for them again.
    static let staleAfter: UInt64 = 1_000_000_000

    private let exchange: Exchange
    private let store: any RefexStore
    private let logger: Logger
    private let latest = LatestSnapshot()
    private let refresher = Mutex<Task<Void, Never>?>(nil)
    private let storeWritable: Gauge
    package let partnerCertificates = PartnerCertificateExpiry()

    package init(
        registry: MetricsRegistry, exchange: Exchange, store: any RefexStore, tls: TLSContextHolder, deliveryCertificatePEM: [UInt8]?,
        logger: Logger
    ) {
        let deliveryCertificateNotAfter = deliveryCertificatePEM.flatMap { try? Certificate.parsePEM($0).first?.notAfter }
        self.exchange = exchange
        self.store = store
        self.logger = logger
        storeWritable = registry.gauge("refex_store_writable", help: "1 while the store commits a write within 2 seconds, else 0.")
        Self.registerSharedStoreMetrics(registry, store: store)
        let box = self.latest
        let latest: @Sendable () -> ExchangeSnapshot? = { box.value.withLock { $0 } }

        registry.counter("refex_referrals_received_total", help: "Referrals received and stored, ever (read from the store).") { [weak self] in
            self?.refreshIfStale()
            return latest().map { [([], Double($0.statistics.referrals))] } ?? []
        }
        // Group commit: the writes per commit the writer reaches is their ratio (issue 17).
        registry.counter("refex_store_commit_groups_total", help: "Commits the store's writer made (each a group of writes).") {
            store.commitGroupTotals.map { [([], Double($0.commits))] } ?? []
        }
        registry.counter("refex_store_commit_group_writes_total", help: "Writes (referrals and every other change) held by those commits.") {
            store.commitGroupTotals.map { [([], Double($0.writes))] } ?? []
        }
        registry.counter("refex_store_commit_pages_total", help: "Database pages those commits wrote (the WAL frames of a SQLite store).") {
            store.commitGroupTotals.map { [([], Double($0.pages))] } ?? []
        }
        registry.gauge("refex_disclosures", help: "Disclosures by their current state.", labelNames: ["state"]) {
            latest().map { current in
                // Every known state, 0 when none, so that a rule can compare them.
                let states = Set(DisclosureState.allCases.map(\.rawValue)).union(current.statistics.disclosuresByState.keys).sorted()
                return states.map { ([$0], Double(current.statistics.disclosuresByState[$0] ?? 0)) }
            } ?? []
        }
        registry.gauge("refex_log_entries", help: "Entries ever appended to the disclosure log (the head's seq).") {
            latest().map { [([], Double($0.logHeadSeq))] } ?? []
        }
        registry.gauge("refex_log_entries_unsigned", help: "Log entries after the last signed checkpoint.") {
            latest().map { [([], Double($0.logHeadSeq - ($0.lastCheckpointSeq ?? 0)))] } ?? []
        }
        registry.gauge("refex_log_checkpoint_age_seconds", help: "Seconds since the last signed checkpoint (absent before the first).") {
            latest()?.lastCheckpointTime.map { [([], Date().timeIntervalSince($0.date))] } ?? []
        }
        registry.gauge("refex_crl_next_update_seconds", help: "Seconds until the CRL's next update (negative: expired; absent: no CRL).") {
            tls.current.crlNextUpdate.map { [([], $0.timeIntervalSinceNow)] } ?? []
        }
        registry.gauge(
            "refex_certificate_expiry_seconds", help: "Seconds until refex's own certificates expire (server; delivery-client for push).",
            labelNames: ["certificate"]
        ) {
            var samples: [(labels: [String], value: Double)] = [(["server"], tls.current.certificate.notAfter.timeIntervalSinceNow)]
            if let deliveryCertificateNotAfter { samples.append((["delivery-client"], deliveryCertificateNotAfter.timeIntervalSinceNow)) }
            return samples
        }
        let partners = partnerCertificates
        registry.gauge(
            "refex_partner_certificate_expiry_seconds",
            help: "Seconds until the soonest-expiring certificate a partner connected with in the last day expires.", labelNames: ["partner"]
        ) {
            partners.soonest(now: Date()).map { ([$0.partner], $0.notAfter.timeIntervalSinceNow) }
        }
    }

    /// Reads the store's counts now and then every `refreshInterval`, until `stop()`.
    package func start() {
        let task = Task.detached { [self] in
            while !Task.isCancelled {
                await refresh()
                try? await Task.sleep(for: ServiceMetrics.refreshInterval)
            }
        }
        refresher.withLock { $0 = task }
    }

    /// Stops reading the store (before it closes).
    package func stop() {
        latest.refreshing.store(true, ordering: .releasing)  // and no scrape starts another
        refresher.withLock { $0?.cancel() }
    }

    /// Starts a refresh in the background when the counts are stale and none is under way.
    private func refreshIfStale() {
        let now = MonotonicClock.now()
        guard now &- latest.refreshedAt.load(ordering: .relaxed) > ServiceMetrics.staleAfter,
              !latest.refreshing.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Task.detached { [self] in
            await refresh()
            latest.refreshing.store(false, ordering: .releasing)
        }
    }

    package func refresh() async {
        latest.refreshedAt.store(MonotonicClock.now(), ordering: .relaxed)
        storeWritable.set(await store.isWritable(within: .seconds(2)) ? 1 : 0)
        do {
            let current = try await exchange.snapshot()
            latest.value.withLock { $0 = current }
        } catch {
            logger.warning("cannot read the store's counts for metrics", [("error", "\(error)")])
        }
    }
}

/// The store's counts as last read, shared with the scrape closures.
private final class LatestSnapshot: Sendable {
    let value = Mutex<ExchangeSnapshot?>(nil)
    /// When the last refresh started (CLOCK_MONOTONIC nanoseconds).
    let refreshedAt = Atomic<UInt64>(0)
    let refreshing = Atomic<Bool>(false)
}

/// The certificates partners connect with, remembered for a day: what
/// `refex_partner_certificate_expiry_seconds` reports (refex knows partner certificates only by
/// fingerprint or name until they connect).
package final class PartnerCertificateExpiry: Sendable {
    /// How long a certificate not seen again is remembered.
    static let memory: TimeInterval = 86_400

    private struct Seen {
        var notAfter: Date
        var lastSeen: Date
    }

    private let seen = Mutex<[String: [String: Seen]]>([:])

    package init() {}

    /// `partner` connected with the certificate `fingerprint`, valid until `notAfter`.
    package func observe(partner: String, fingerprint: String, notAfter: Date, now: Date = Date()) {
        seen.withLock { $0[partner, default: [:]][fingerprint] = Seen(notAfter: notAfter, lastSeen: now) }
    }

    /// Forgets partners no longer configured (after a reload).
    package func keep(partners: Set<String>) {
        seen.withLock { all in all = all.filter { partners.contains($0.key) } }
    }

    /// Per partner, every certificate seen within `memory` of `now`: fingerprint and expiry (the console's partners page).
    package func seen(now: Date) -> [String: [(fingerprint: String, notAfter: Date)]] {
        seen.withLock { all in
            all.mapValues { certificates in
                certificates.filter { now.timeIntervalSince($0.value.lastSeen) <= PartnerCertificateExpiry.memory }
                    .map { ($0.key, $0.value.notAfter) }.sorted { $0.0 < $1.0 }
            }.filter { !$0.value.isEmpty }
        }
    }

    /// Per partner, the soonest expiry among certificates seen within `memory` of `now`.
    package func soonest(now: Date) -> [(partner: String, notAfter: Date)] {
        seen.withLock { all in
            for (partner, certificates) in all {
                let recent = certificates.filter { now.timeIntervalSince($0.value.lastSeen) <= PartnerCertificateExpiry.memory }
                all[partner] = recent.isEmpty ? nil : recent
            }
            return all.compactMap { partner, certificates in
                certificates.values.map(\.notAfter).min().map { (partner, $0) }
            }.sorted { $0.partner < $1.partner }
        }
    }
}
