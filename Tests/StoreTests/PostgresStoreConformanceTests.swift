import Crypto
import Exchange
import Foundation
import Logging
import Postgres
import Store
import Synchronization
import TestSupport
import XCTest

/// The store conformance suite (TestSupport's `StoreConformance`) run against `PostgresStore` on
/// a throwaway cluster (one per class; a database per test), and what only several nodes on one
/// database can show: two stores ("nodes") on one database at once.
final class PostgresStoreConformanceTests: XCTestCase {
    nonisolated(unsafe) private static var cluster: PostgresCluster?
    nonisolated(unsafe) private static var startError = ""

    override class func setUp() {
        super.setUp()
        do {
            cluster = try PostgresCluster()
        } catch {
            startError = "\(error)"
        }
    }

    override class func tearDown() {
        cluster?.stop()
        cluster = nil
        super.tearDown()
    }

    private static func running() throws -> PostgresCluster {
        guard let cluster else {
            throw SubprocessError(description: "the throwaway PostgreSQL cluster did not start: \(startError)")
        }
        return cluster
    }

    private let suite = StoreConformance { clock in
        let cluster = try PostgresStoreConformanceTests.running()
        let settings = PostgresStoreSettings(connectionString: cluster.connectionString(database: try cluster.createDatabase()), poolSize: 2, nodeID: "test")
        return StoreHarness(
            open: { try PostgresStore(settings: settings, logger: Logger(sink: InMemoryLogSink()), masterKey: nil, clock: clock.reading) },
            close: { store in (store as? PostgresStore)?.close() }
        )
    }

    func testConcurrentWritesCommitTogetherAndAFailingOneIsRolledBackAlone() async throws { try await suite.groupCommitRollsBackAFailingWriteAlone() }

    func testReadsSeeOnlyCommittedStateAndChangeNothing() async throws { try await suite.readsSeeOnlyCommittedStateAndChangeNothing() }

    func testTheChainContinuesAcrossRestarts() async throws { try await suite.chainContinuesAcrossRestarts() }

    func testTheChainContinuesAfterTheWholeLogIsPruned() async throws { try await suite.chainContinuesAfterTheWholeLogIsPruned() }

    func testRecordsKeepWhatWasWrittenAndConstraintsHold() async throws { try await suite.recordsKeepWhatWasWrittenAndConstraintsHold() }

    func testErasureShredsTheSubjectAndNoOneElse() async throws { try await suite.erasureShredsTheSubjectAndNoOneElse() }

    func testLogCompletenessNamesWhatIsMissing() async throws { try await suite.logCompletenessNamesWhatIsMissing() }

    func testOutboxDueItemsAndMailboxPaging() async throws { try await suite.outboxDueItemsAndMailboxPaging() }

    func testOutboxClaimsHoldUntilTheLeaseEnds() async throws { try await suite.outboxClaimsHoldUntilTheLeaseEnds() }

    func testEveryLogFilterSelectsByItsColumn() async throws { try await suite.everyLogFilterSelectsByItsColumn() }

    func testFindingByPrefixAndBlindIndex() async throws { try await suite.findingByPrefixAndBlindIndex() }

    func testRetentionQueriesAndPruning() async throws { try await suite.retentionQueriesAndPruning() }

    func testLogEventCountsByDayRecipientAndBasis() async throws { try await suite.logEventCountsByDayRecipientAndBasis() }

    // MARK: Several nodes on one database

    private let t0 = Timestamp(milliseconds: 1_795_176_000_000)

    private func settings(_ database: String, node: String, extra: String = "") throws -> PostgresStoreSettings {
        PostgresStoreSettings(connectionString: try Self.running().connectionString(database: database) + extra, poolSize: 2, nodeID: node)
    }

    private func node(_ database: String, _ name: String, checkpoints: CheckpointPolicy? = nil) throws -> PostgresStore {
        try PostgresStore(settings: settings(database, node: name), logger: Logger(sink: InMemoryLogSink()), masterKey: nil, checkpoints: checkpoints)
    }

    private func verify(_ store: PostgresStore) async throws -> (entries: Int64, checkpoints: [Int64], failure: LogVerificationFailure?) {
        try await store.read { txn in
            let checkpoints = try txn.checkpoints()
            var verifier = LogVerifier(checkpoints: checkpoints, anchor: nil)
            try txn.forEachLogEntry(from: 1) { verifier.check($0) }
            verifier.finish()
            return (try txn.logBounds()?.last ?? 0, checkpoints.map(\.seq), verifier.failure)
        }
    }

    func testTwoNodesAppendingAtOnceMakeOneGaplessChainSignedOncePerPosition() async throws {
        let database = try Self.running().createDatabase()
        let policy = CheckpointPolicy(everyEntries: 7, every: .seconds(3600), key: try Ed25519PrivateKey())
        let nodes = [try node(database, "a", checkpoints: policy), try node(database, "b", checkpoints: policy)]
        defer { nodes.forEach { $0.close() } }
        let perNode = 60
        let seqs = try await withThrowingTaskGroup(of: Int64.self) { group in
            for index in 0..<(2 * perNode) {
                let store = nodes[index % 2]
                group.addTask {
                    try await store.write { txn in
                        try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p", subjectID: "s\(index)")).seq
                    }
                }
            }
            var seqs: [Int64] = []
            for try await seq in group { seqs.append(seq) }
            return seqs
        }
        XCTAssertEqual(seqs.sorted(), Array(1...Int64(2 * perNode)), "every append has its own seq, none missing")
        let (entries, checkpoints, failure) = try await verify(nodes[1])
        XCTAssertNil(failure, "the chain both nodes wrote verifies: \(String(describing: failure))")
        XCTAssertEqual(entries, Int64(2 * perNode))
        XCTAssertEqual(Set(checkpoints).count, checkpoints.count)
        XCTAssertFalse(checkpoints.isEmpty, "checkpoints were signed")
        let lock = nodes[0].logHeadLock
        XCTAssertGreaterThan(lock.commits, 0, "the log head's lock is measured")
        XCTAssertEqual(lock.heldBuckets.last ?? 0, lock.commits, "no hold above a second: \(lock)")
        XCTAssertEqual(nodes[1].readPool.size, 2)
        XCTAssertEqual(nodes[1].readPool.inUse, 0, "reads give their connections back")
    }

    /// Subject `s`, referral `r`, and a queued disclosure to `dv` for each of `ids` (each also in
    /// the outbox when `enqueued`).
    private static func insertQueuedDisclosures(_ ids: [String], enqueued: Bool, at t0: Timestamp, in txn: any StoreTransaction) throws {
        try txn.insertSubject(SubjectRecord(id: "s", createdAt: t0), key: WrappedSubjectKey(subjectID: "s", wrapped: [1]))
        try txn.insertReferral(ReferralRecord(id: "r", partnerID: "p", referenceKey: [1], subjectID: "s", schemaID: "x", bodyDigest: [2], sealedBody: [3], receivedAt: t0, receipt: []))
        for id in ids {
            try txn.insertDisclosure(DisclosureRecord(
                id: id, referralID: "r", subjectID: "s", recipientID: "dv", service: "svc", state: .queued, lawfulBasis: .consent, consentID: nil,
                justificationDigest: nil, actor: "p", pointers: [], categories: [], reason: nil, createdAt: t0, updatedAt: t0
            ))
            if enqueued {
                try txn.enqueue(OutboxItem(id: id, kind: .disclosure, disclosureID: id, recipientID: "dv", mode: .push, state: .pending, enqueuedAt: t0, nextAttemptAt: t0))
            }
        }
    }

    func testConcurrentClaimsFromTwoNodesNeverHandOneItemToBoth() async throws {
        let database = try Self.running().createDatabase()
        let nodes = [try node(database, "a"), try node(database, "b")]
        defer { nodes.forEach { $0.close() } }
        let ids = (0..<60).map { String(format: "item-%02d", $0) }
        let t0 = self.t0
        try await nodes[0].write { txn in try Self.insertQueuedDisclosures(ids, enqueued: true, at: t0, in: txn) }
        let claims = try await withThrowingTaskGroup(of: (String, [String]).self) { group in
            for (index, store) in nodes.enumerated() {
                for worker in 0..<3 {
                    group.addTask {
                        var taken: [String] = []
                        while true {
                            let batch = try await store.write { txn in
                                try txn.claimDueOutbox(
                                    recipientID: "dv", now: t0, leaseUntil: Timestamp(milliseconds: t0.milliseconds + 60_000), claimant: "node-\(index)", limit: 2
                                ).map(\.id)
                            }
                            if batch.isEmpty { return ("node-\(index)/\(worker)", taken) }
                            taken += batch
                        }
                    }
                }
            }
            var claims: [(String, [String])] = []
            for try await claim in group { claims.append(claim) }
            return claims
        }
        let all = claims.flatMap(\.1)
        XCTAssertEqual(all.count, ids.count, "no item was handed out twice: \(claims)")
        XCTAssertEqual(Set(all), Set(ids), "every item was claimed")
        let holders = try await nodes[1].read { txn in try ids.compactMap { try txn.outboxItem(id: $0) }.count }
        XCTAssertEqual(holders, ids.count)
    }

    /// The counts `/metrics` reads: counted from the rows by the migration on a database from
    /// before it, then moved by each node's changes, in interleaved commits, to the table's own
    /// count (and without a deadlock between the nodes' count rows).
    func testTheCountsAreCarriedOverAndTwoNodesKeepThemEqualToTheTable() async throws {
        let cluster = try Self.running()
        let database = try cluster.createDatabase()
        let t0 = self.t0
        let ids = (0..<40).map { String(format: "d-%02d", $0) }
        let first = try node(database, "a")
        try await first.write { txn in try Self.insertQueuedDisclosures(ids, enqueued: false, at: t0, in: txn) }
        first.close()
        // As refex before the counts left the database.
        let connection = try PostgresConnection(connectionString: cluster.connectionString(database: database))
        try connection.execute(
            """
            DROP TRIGGER referrals_counted ON referrals; DROP TRIGGER disclosures_counted ON disclosures;
            DROP FUNCTION refex_count_referrals(); DROP FUNCTION refex_count_disclosures(); DROP TABLE store_counts;
            DROP INDEX log_lawful_basis; UPDATE refex_schema_version SET version = 2;
            """
        )
        let nodes = [try node(database, "a"), try node(database, "b")]
        defer { nodes.forEach { $0.close() } }
        let carried = try await nodes[1].read { try $0.statistics() }
        XCTAssertEqual(carried, StoreStatistics(referrals: 1, disclosuresByState: ["queued": 40]))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, store) in nodes.enumerated() {
                group.addTask {
                    // Each node moves its half, a disclosure and a log entry a commit, and takes new referrals.
                    for (position, id) in ids.enumerated() where position % 2 == index {
                        try await store.write { txn in
                            guard var disclosure = try txn.disclosure(id: id) else { return }
                            disclosure.state = position % 3 == 0 ? .delivered : .failed
                            try txn.updateDisclosure(disclosure)
                            try txn.appendLog(LogEntryDraft(event: .disclosureDelivered, actor: "system", disclosureID: id))
                            try txn.insertReferral(ReferralRecord(
                                id: "r-\(id)", partnerID: "p", referenceKey: Array(id.utf8), subjectID: "s", schemaID: "x", bodyDigest: [2], sealedBody: [3],
                                receivedAt: t0, receipt: []
                            ))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let counted = try await nodes[0].read { try $0.statistics() }
        var table: [String: Int] = [:]
        for row in try connection.query("SELECT state, count(*) FROM disclosures GROUP BY state") {
            table[row.text(0) ?? ""] = Int(row.integer(1) ?? 0)
        }
        XCTAssertEqual(counted.disclosuresByState, table)
        XCTAssertEqual(counted.disclosuresByState, ["delivered": 14, "failed": 26])
        XCTAssertEqual(counted.referrals, 41)
    }

    func testAnEndedLeaseLetsTheOtherNodeClaimAndOnlyItsHolderReleases() async throws {
        let database = try Self.running().createDatabase()
        let (a, b) = (try node(database, "a"), try node(database, "b"))
        defer { a.close(); b.close() }
        let t0 = self.t0
        @Sendable func at(_ seconds: Int64) -> Timestamp { Timestamp(milliseconds: t0.milliseconds + seconds * 1000) }
        try await a.write { txn in
            try txn.insertSubject(SubjectRecord(id: "s", createdAt: t0), key: WrappedSubjectKey(subjectID: "s", wrapped: [1]))
            try txn.insertReferral(ReferralRecord(id: "r", partnerID: "p", referenceKey: [1], subjectID: "s", schemaID: "x", bodyDigest: [2], sealedBody: [3], receivedAt: t0, receipt: []))
            try txn.insertDisclosure(DisclosureRecord(
                id: "d", referralID: "r", subjectID: "s", recipientID: "dv", service: "svc", state: .queued, lawfulBasis: .consent, consentID: nil,
                justificationDigest: nil, actor: "p", pointers: [], categories: [], reason: nil, createdAt: t0, updatedAt: t0
            ))
            try txn.enqueue(OutboxItem(id: "d", kind: .disclosure, disclosureID: "d", recipientID: "dv", mode: .push, state: .pending, enqueuedAt: t0, nextAttemptAt: t0))
        }
        let first = try await a.write { txn in try txn.claimDueOutbox(recipientID: "dv", now: at(0), leaseUntil: at(30), claimant: "a", limit: 5) }
        XCTAssertEqual(first.map(\.id), ["d"])
        let during = try await b.write { txn in try txn.claimDueOutbox(recipientID: "dv", now: at(29), leaseUntil: at(60), claimant: "b", limit: 5) }
        XCTAssertEqual(during.map(\.id), [], "a live lease held by the other node keeps it out")
        let after = try await b.write { txn in try txn.claimDueOutbox(recipientID: "dv", now: at(30), leaseUntil: at(60), claimant: "b", limit: 5) }
        XCTAssertEqual(after.map(\.id), ["d"], "node a died: once its lease ends node b claims the item")
        try await a.write { txn in try txn.releaseOutboxClaim(id: "d", claim: OutboxClaim(claimant: "a", until: at(30))) }
        let third = try await a.write { txn in try txn.claimDueOutbox(recipientID: "dv", now: at(31), leaseUntil: at(90), claimant: "a", limit: 5) }
        XCTAssertEqual(third.map(\.id), [], "a late release by the old holder does not free b's claim")
    }

    func testTheSameReferralFromTwoNodesAtOnceIsOneReferralAndBothGetTheFirstAnswer() async throws {
        let database = try Self.running().createDatabase()
        let (a, b) = (try node(database, "a"), try node(database, "b"))
        defer { a.close(); b.close() }
        let t0 = self.t0
        // Both nodes look for the referral, find none, then insert: the race Exchange's intake runs
        // (look up by partner and reference, else store), forced by a barrier on the first run.
        let race = Race()
        let intake: @Sendable (String) -> @Sendable (any StoreTransaction) throws -> String = { node in
            { txn in
                if let existing = try txn.referral(partnerID: "police", referenceKey: [7, 7]) { return existing.id }
                race.meetOnFirstRuns()
                let subject = "subject-\(node)"
                try txn.insertSubject(SubjectRecord(id: subject, createdAt: t0), key: WrappedSubjectKey(subjectID: subject, wrapped: [1]))
                try txn.insertReferral(ReferralRecord(
                    id: "referral-\(node)", partnerID: "police", referenceKey: [7, 7], subjectID: subject, schemaID: "x", bodyDigest: [2],
                    sealedBody: [3], receivedAt: t0, receipt: Array("answer-\(node)".utf8)
                ))
                try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "police", referralID: "referral-\(node)", subjectID: subject))
                return "referral-\(node)"
            }
        }
        async let first = a.write(intake("a"))
        async let second = b.write(intake("b"))
        let answers = try await [first, second]
        XCTAssertEqual(answers[0], answers[1], "the second node answers with the first node's referral")
        let (referrals, subjects, keys, entries) = try await a.read { txn in
            (try txn.referrals(subjectID: "subject-a").count + txn.referrals(subjectID: "subject-b").count,
             [try txn.subject(id: "subject-a"), try txn.subject(id: "subject-b")].compactMap { $0 }.count,
             [try txn.subjectKey(subjectID: "subject-a"), try txn.subjectKey(subjectID: "subject-b")].compactMap { $0 }.count,
             try txn.logEntries(LogFilter(), limit: 10).count)
        }
        XCTAssertEqual(referrals, 1)
        XCTAssertEqual(subjects, 1, "the losing write left nothing behind")
        XCTAssertEqual(keys, 1, "the losing write's key is rolled back too")
        XCTAssertEqual(entries, 1)
        let failure = try await verify(a).failure
        XCTAssertNil(failure)
    }

    // MARK: Refusals

    func testAServerWithFsyncOffIsRefusedNamingTheSetting() async throws {
        let cluster = try Self.running()
        let database = try cluster.createDatabase()
        try cluster.administer("ALTER SYSTEM SET fsync = off")
        defer {
            try? cluster.administer("ALTER SYSTEM RESET fsync")
            try? cluster.administer("SELECT pg_reload_conf()")
        }
        try cluster.administer("SELECT pg_reload_conf()")
        try waitForSetting(cluster, "fsync", "off")
        XCTAssertThrowsError(try node(database, "a")) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .unsafeSetting, "\(error)")
            XCTAssertTrue("\(error)".contains("fsync=off"), "\(error)")
        }
        try cluster.administer("ALTER SYSTEM RESET fsync")
        try cluster.administer("SELECT pg_reload_conf()")
        try waitForSetting(cluster, "fsync", "on")
        XCTAssertNoThrow(try node(database, "a").close())
    }

    func testASessionWithSynchronousCommitOffIsRefusedNamingTheSetting() throws {
        let database = try Self.running().createDatabase()
        for extra in [" options='-c synchronous_commit=off'"] {
            XCTAssertThrowsError(try PostgresStore(settings: settings(database, node: "a", extra: extra), logger: Logger(sink: InMemoryLogSink()), masterKey: nil)) { error in
                XCTAssertEqual((error as? StoreError)?.kind, .unsafeSetting, "\(error)")
                XCTAssertTrue("\(error)".contains("synchronous_commit=off"), "\(error)")
            }
        }
        try Self.running().administer("ALTER DATABASE \(database) SET synchronous_commit = off")
        XCTAssertThrowsError(try node(database, "a"), "set on the database") { error in
            XCTAssertEqual((error as? StoreError)?.kind, .unsafeSetting, "\(error)")
        }
        // `local` is durable on this server: accepted.
        try Self.running().administer("ALTER DATABASE \(database) SET synchronous_commit = local")
        XCTAssertNoThrow(try node(database, "a").close())
    }

    func testANewerSchemaIsRefusedAndNothingChanged() async throws {
        let cluster = try Self.running()
        let database = try cluster.createDatabase()
        try node(database, "a").close()
        let connection = try PostgresConnection(connectionString: cluster.connectionString(database: database))
        try connection.query("UPDATE refex_schema_version SET version = 99")
        XCTAssertThrowsError(try node(database, "a")) { error in
            XCTAssertTrue("\(error)".contains("schema version 99, newer than this refex knows"), "\(error)")
        }
        XCTAssertEqual(try connection.first("SELECT version FROM refex_schema_version")?.integer(0), 99)
    }

    func testTwoNodesStartingOnAnEmptyDatabaseAtOnceMakeOneStore() async throws {
        let database = try Self.running().createDatabase()
        let settings = try settings(database, node: "x")
        let (key, otherKey) = (try XCTUnwrap(SymmetricKey(bytes: Array(repeating: 9, count: 32))), try XCTUnwrap(SymmetricKey(bytes: Array(repeating: 8, count: 32))))
        let opened = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    let store = try PostgresStore(settings: settings, logger: Logger(sink: InMemoryLogSink()), masterKey: key)
                    defer { store.close() }
                    return store.wasCreated
                }
            }
            var created: [Bool] = []
            for try await value in group { created.append(value) }
            return created
        }
        XCTAssertEqual(opened.filter { $0 }.count, 1, "one of them created the store, the others opened it")
        XCTAssertThrowsError(try PostgresStore(settings: settings, logger: Logger(sink: InMemoryLogSink()), masterKey: otherKey)) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .identity, "another master key is refused: \(error)")
        }
    }

    // MARK: A database that goes away

    func testAStoppedServerFailsWritesAt503AndTheStoreRecoversWithoutARestart() async throws {
        let cluster = try Self.running()
        let database = try cluster.createDatabase()
        let store = try node(database, "a")
        defer { store.close() }
        try await store.write { txn in try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p")) }
        cluster.stopServer()
        var restarted = false
        defer { if !restarted { try? cluster.start() } }
        let started = ContinuousClock.now
        do {
            try await store.write { txn in try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p")) }
            XCTFail("a write with the server stopped committed")
        } catch let error as StoreError {
            XCTAssertEqual(error.kind, .unavailable, "\(error)")
            XCTAssertTrue(error.isUnavailable)
            XCTAssertFalse("\(error)".contains("host="), "no connection string in \(error)")
        }
        do {
            _ = try await store.read { txn in try txn.logBounds() }
            XCTFail("a read with the server stopped answered")
        } catch let error as StoreError {
            XCTAssertEqual(error.kind, .unavailable, "\(error)")
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(10), "failed fast")
        let problem = store.problem
        XCTAssertNotNil(problem)
        XCTAssertTrue(problem?.contains(database) ?? false, "the problem names the database: \(problem ?? "")")
        let writable = await store.isWritable(within: .seconds(5))
        XCTAssertFalse(writable)
        try cluster.start()
        restarted = true
        let back = try await store.write { txn in try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p")).seq }
        XCTAssertEqual(back, 2, "nothing acknowledged was lost and the chain goes on")
        XCTAssertNil(store.problem)
        let bounds = try await store.read { txn in try txn.logBounds() }
        XCTAssertEqual(bounds?.last, 2)
    }

    func testADatabaseThatTurnsReadOnlyIsNamedAsSuchAndWritesGet503() async throws {
        let cluster = try Self.running()
        let database = try cluster.createDatabase()
        let store = try node(database, "a")
        defer { store.close() }
        try await store.write { txn in try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p")) }
        // As after a failover to a standby: the connections break and new ones are read-only.
        try cluster.administer("ALTER DATABASE \(database) SET default_transaction_read_only = on")
        try cluster.administer("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)' AND pid <> pg_backend_pid()")
        for _ in 0..<2 {
            do {
                try await store.write { txn in try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p")) }
                XCTFail("a write to a read-only database committed")
            } catch let error as StoreError {
                XCTAssertEqual(error.kind, .unavailable, "\(error)")
            }
        }
        XCTAssertTrue(store.problem?.contains("read-only") ?? false, "\(store.problem ?? "no problem")")
        try cluster.administer("ALTER DATABASE \(database) SET default_transaction_read_only = off")
        try cluster.administer("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)' AND pid <> pg_backend_pid()")
        let seq = try await store.write { txn in try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p")).seq }
        XCTAssertEqual(seq, 2)
        XCTAssertNil(store.problem)
    }

    // MARK: Erasure

    func testErasureVacuumsTheDeletedKeyOutOfTheLiveKeyTable() async throws {
        let cluster = try Self.running()
        let database = try cluster.createDatabase()
        let store = try node(database, "a")
        defer { store.close() }
        let t0 = self.t0
        let secret = Array("wrapped-key-of-the-erased-subject".utf8)
        try await store.write { txn in
            for id in ["keep", "erase", "keep-too"] {
                try txn.insertSubject(SubjectRecord(id: id, createdAt: t0), key: WrappedSubjectKey(subjectID: id, wrapped: id == "erase" ? secret : Array("other-\(id)".utf8)))
            }
        }
        try await store.write { txn in try txn.eraseSubject(id: "erase", at: t0) }
        let keys = try PostgresConnection(connectionString: cluster.connectionString(database: "\(database)_keys"))
        try keys.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        let pages = try keys.first("SELECT pg_relation_size('subject_keys') / current_setting('block_size')::bigint")?.integer(0) ?? 0
        for page in 0..<pages {
            let found = try keys.first("SELECT position($1::bytea IN get_raw_page('subject_keys', $2::integer)) > 0", [secret, page])?[0].boolean
            XCTAssertEqual(found, false, "the erased key's bytes are gone from page \(page) of the live table")
        }
        let others = try keys.first("SELECT count(*) FROM subject_keys")?.integer(0)
        XCTAssertEqual(others, 2)
    }

    private func waitForSetting(_ cluster: PostgresCluster, _ name: String, _ value: String) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if try PostgresConnection(connectionString: cluster.connectionString()).setting(name) == value { return }
            usleep(20_000)
        }
        XCTFail("\(name) did not become \(value)")
    }
}

/// Two writers meeting once: each waits (bounded) until both got here, on their first run only.
private final class Race: Sendable {
    private let barrier = DispatchGroup()
    private let runs = Atomic<Int>(0)

    init() {
        barrier.enter()
        barrier.enter()
    }

    func meetOnFirstRuns() {
        guard runs.add(1, ordering: .relaxed).newValue <= 2 else { return }
        barrier.leave()
        _ = barrier.wait(timeout: .now() + 10)
    }
}
