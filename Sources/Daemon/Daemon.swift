import Crypto
import Delivery
import Exchange
import JSON
import Foundation
import HTTP
import Logging
import Metrics
import Server
import Services
import Store
import Synchronization
import TLS

/// `refex serve`: listeners, signals, systemd notification and the watchdog around the server.
package final class Daemon: Sendable {
    private let configPath: String
    private let logger: Logger
    private let metrics: MetricsRegistry
    private let server: HTTPServer
    private let tls: TLSContextHolder
    private let api: APIResponder
    private let store: any RefexStore
    private let exchange: Exchange
    private let delivery: DeliveryService?
    private let notifier: SystemdNotifier
    private let current: Mutex<LoadedConfiguration>
    private let partnerRoster: PartnerRoster
    /// The services `run()` started, for SIGTERM to stop in order.
    private let services = Mutex<ServiceGroup?>(nil)
    private let stopping = Atomic<Bool>(false)
    private let stalledForTesting = Atomic<Bool>(false)
    private let reloads: Counter
    private let serviceMetrics: ServiceMetrics
    /// The admin console's settings, form key and cached verification.
    private let console: ConsoleEnvironment
    private let boundAddresses: (api: ListenAddress, ops: ListenAddress)
    private let listenerOrigins: String
    /// `REFEX_TEST_HOOKS=1`: SIGUSR2 stalls and unstalls the store writer, for the watchdog test.
    private let testHooks: Bool

    /// Loads the config, binds the listeners and prepares everything; `run()` serves.
    /// Throws `ConfigurationError` or `StartupError`, each naming every problem.
    package init(configPath: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.configPath = configPath
        let loaded = try ConfigurationLoader.load(path: configPath, environment: environment)
        let configuration = loaded.configuration
        logger = Logger(sink: StandardErrorLogSink(), level: configuration.logLevel)
        metrics = MetricsRegistry()
        notifier = SystemdNotifier(environment: environment)
        current = Mutex(loaded)
        partnerRoster = PartnerRoster(configuration.partners.map(\.id))
        tls = TLSContextHolder(loaded.tlsContext)
        reloads = metrics.counter("refex_config_reloads_total", help: "Config reloads on SIGHUP, by result.", labelNames: ["result"])

        do {
            let checkpoints = loaded.logSigningKey.map {
                CheckpointPolicy(
                    everyEntries: configuration.log.checkpointEveryEntries, every: .seconds(configuration.log.checkpointEverySeconds), key: $0
                )
            }
            // A first start on an empty folder creates the store; a missing half, another store's
            // file or another master key is refused (StoreIdentity).
            store = try configuration.storeConfiguration.open(
                logger: logger, masterKey: loaded.masterKey, creation: .whenBothMissing,
                integrityCheckLimit: Self.integrityCheckLimit(environment), reserveBytes: Self.reserveBytes(environment),
                checkpoints: checkpoints, walLimitBytes: Self.walLimitBytes(environment)
            )
            store.start()
        } catch {
            throw StartupError("\(error)")
        }
        exchange = Exchange(
            store: store, catalog: loaded.catalog, keyring: Keyring(masterKey: loaded.masterKey), recipients: configuration.recipients,
            limits: JSONLimits(maxDocumentBytes: configuration.server.parserLimits.maxBodyBytes)
        )
        serviceMetrics = ServiceMetrics(
            registry: metrics, exchange: exchange, store: store, tls: tls, deliveryCertificatePEM: loaded.deliveryCredentials?.certificate,
            logger: logger
        )
        let listeners = try ListenerSockets.open(api: configuration.listen, ops: configuration.ops, environment: environment)
        boundAddresses = (
            Socket.localAddress(of: listeners.api) ?? configuration.listen,
            Socket.localAddress(of: listeners.ops) ?? configuration.ops
        )
        listenerOrigins = "api:\(listeners.origin.api.rawValue) ops:\(listeners.origin.ops.rawValue)"
        testHooks = ProcessSignals.takesTestHook
        server = try HTTPServer(configuration: configuration.server, metrics: metrics, logger: logger)
        let recorder = RequestRecorder(logger: logger, metrics: metrics)
        if let settings = configuration.delivery, let credentials = loaded.deliveryCredentials {
            delivery = DeliveryService(
                exchange: exchange,
                configuration: DeliveryConfiguration(
                    clientCertificatePEM: credentials.certificate, clientKeyPEM: credentials.key,
                    connectTimeout: .seconds(settings.connectTimeoutSeconds), attemptTimeout: .seconds(settings.timeoutSeconds),
                    schedule: RetrySchedule(
                        base: .milliseconds(settings.backoffBaseMilliseconds), cap: .seconds(settings.backoffMaxSeconds),
                        maxAge: .seconds(settings.maxAgeSeconds)
                    ),
                    concurrencyPerRecipient: Int(settings.concurrency), circuitThreshold: Int(settings.circuitFailures),
                    circuitOpenFor: .seconds(settings.circuitOpenSeconds), pollInterval: .milliseconds(settings.pollIntervalMilliseconds)
                ),
                metrics: metrics, logger: logger
            )
        } else {
            delivery = nil
        }
        let delivery = self.delivery
        console = ConsoleEnvironment(
            settings: ConsoleEnvironment.Settings(configuration), tls: tls, partnerCertificates: serviceMetrics.partnerCertificates,
            publicKey: loaded.logSigningKey?.publicKey, openCircuits: { delivery?.openCircuits() ?? [] }
        )
        api = APIResponder(
            router: Routes.make(
                exchange: exchange, publicKey: loaded.logSigningKey?.publicKey, logRetention: configuration.retention.policy.log,
                openAPI: OpenAPIDocument(schemasFolder: configuration.schemas),
                partners: partnerRoster, console: console
            ) { delivery?.nudge() },
            partners: loaded.partners, recorder: recorder, logger: logger, partnerCertificates: serviceMetrics.partnerCertificates
        )
        let tls = self.tls
        let store = self.store
        let ops = OpsResponder(metrics: metrics, recorder: recorder) {
            var problems = Daemon.partnerLockouts(tls.current, now: Date())
            if let problem = store.problem {
                problems.append(problem)
            } else if await !store.isWritable(within: .seconds(2)) {
                problems.append("the store is not accepting writes")
            }
            return problems
        }
        let api = self.api
        try server.addListener(ListenerSpec(
            name: "api", fd: listeners.api, tls: tls, responder: api, maxConnections: configuration.server.maxConnections,
            maxHandshakes: configuration.server.maxHandshakes, maxHandshakesPerAddress: configuration.server.maxHandshakesPerAddress,
            maxConnectionsPerClient: configuration.server.maxConnectionsPerPartner,
            clientKey: { connection in
                // Unregistered certificates (403 on every request) are capped per certificate.
                api.partnerID(for: connection) ?? connection.peerCertificate.map { "certificate:\($0.sha256Fingerprint)" }
            }
        ))
        try server.addListener(ListenerSpec(
            name: "ops", fd: listeners.ops, tls: nil, responder: ops, maxConnections: 64, loopbackOnly: true
        ))
    }

    /// Serves until SIGTERM or SIGINT, then drains in order and returns whether every service
    /// ran and stopped without failing (a service that fails stops the others: false).
    /// `ProcessSignals.block()` must have run before any thread started.
    package func run() -> Bool {
        raiseOpenFileLimit()
        let configuration = current.withLock { $0.configuration }
        let group = ServiceGroup(services(configuration), logger: logger)
        services.withLock { $0 = group }
        installSignalHandlers()
        // The bound addresses, which differ from the config's when it asks for port 0.
        let listen = boundAddresses.api.description
        let ops = boundAddresses.ops.description
        // The listeners are bound and listening since init: a connection made before the loops run waits in the backlog.
        notifier.notify("READY=1\nSTATUS=serving listen=\(listen) ops=\(ops)\nMAINPID=\(getpid())")
        logger.notice("refex serving", [
            ("listen", listen), ("ops", ops), ("sockets", listenerOrigins), ("partners", String(configuration.partners.count)),
            ("store", store.wasCreated ? "created" : "opened"),
        ])
        if testHooks { logger.warning("test hooks are on (REFEX_TEST_HOOKS=1): SIGUSR2 stalls the store writer; never in production") }
        startLockoutWatch()
        startWatchdog()
        warmUpConsole(configuration)
        let report = group.run()
        if !stopping.exchange(true, ordering: .acquiringAndReleasing) {
            notifier.notify("STOPPING=1\nSTATUS=stopping: a service failed")
        }
        if report.timedOut.isEmpty {
            logger.notice("stopped")
        } else {
            logger.error("stopped, leaving behind services that did not stop in time", [("services", report.timedOut.joined(separator: ","))])
        }
        return report.failed.isEmpty
    }

    /// The long-running parts, in the order they start; SIGTERM stops them in reverse: stop
    /// accepting and finish requests, stop delivery and wait for its attempts to be recorded,
    /// stop the timers and metrics, and close the store last, once nothing uses it.
    private func services(_ configuration: Configuration) -> [ServiceGroup.Member] {
        let store = self.store
        let exchange = self.exchange
        let logger = self.logger
        let delivery = self.delivery
        let server = self.server
        let serviceMetrics = self.serviceMetrics
        var members: [ServiceGroup.Member] = [
            // Close finishes queued writes and folds the WAL in (up to 10 s).
            // The key pool's refill (if one runs) ends before the store closes.
            ServiceGroup.Member(StartStopService(name: "store", stop: {
                _ = try? runAsync { await exchange.keyPool.stop() }
                store.close()
            }), stopTimeout: .seconds(15)),
            ServiceGroup.Member(
                StartStopService(name: "metrics", start: { serviceMetrics.start() }, stop: { serviceMetrics.stop() }), stopTimeout: .seconds(5)
            ),
            // Checkpoints by time (by count they follow commits).
            ServiceGroup.Member(PeriodicService(
                name: "checkpoints", every: .seconds(configuration.log.checkpointEverySeconds), firstAfter: .seconds(configuration.log.checkpointEverySeconds)
            ) {
                do {
                    try await store.checkpointIfDue()
                } catch {
                    BackgroundWork.report(error, failed: "checkpoint failed", stopped: "checkpoint by time not made: refex is stopping", logger: logger)
                }
            }, stopTimeout: .seconds(10)),
            // Justifications an older refex kept in plain text are sealed once, in the background.
            ServiceGroup.Member(PeriodicService(name: "justification-sealing", every: nil) {
                await BackgroundWork.sealPlainJustifications(exchange, logger: logger)
            }, stopTimeout: .seconds(10)),
            // Referrals from before the subject blind indexes: indexed now rather than at the first search.
            ServiceGroup.Member(PeriodicService(name: "subject-index-backfill", every: nil) {
                await BackgroundWork.backfillSubjectIndex(exchange, logger: logger)
            }, stopTimeout: .seconds(10)),
        ]
        let retention = configuration.retention
        if retention.policy != RetentionPolicy() {
            members.append(ServiceGroup.Member(PeriodicService(name: "retention", every: .seconds(retention.runEveryMinutes * 60)) {
                do {
                    let report = try await exchange.runRetention(retention.policy)
                    if report.subjectsErased != 0 { delivery?.nudge() }
                    logger.notice("retention run", [
                        ("subjects_erased", String(report.subjectsErased)),
                        ("consent_details_erased", String(report.consentDetailsErased)),
                        ("log_pruned_through", report.logPrunedThrough.map { String($0) } ?? "null"),
                    ])
                } catch {
                    BackgroundWork.report(
                        error, failed: "retention run failed", stopped: "retention run stopped with refex; the next run carries on", logger: logger
                    )
                }
            }, stopTimeout: .seconds(10)))
        }
        if let delivery {
            // Delivery bounds its own wait for attempts under way (at most 10 s); this is a backstop.
            members.append(ServiceGroup.Member(delivery, stopTimeout: .seconds(15)))
        }
        members.append(ServiceGroup.Member(
            StartStopService(name: "server", start: { server.start() }, stop: { server.shutdown() }),
            stopTimeout: configuration.server.drainTimeout + .seconds(5)
        ))
        return members
    }

    private func installSignalHandlers() {
        ProcessSignals.startWaiting { [self] number in
            if number == SIGHUP {
                reload()
            } else if number == ProcessSignals.testHook {
                toggleStallForTesting()
            } else {
                stop(signal: number)
            }
        }
    }

    /// SIGHUP: a new config, certificate, client CA and CRL for new handshakes and requests; on any
    /// problem the old config stays and every problem is logged.
    package func reload() {
        notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(MonotonicClock.now() / 1000)")
        defer { notifier.notify("READY=1\nSTATUS=serving") }
        let loaded: LoadedConfiguration
        do {
            loaded = try ConfigurationLoader.load(path: configPath)
        } catch let error as ConfigurationError {
            reloads.increment(["refused"])
            logger.error("config reload refused; the running config stays", [("problems", String(error.problems.count))])
            for problem in error.problems { logger.error("config problem", [("problem", problem)]) }
            return
        } catch {
            reloads.increment(["refused"])
            logger.error("config reload refused; the running config stays", [("error", "\(error)")])
            return
        }
        let old = current.withLock { $0.configuration }
        let new = loaded.configuration
        let restartOnly = RestartOnlySettings.changed(from: old, to: new)
        if !restartOnly.isEmpty {
            logger.warning(
                "changed settings take effect only on restart; the running values stay", [("settings", restartOnly.joined(separator: ","))]
            )
        }
        tls.replace(with: loaded.tlsContext)
        // Connections verified under the old certificates and CRL are checked again under the new.
        let closed = server.closeConnectionsFailingClientVerification()
        if closed > 0 { logger.notice("closed connections whose client certificate no longer verifies", [("connections", String(closed))]) }
        api.replacePartners(loaded.partners)
        serviceMetrics.partnerCertificates.keep(partners: Set(new.partners.map(\.id)))
        partnerRoster.replace(new.partners.map(\.id))
        exchange.replaceRecipients(new.recipients)
        console.replace(new)
        current.withLock { $0 = loaded }
        reloads.increment(["applied"])
        logger.notice("config reloaded", [("partners", String(new.partners.count))])
    }

    /// SIGUSR2 with test hooks on: the store writer stops taking work, or starts again.
    private func toggleStallForTesting() {
        guard testHooks else { return }
        let stalled = !stalledForTesting.load(ordering: .acquiring)
        stalledForTesting.store(stalled, ordering: .releasing)
        (store as? any StoreTestHooks)?.stallForTesting(stalled)
        logger.warning(stalled ? "test hook: store writer stalled" : "test hook: store writer resumed")
    }

    /// SIGTERM or SIGINT: the ordered drain starts; `run()` returns when it is done. A second signal changes nothing.
    private func stop(signal number: Int32) {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        notifier.notify("STOPPING=1\nSTATUS=draining")
        logger.notice("stopping: draining connections", [("signal", number == SIGTERM ? "SIGTERM" : "SIGINT")])
        services.withLock { $0 }?.shutdown()
    }

    /// Reasons every partner is refused that refex can name (for /readyz and the error log): the
    /// server certificate expired, the CRL past its next update, every client CA certificate expired.
    static func partnerLockouts(_ context: TLSServerContext, now: Date) -> [String] {
        var problems: [String] = []
        if context.certificate.notAfter < now { problems.append("the server certificate has expired: every partner's handshake fails") }
        if let nextUpdate = context.crlNextUpdate, nextUpdate < now {
            problems.append(
                "the CRL has expired (next update was \(nextUpdate)): every partner is refused until a fresh CRL is installed and refex reloaded"
            )
        }
        if !context.clientCAs.isEmpty, context.clientCAs.allSatisfy({ $0.notAfter < now }) {
            problems.append("every tls.clientCA certificate has expired: every partner is refused")
        }
        return problems
    }

    /// Logs at error, once each time it starts, any reason every partner is refused (say a CRL passing
    /// its next update while nobody reloads); /readyz says the same for as long as it lasts.
    /// Reads what the console's overview shows (the last 30 days' counts, the store's counts,
    /// retention) once in the background, so that the first admin to open it after a start does
    /// not wait for a reading in proportion to 30 days of log. Only when a partner is an admin.
    private func warmUpConsole(_ configuration: Configuration) {
        guard configuration.partners.contains(where: { $0.roles.contains(.admin) }) else { return }
        console.startWarmUp(exchange)
    }

    private func startLockoutWatch() {
        let tls = self.tls
        let logger = self.logger
        let thread = Thread { [self] in
            var reported: Set<String> = []
            while !stopping.load(ordering: .acquiring) {
                let problems = Set(Daemon.partnerLockouts(tls.current, now: Date()))
                for problem in problems.subtracting(reported).sorted() { logger.error("every partner is refused", [("problem", problem)]) }
                for problem in reported.subtracting(problems).sorted() { logger.notice("partners accepted again", [("resolved", problem)]) }
                reported = problems
                usleep(1_000_000)
            }
        }
        thread.name = "refex-lockout-watch"
        thread.start()
    }

    /// Pings systemd only while every event loop answers: a stuck loop stops the pings and systemd restarts refex.
    private func startWatchdog() {
        guard notifier.isActive, let interval = SystemdNotifier.watchdogInterval() else { return }
        let thread = Thread { [self] in
            while !stopping.load(ordering: .acquiring) {
                let started = MonotonicClock.now()
                let loopsAlive = server.loopsAreResponsive(within: interval / 2)
                let writerAlive = store.writerIsResponsive(within: interval / 2)
                // A writer whose commits have failed for longer than the interval is not stuck but
                // is not serving either: a restart (systemd's) is the next thing to try.
                let writerFailing = store.hasBeenFailing(longerThan: interval)
                if loopsAlive && writerAlive && !writerFailing {
                    notifier.notify("WATCHDOG=1")
                } else {
                    logger.critical("withholding the watchdog ping", [
                        ("stalled", !loopsAlive ? "event-loop" : writerFailing ? "store-commits-failing" : "store-writer"),
                    ])
                }
                let elapsed = MonotonicClock.now() &- started
                let wait = interval.nanoseconds > elapsed ? interval.nanoseconds - elapsed : 0
                usleep(useconds_t(min(wait / 1000, UInt64(UInt32.max))))
            }
        }
        thread.name = "refex-watchdog"
        thread.start()
    }
}

extension Daemon {
    /// `REFEX_INTEGRITY_CHECK_SECONDS`: how long start-up may spend on `PRAGMA quick_check`
    /// (default 20; the rest of the check then runs in the background).
    static func integrityCheckLimit(_ environment: [String: String]) -> Duration {
        .seconds(environment["REFEX_INTEGRITY_CHECK_SECONDS"].flatMap(Int.init).map { max(1, $0) } ?? 20)
    }

    /// `REFEX_STORE_WAL_LIMIT_BYTES`: the WAL size past which it is folded in and started again
    /// (default 64 MiB, at least 1 MiB).
    static func walLimitBytes(_ environment: [String: String]) -> Int? {
        environment["REFEX_STORE_WAL_LIMIT_BYTES"].flatMap(Int.init)
    }

    /// `REFEX_STORE_RESERVE_BYTES`: the disk reserve beside the store (default 8 MiB; 0: none).
    static func reserveBytes(_ environment: [String: String]) -> Int {
        environment["REFEX_STORE_RESERVE_BYTES"].flatMap(Int.init).map { max(0, $0) } ?? StoreConfiguration.defaultReserveBytes
    }
}

/// Every connection is a file descriptor: allow as many as the hard limit permits.
private func raiseOpenFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}

/// A problem that stops start-up, in one line.
package struct StartupError: Error, Sendable, CustomStringConvertible {
    package var description: String

    package init(_ description: String) { self.description = description }
}
