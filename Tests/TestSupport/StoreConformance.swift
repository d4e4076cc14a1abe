import Dispatch
import Exchange

/// The store conformance suite: what every `ExchangeStore` must do, written once over `any`
/// store (GRDB runs one body over a queue and a pool the same way). Each store's test target
/// calls every check with a harness for its store: the SQLite store in StoreTests, the in-memory
/// store, and later PostgreSQL, unchanged. A check throws `ConformanceFailure` naming what did
/// not hold.
package struct StoreConformance: Sendable {
    private let makeHarness: @Sendable (TestClock) throws -> StoreHarness

    /// `makeHarness` gives a harness over a new, empty durable state whose stores read `clock`.
    package init(_ makeHarness: @escaping @Sendable (TestClock) throws -> StoreHarness) {
        self.makeHarness = makeHarness
    }

    private struct Boom: Error {}

    private func fresh(_ clock: TestClock = TestClock()) throws -> (StoreHarness, any ExchangeStore) {
        let harness = try makeHarness(clock)
        return (harness, try harness.open())
    }

    // MARK: Group commit and isolation

    /// Concurrent writes: each one that throws leaves nothing behind and gets its own error;
    /// all the others commit, and the log they wrote is one unbroken chain with no gap.
    package func groupCommitRollsBackAFailingWriteAlone() async throws {
        let (harness, store) = try fresh()
        defer { harness.close(store) }
        let count = 40
        let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for index in 0..<count {
                group.addTask {
                    do {
                        let seq = try await store.write { txn -> Int64 in
                            try txn.insertSubject(ConformanceRecords.subject("s\(index)", txn.now), key: ConformanceRecords.key("s\(index)"))
                            let entry = try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p", subjectID: "s\(index)"))
                            if index % 4 == 0 { throw Boom() }
                            return entry.seq
                        }
                        return (index, seq > 0)
                    } catch is Boom {
                        return (index, false)
                    }
                }
            }
            var outcomes: [Int: Bool] = [:]
            for try await (index, committed) in group { outcomes[index] = committed }
            return outcomes
        }
        for index in 0..<count {
            try expectEqual(outcomes[index], index % 4 != 0, "write \(index) committed")
        }
        let (subjects, keys, entries) = try await store.read { txn in
            (try (0..<count).map { try txn.subject(id: "s\($0)") != nil },
             try (0..<count).map { try txn.subjectKey(subjectID: "s\($0)") != nil },
             try txn.logEntries(LogFilter(), limit: 1000))
        }
        for index in 0..<count {
            try expectEqual(subjects[index], index % 4 != 0, "subject of write \(index) stored")
            try expectEqual(keys[index], index % 4 != 0, "key of write \(index) stored")
        }
        try expectEqual(entries.map(\.seq), Array(1...Int64(count - count / 4)), "the committed writes' entries, without gaps")
        try expect(
            Set(entries.compactMap(\.draft.subjectID)).allSatisfy { Int($0.dropFirst()).map { $0 % 4 != 0 } ?? false },
            "no entry of a failed write is in the log"
        )
        try await expectChainVerifies(store)
        try expectEqual(try await store.write { _ in 7 }, 7, "a write returns its body's value")
    }

    /// A read runs beside a write in progress and sees only what was committed; a read cannot
    /// change anything.
    package func readsSeeOnlyCommittedStateAndChangeNothing() async throws {
        let (harness, store) = try fresh()
        defer { harness.close(store) }
        let inside = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let writing = Task {
            try await store.write { txn in
                try txn.insertSubject(ConformanceRecords.subject("w", txn.now), key: ConformanceRecords.key("w"))
                try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p", subjectID: "w"))
                inside.signal()
                _ = release.wait(timeout: .now() + 20)
            }
        }
        let started = await waitOffThread(inside, seconds: 20)
        try expect(started, "the write started")
        let during = try await store.read { txn in (try txn.subject(id: "w"), try txn.logBounds()?.last) }
        release.signal()
        try await writing.value
        try expect(during.0 == nil, "a read during a write saw its uncommitted subject")
        try expect(during.1 == nil, "a read during a write saw its uncommitted log entry")
        try expect(try await store.read { try $0.subject(id: "w") } != nil, "a read after the commit sees it")

        do {
            try await store.read { txn in try txn.insertSubject(ConformanceRecords.subject("r", txn.now), key: ConformanceRecords.key("r")) }
            throw ConformanceFailure(message: "a read inserted a subject", file: #filePath, line: #line)
        } catch is ConformanceFailure {
            throw ConformanceFailure(message: "a read inserted a subject", file: #filePath, line: #line)
        } catch {}
        do {
            _ = try await store.read { txn in try txn.appendLog(LogEntryDraft(event: .logViewed, actor: "admin")) }
            throw ConformanceFailure(message: "a read appended to the log", file: #filePath, line: #line)
        } catch is ConformanceFailure {
            throw ConformanceFailure(message: "a read appended to the log", file: #filePath, line: #line)
        } catch {}
        let after = try await store.read { txn in (try txn.subject(id: "r"), try txn.logBounds()?.last) }
        try expect(after.0 == nil, "the subject a read tried to insert is there")
        try expectEqual(after.1, 1, "the log's last seq after a read tried to append")
    }

    // MARK: The chain

    /// The chain goes on across a restart: the next entry follows the last one committed before.
    package func chainContinuesAcrossRestarts() async throws {
        let clock = TestClock()
        let (harness, store) = try fresh(clock)
        var last: LogEntry?
        for index in 0..<3 {
            clock.advance(by: .seconds(1))
            last = try await store.write { try $0.appendLog(LogEntryDraft(event: .referralReceived, actor: "p", referralID: "r\(index)")) }
        }
        harness.close(store)
        let reopened = try harness.open()
        defer { harness.close(reopened) }
        clock.advance(by: .seconds(1))
        let next = try await reopened.write { try $0.appendLog(LogEntryDraft(event: .referralReceived, actor: "p", referralID: "r3")) }
        try expectEqual(next.seq, 4, "seq after reopening")
        try expectEqual(next.prevHash, last?.hash ?? "", "prevHash after reopening")
        try expectEqual(next.time, clock.now, "the entry's time is the transaction's clock reading")
        let bounds = try await reopened.read { try $0.logBounds() }
        try expectEqual(bounds?.first, 1, "first seq")
        try expectEqual(bounds?.last, 4, "last seq")
        try expectEqual(bounds?.lastHash, next.hash, "last hash")
        let stored = try await reopened.read { try $0.logEntry(seq: 4) }
        try expectEqual(stored?.hash, next.hash, "the entry read back has the hash it was sealed with")
        try expectEqual(stored?.canonical, next.canonical, "the entry read back has its canonical bytes")
        try await expectChainVerifies(reopened)
    }

    /// Retention may prune every entry up to a checkpoint at the head: the next entry still
    /// follows the last one pruned (the anchor), also after a restart.
    package func chainContinuesAfterTheWholeLogIsPruned() async throws {
        let (harness, store) = try fresh()
        var last: LogEntry?
        for index in 0..<3 {
            last = try await store.write { try $0.appendLog(LogEntryDraft(event: .referralReceived, actor: "p", referralID: "r\(index)")) }
        }
        guard let head = last else { throw ConformanceFailure(message: "no entry", file: #filePath, line: #line) }
        try await store.write { txn in
            try txn.insertCheckpoint(Checkpoint(seq: head.seq, hash: head.hash, time: txn.now, signature: [1], keyID: "k"))
            try txn.pruneLog(through: head.seq, hash: head.hash)
        }
        let anchor = try await store.read { try $0.logAnchor() }
        try expectEqual(anchor?.seq, 3, "anchor seq")
        try expectEqual(anchor?.hash, head.hash, "anchor hash")
        try expect(try await store.read { try $0.logBounds() } == nil, "entries left after pruning them all")
        harness.close(store)
        let reopened = try harness.open()
        defer { harness.close(reopened) }
        let next = try await reopened.write { try $0.appendLog(LogEntryDraft(event: .referralReceived, actor: "p", referralID: "r3")) }
        try expectEqual(next.seq, 4, "seq of the first entry after the whole log was pruned")
        try expectEqual(next.prevHash, head.hash, "prevHash of the first entry after the whole log was pruned")
        try await expectChainVerifies(reopened)
    }

    // MARK: Records

    /// What is written is read back as written; uniqueness and references hold as in the schema.
    package func recordsKeepWhatWasWrittenAndConstraintsHold() async throws {
        let clock = TestClock()
        let (harness, store) = try fresh(clock)
        defer { harness.close(store) }
        let t0 = clock.now
        try await store.write { txn in
            try txn.insertSubject(ConformanceRecords.subject("s1", t0), key: ConformanceRecords.key("s1"))
            try txn.insertReferral(ConformanceRecords.referral("r1", subject: "s1", partner: "police", reference: [1], at: t0))
            try txn.insertReferral(ConformanceRecords.referral("r0", subject: "s1", partner: "police", reference: [0], at: Timestamp(milliseconds: t0.milliseconds - 5)))
            try txn.setReceipt(referralID: "r1", [7, 7])
            try txn.insertConsent(ConformanceRecords.consent("c1", subject: "s1", referral: "r1", at: t0, digest: [4]))
            try txn.insertConsent(ConformanceRecords.consent("c0", subject: "s1", referral: "r1", at: Timestamp(milliseconds: t0.milliseconds - 1), digest: [5]))
            try txn.setConsentReceipt(id: "c1", [8])
            try txn.setConsentWithdrawalReceipt(id: "c1", [9])
            try txn.insertDisclosure(ConformanceRecords.disclosure("d2", referral: "r1", subject: "s1", state: .queued, at: t0))
            try txn.insertDisclosure(ConformanceRecords.disclosure("d1", referral: "r1", subject: "s1", state: .awaitingConsent, at: t0))
            try txn.insertDisclosure(ConformanceRecords.disclosure("d0", referral: "r1", subject: "s1", state: .refused, at: Timestamp(milliseconds: t0.milliseconds - 1)))
            try txn.setRestricted(subjectID: "s1", true)
            try txn.setSubjectWithdrawalReceipt(subjectID: "s1", [3])
            try txn.insertFreeText(digest: "f1", subjectID: "s1", sealed: [1])
            try txn.insertFreeText(digest: "f1", subjectID: "s1", sealed: [2])
            try txn.recordAcknowledgement(itemID: "i1", recipientID: "sink", at: t0)
            try txn.recordAcknowledgement(itemID: "i1", recipientID: "other", at: Timestamp(milliseconds: t0.milliseconds + 1))
        }
        try await store.read { txn in
            let subject = try txn.subject(id: "s1")
            try expectEqual(subject?.restricted, true, "restricted")
            try expectEqual(subject?.withdrawalReceipt, [3], "subject withdrawal receipt")
            try expectEqual(subject?.createdAt, t0, "subject createdAt")
            try expectEqual(try txn.subjectKey(subjectID: "s1")?.wrapped, ConformanceRecords.key("s1").wrapped, "wrapped key")
            try expectEqual(try txn.referral(id: "r1")?.receipt, [7, 7], "referral receipt")
            try expectEqual(try txn.referral(partnerID: "police", referenceKey: [1])?.id, "r1", "referral by partner and reference key")
            try expect(try txn.referral(partnerID: "other", referenceKey: [1]) == nil, "a reference key is another partner's")
            try expectEqual(try txn.referrals(subjectID: "s1").map(\.id), ["r0", "r1"], "referrals by receivedAt")
            let consent = try txn.consent(id: "c1")
            try expectEqual(consent, {
                var expected = ConformanceRecords.consent("c1", subject: "s1", referral: "r1", at: t0, digest: [4])
                expected.receipt = [8]
                expected.withdrawalReceipt = [9]
                return expected
            }(), "consent read back")
            try expectEqual(try txn.consents(subjectID: "s1").map(\.id), ["c0", "c1"], "consents by recordedAt")
            try expectEqual(try txn.consent(referralID: "r1", documentDigest: [5])?.id, "c0", "consent by document digest")
            try expect(try txn.consent(referralID: "r1", documentDigest: [6]) == nil, "consent by an unknown digest")
            try expectEqual(try txn.disclosures(referralID: "r1").map(\.id), ["d0", "d2", "d1"], "disclosures by createdAt, then as inserted")
            try expectEqual(try txn.disclosures(subjectID: "s1").map(\.id), ["d0", "d2", "d1"], "a subject's disclosures in the same order")
            try expectEqual(try txn.disclosure(id: "d2"), ConformanceRecords.disclosure("d2", referral: "r1", subject: "s1", state: .queued, at: t0), "disclosure read back")
            try expectEqual(try txn.freeText(digest: "f1")?.sealed, [1], "free text: the first one kept")
            try expectEqual(try txn.acknowledgement(itemID: "i1")?.recipientID, "sink", "acknowledgement: the first one kept")
            try expectEqual(try txn.acknowledgement(itemID: "i1")?.at, t0, "acknowledgement time")
            try expectEqual(try txn.statistics(), StoreStatistics(referrals: 2, disclosuresByState: ["queued": 1, "awaiting-consent": 1, "refused": 1]), "statistics")
        }
        let withdrawnAt = Timestamp(milliseconds: t0.milliseconds + 10)
        try await store.write { txn in
            var updated = try txn.disclosure(id: "d1")
            updated?.state = .queued
            updated?.lawfulBasis = .consent
            updated?.consentID = "c1"
            updated?.updatedAt = withdrawnAt
            if let updated { try txn.updateDisclosure(updated) }
            try txn.markConsentWithdrawn(id: "c1", at: withdrawnAt)
            try txn.markConsentWithdrawn(id: "c1", at: Timestamp(milliseconds: withdrawnAt.milliseconds + 1))
            try txn.replaceSealedBody(referralID: "r1", [42])
        }
        try await store.read { txn in
            let updated = try txn.disclosure(id: "d1")
            try expectEqual(updated?.state, .queued, "updated state")
            try expectEqual(updated?.consentID, "c1", "updated consent")
            try expectEqual(updated?.lawfulBasis, .consent, "updated basis")
            try expectEqual(updated?.updatedAt, withdrawnAt, "updated time")
            try expectEqual(try txn.consent(id: "c1")?.withdrawnAt, withdrawnAt, "a consent is withdrawn once, at the first time")
            try expectEqual(try txn.referral(id: "r1")?.sealedBody, [42], "replaced sealed body")
            // The counts follow each change of state (none left awaiting consent: absent, as before any).
            try expectEqual(try txn.statistics(), StoreStatistics(referrals: 2, disclosuresByState: ["queued": 2, "refused": 1]), "statistics after a change of state")
        }
        try await store.write { txn in
            // A write of the same state moves no count.
            if let same = try txn.disclosure(id: "d0") { try txn.updateDisclosure(same) }
            var delivered = try txn.disclosure(id: "d2")
            delivered?.state = .delivered
            if let delivered { try txn.updateDisclosure(delivered) }
        }
        try expectEqual(
            try await store.read { try $0.statistics() }, StoreStatistics(referrals: 2, disclosuresByState: ["queued": 1, "delivered": 1, "refused": 1]),
            "statistics after delivery"
        )
        // Each refused like a constraint in SQL; the refusal rolls back only that write.
        let refusals: [(String, @Sendable (any StoreTransaction) throws -> Void)] = [
            ("a second subject with the same id", { try $0.insertSubject(ConformanceRecords.subject("s1", t0), key: ConformanceRecords.key("s1")) }),
            ("a second referral with the same id", { try $0.insertReferral(ConformanceRecords.referral("r1", subject: "s1", partner: "p", reference: [9], at: t0)) }),
            ("a second referral with the same partner and reference", {
                try $0.insertReferral(ConformanceRecords.referral("r9", subject: "s1", partner: "police", reference: [1], at: t0))
            }),
            ("a referral of no subject", { try $0.insertReferral(ConformanceRecords.referral("r8", subject: "nobody", partner: "p", reference: [8], at: t0)) }),
            ("a second consent with the same id", { try $0.insertConsent(ConformanceRecords.consent("c1", subject: "s1", referral: "r1", at: t0, digest: nil)) }),
            ("a consent for no referral", { try $0.insertConsent(ConformanceRecords.consent("c9", subject: "s1", referral: "none", at: t0, digest: nil)) }),
            ("a second disclosure with the same id", {
                try $0.insertDisclosure(ConformanceRecords.disclosure("d1", referral: "r1", subject: "s1", state: .queued, at: t0))
            }),
            ("a disclosure of no referral", { try $0.insertDisclosure(ConformanceRecords.disclosure("d9", referral: "none", subject: "s1", state: .queued, at: t0)) }),
            ("an outbox item for no disclosure", { try $0.enqueue(ConformanceRecords.item("none", recipient: "x", mode: .push, at: t0)) }),
        ]
        for (what, body) in refusals {
            do {
                try await store.write { txn in
                    try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p"))
                    try body(txn)
                }
                throw ConformanceFailure(message: "accepted \(what)", file: #filePath, line: #line)
            } catch is ConformanceFailure {
                throw ConformanceFailure(message: "accepted \(what)", file: #filePath, line: #line)
            } catch {}
        }
        try expect(try await store.read { try $0.logBounds() } == nil, "a refused write left its log entry")
        try expectEqual(try await store.read { try $0.statistics().referrals }, 2, "referrals after refused inserts")
    }

    /// The log checked against the rows: a row without the entry its creation appends, and an
    /// entry naming a row that is not there, are named; rows older than the pruning cut are not.
    package func logCompletenessNamesWhatIsMissing() async throws {
        let clock = TestClock()
        let (harness, store) = try fresh(clock)
        defer { harness.close(store) }
        let t0 = clock.now
        try await store.write { txn in
            try txn.insertSubject(ConformanceRecords.subject("s", t0), key: ConformanceRecords.key("s"))
            try txn.insertReferral(ConformanceRecords.referral("r", subject: "s", partner: "p", reference: [1], at: t0))
            try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p", referralID: "r", subjectID: "s"))
            try txn.insertReferral(ConformanceRecords.referral("unlogged", subject: "s", partner: "p", reference: [2], at: t0))
            try txn.appendLog(LogEntryDraft(event: .referralViewed, actor: "p", referralID: "ghost", subjectID: "s"))
            try txn.appendLog(LogEntryDraft(event: .logViewed, actor: "admin", referralID: "asked-for"))
        }
        let problems = try await store.read { try $0.logCompletenessProblems(prunedUpTo: nil, limit: 10) }
        try expectEqual(problems, [
            "the log is incomplete: referral unlogged has no referral.received entry (entries were removed)",
            "entry 2 names referral ghost, which is not in the store (a row was deleted, or the entry invented)",
        ], "completeness problems")
        try expectEqual(try await store.read { try $0.logCompletenessProblems(prunedUpTo: nil, limit: 1) }.count, 1, "at most the limit")
        let afterCut = try await store.read { try $0.logCompletenessProblems(prunedUpTo: t0, limit: 10) }
        try expectEqual(afterCut, [problems[1]], "a row made up to the pruning cut is excepted")
    }

    // MARK: Erasure

    /// Erasure deletes the key, every sealed body and detail, free text, blind-index entries and
    /// plain justifications of that subject, marks it erased once, and leaves every other subject.
    package func erasureShredsTheSubjectAndNoOneElse() async throws {
        let clock = TestClock()
        let (harness, store) = try fresh(clock)
        defer { harness.close(store) }
        let t0 = clock.now
        try await store.write { txn in
            for subject in ["gone", "kept"] {
                try txn.insertSubject(ConformanceRecords.subject(subject, t0), key: ConformanceRecords.key(subject))
                try txn.insertReferral(ConformanceRecords.referral("r-\(subject)", subject: subject, partner: "p", reference: Array(subject.utf8), at: t0))
                try txn.insertConsent(ConformanceRecords.consent("c-\(subject)", subject: subject, referral: "r-\(subject)", at: t0, digest: nil))
                try txn.insertFreeText(digest: "f-\(subject)", subjectID: subject, sealed: [1])
                try txn.insertDisclosure(ConformanceRecords.disclosure("d-\(subject)", referral: "r-\(subject)", subject: subject, state: .delivered, at: t0))
                try txn.insertSubjectIndex([SubjectIndexEntry(kind: .reference, digest: [1], subjectID: subject, referralID: "r-\(subject)")])
            }
        }
        let erasedAt = Timestamp(milliseconds: t0.milliseconds + 1000)
        try await store.write { txn in try txn.eraseSubject(id: "gone", at: erasedAt) }
        try await store.write { txn in try txn.eraseSubject(id: "gone", at: Timestamp(milliseconds: erasedAt.milliseconds + 1)) }
        try await store.read { txn in
            try expect(try txn.subjectKey(subjectID: "gone") == nil, "the erased subject's key is still there")
            try expect(try txn.referral(id: "r-gone")?.sealedBody == nil, "the erased subject's referral body is still there")
            try expect(try txn.referral(id: "r-gone") != nil, "the erased subject's referral row went (only its body should)")
            try expect(try txn.consent(id: "c-gone")?.sealedDetails == nil, "the erased subject's consent details are still there")
            try expect(try txn.freeText(digest: "f-gone") == nil, "the erased subject's free text is still there")
            try expectEqual(try txn.subject(id: "gone")?.erasedAt, erasedAt, "erasedAt (the first erasure's)")
            try expectEqual(
                try txn.subjectIndexEntries(kind: .reference, digest: [1]).map(\.subjectID), ["kept"], "blind-index entries after erasure"
            )
            try expect(try txn.subjectKey(subjectID: "kept") != nil, "the other subject's key went")
            try expect(try txn.referral(id: "r-kept")?.sealedBody != nil, "the other subject's referral body went")
            try expect(try txn.consent(id: "c-kept")?.sealedDetails != nil, "the other subject's consent details went")
            try expect(try txn.freeText(digest: "f-kept") != nil, "the other subject's free text went")
            try expect(try txn.subject(id: "kept")?.erasedAt == nil, "the other subject is marked erased")
        }
    }

    // MARK: Outbox

    /// Due push items by recipient and time, oldest first; the mailbox pages pull items by cursor;
    /// listing, depths, replacing, updating and dequeuing.
    package func outboxDueItemsAndMailboxPaging() async throws {
        let clock = TestClock()
        let (harness, store) = try fresh(clock)
        defer { harness.close(store) }
        let t0 = clock.now
        @Sendable func at(_ seconds: Int64) -> Timestamp { Timestamp(milliseconds: t0.milliseconds + seconds * 1000) }
        try await store.write { txn in
            try txn.insertSubject(ConformanceRecords.subject("s", t0), key: ConformanceRecords.key("s"))
            try txn.insertReferral(ConformanceRecords.referral("r", subject: "s", partner: "p", reference: [1], at: t0))
            for id in ["a", "b", "c", "d", "e", "m1", "m2", "m3", "m4", "m5", "x"] {
                try txn.insertDisclosure(ConformanceRecords.disclosure(id, referral: "r", subject: "s", state: .queued, at: t0))
            }
            // Push for dv: due at 30, 10, 20 s; one later (60 s); one failed. Another recipient's.
            try txn.enqueue(ConformanceRecords.item("a", recipient: "dv", mode: .push, at: at(0), next: at(30)))
            try txn.enqueue(ConformanceRecords.item("b", recipient: "dv", mode: .push, at: at(1), next: at(10)))
            try txn.enqueue(ConformanceRecords.item("c", recipient: "dv", mode: .push, at: at(2), next: at(20)))
            try txn.enqueue(ConformanceRecords.item("d", recipient: "dv", mode: .push, at: at(3), next: at(60)))
            try txn.enqueue(ConformanceRecords.item("e", recipient: "dv", mode: .push, at: at(4), next: at(0), state: .failed))
            try txn.enqueue(ConformanceRecords.item("x", recipient: "vs", mode: .push, at: at(5), next: at(0)))
            // Pull for the mailbox: m2 and m3 enqueued at the same time (ordered by id); one for another recipient.
            try txn.enqueue(ConformanceRecords.item("m1", recipient: "translation", mode: .pull, at: at(1)))
            try txn.enqueue(ConformanceRecords.item("m3", recipient: "translation", mode: .pull, at: at(2)))
            try txn.enqueue(ConformanceRecords.item("m2", recipient: "translation", mode: .pull, at: at(2)))
            try txn.enqueue(ConformanceRecords.item("m4", recipient: "interpreting", mode: .pull, at: at(3)))
            try txn.enqueue(ConformanceRecords.item("m5", recipient: "translation", mode: .pull, at: at(4)))
        }
        try await store.read { txn in
            try expectEqual(try txn.dueOutbox(recipientID: "dv", now: at(30), limit: 10).map(\.id), ["b", "c", "a"], "due push items by next attempt")
            try expectEqual(try txn.dueOutbox(recipientID: "dv", now: at(29), limit: 10).map(\.id), ["b", "c"], "an item due later is not due")
            try expectEqual(try txn.dueOutbox(recipientID: "dv", now: at(60), limit: 2).map(\.id), ["b", "c"], "due items, limited")
            try expectEqual(try txn.dueOutbox(recipientID: "translation", now: at(60), limit: 10).map(\.id), [], "pull items are never due for a push")
            try expectEqual(try txn.dueOutbox(recipientID: "vs", now: at(0), limit: 10).map(\.id), ["x"], "another recipient's due item")

            let everyone = ["translation", "interpreting"]
            let page1 = try txn.mailbox(recipientIDs: ["translation"], afterID: nil, limit: 2)
            try expectEqual(page1.map(\.id), ["m1", "m2"], "mailbox first page (same time: by id)")
            let page2 = try txn.mailbox(recipientIDs: ["translation"], afterID: page1.last?.id, limit: 2)
            try expectEqual(page2.map(\.id), ["m3", "m5"], "mailbox second page after the cursor")
            try expectEqual(try txn.mailbox(recipientIDs: ["translation"], afterID: "m5", limit: 2).map(\.id), [], "mailbox after the last item")
            try expectEqual(try txn.mailbox(recipientIDs: everyone, afterID: "m3", limit: 10).map(\.id), ["m4", "m5"], "mailbox of two recipients")
            try expectEqual(try txn.mailbox(recipientIDs: [], afterID: nil, limit: 10).map(\.id), [], "mailbox of no recipient")
            try expectEqual(
                try txn.outboxItems(state: .failed, limit: 10).map(\.id), ["e"], "outbox items by state"
            )
            try expectEqual(
                try txn.outboxItems(state: nil, limit: 4).map(\.id), ["a", "b", "m1", "c"], "outbox items by enqueuedAt then id, limited"
            )
            try expectEqual(try txn.outboxDepths(), [
                OutboxDepth(recipientID: "dv", pending: 4, failed: 1, oldestPending: at(0)),
                OutboxDepth(recipientID: "interpreting", pending: 1, failed: 0, oldestPending: at(3)),
                OutboxDepth(recipientID: "translation", pending: 4, failed: 0, oldestPending: at(1)),
                OutboxDepth(recipientID: "vs", pending: 1, failed: 0, oldestPending: at(5)),
            ], "outbox depths by recipient")
        }
        try await store.write { txn in
            guard var item = try txn.outboxItem(id: "b") else { throw ConformanceFailure(message: "no item b", file: #filePath, line: #line) }
            item.attempts = 2
            item.nextAttemptAt = at(90)
            item.lastError = "HTTP 503"
            item.payload = [9]  // not a column updateOutbox changes
            try txn.updateOutbox(item)
            try txn.dequeue(id: "c")
            try txn.enqueue(ConformanceRecords.item("a", recipient: "dv", mode: .push, at: at(0), next: at(5)))
        }
        try await store.read { txn in
            let item = try txn.outboxItem(id: "b")
            try expectEqual(item?.attempts, 2, "attempts after update")
            try expectEqual(item?.nextAttemptAt, at(90), "next attempt after update")
            try expectEqual(item?.lastError, "HTTP 503", "last error after update")
            try expectEqual(item?.payload, nil, "payload after update (not changed by it)")
            try expect(try txn.outboxItem(id: "c") == nil, "a dequeued item is still there")
            try expectEqual(try txn.dueOutbox(recipientID: "dv", now: at(30), limit: 10).map(\.id), ["a"], "due after update, dequeue and replace")
            try expectEqual(
                try txn.mailbox(recipientIDs: ["translation"], afterID: "gone", limit: 1).map(\.id), ["m1"],
                "a cursor naming no item starts from the beginning"
            )
        }
    }

    /// Claims with a lease: a claim takes only due, unleased push items, soonest first; a second
    /// claimant sees nothing until the lease ends or is released; only the holder can release;
    /// replacing an item ends its lease; only the claim's own answer carries the claim.
    package func outboxClaimsHoldUntilTheLeaseEnds() async throws {
        let clock = TestClock()
        let (harness, store) = try fresh(clock)
        defer { harness.close(store) }
        let t0 = clock.now
        @Sendable func at(_ seconds: Int64) -> Timestamp { Timestamp(milliseconds: t0.milliseconds + seconds * 1000) }
        try await store.write { txn in
            try txn.insertSubject(ConformanceRecords.subject("s", t0), key: ConformanceRecords.key("s"))
            try txn.insertReferral(ConformanceRecords.referral("r", subject: "s", partner: "p", reference: [1], at: t0))
            for id in ["a", "b", "c", "f", "m"] {
                try txn.insertDisclosure(ConformanceRecords.disclosure(id, referral: "r", subject: "s", state: .queued, at: t0))
            }
            try txn.enqueue(ConformanceRecords.item("a", recipient: "dv", mode: .push, at: at(0), next: at(20)))
            try txn.enqueue(ConformanceRecords.item("b", recipient: "dv", mode: .push, at: at(1), next: at(10)))
            try txn.enqueue(ConformanceRecords.item("c", recipient: "dv", mode: .push, at: at(2), next: at(90)))
            try txn.enqueue(ConformanceRecords.item("f", recipient: "dv", mode: .push, at: at(3), next: at(0), state: .failed))
            try txn.enqueue(ConformanceRecords.item("m", recipient: "dv", mode: .pull, at: at(4)))
        }
        let first = try await store.write { txn in
            try txn.claimDueOutbox(recipientID: "dv", now: at(30), leaseUntil: at(60), claimant: "node-1", limit: 10)
        }
        try expectEqual(first.map(\.id), ["b", "a"], "a claim takes due push items, soonest first")
        try expectEqual(first.map(\.claim), Array(repeating: OutboxClaim(claimant: "node-1", until: at(60)), count: 2), "the claim's answer carries the claim")
        try await store.write { txn in
            try expectEqual(
                try txn.claimDueOutbox(recipientID: "dv", now: at(59), leaseUntil: at(120), claimant: "node-2", limit: 10).map(\.id), [],
                "a live lease keeps others out"
            )
            try expectEqual(try txn.dueOutbox(recipientID: "dv", now: at(59), limit: 10).map(\.id), [], "leased items are not due")
            try expectEqual(try txn.claimDueOutbox(recipientID: "dv", now: at(30), leaseUntil: at(60), claimant: "node-2", limit: 0).map(\.id), [], "a limit of 0 claims nothing")
            try expectEqual(try txn.outboxItem(id: "b")?.claim, nil, "other reads do not carry the claim")
            try txn.releaseOutboxClaim(id: "b", claim: OutboxClaim(claimant: "node-2", until: at(60)))  // not the holder: nothing changes
        }
        try await store.read { txn in
            try expectEqual(try txn.dueOutbox(recipientID: "dv", now: at(59), limit: 10).map(\.id), [], "only the holder can release")
        }
        try await store.write { txn in
            try txn.releaseOutboxClaim(id: "b", claim: OutboxClaim(claimant: "node-1", until: at(60)))
            try txn.enqueue(ConformanceRecords.item("a", recipient: "dv", mode: .push, at: at(0), next: at(20)))
        }
        try await store.read { txn in
            try expectEqual(try txn.dueOutbox(recipientID: "dv", now: at(59), limit: 10).map(\.id), ["b", "a"], "released and replaced items are due again")
        }
        try await store.write { txn in
            _ = try txn.claimDueOutbox(recipientID: "dv", now: at(59), leaseUntil: at(100), claimant: "node-1", limit: 1)
        }
        let afterExpiry = try await store.write { txn in
            try txn.claimDueOutbox(recipientID: "dv", now: at(100), leaseUntil: at(200), claimant: "node-2", limit: 10)
        }
        try expectEqual(afterExpiry.map(\.id), ["b", "a", "c"], "an ended lease lets another node claim (and a later item falls due)")
        try expectEqual(afterExpiry.map(\.claim?.claimant), ["node-2", "node-2", "node-2"], "the new claimant holds them")
        // node-2's leases end; it claims "b" again for a second attempt while the first is still
        // being recorded. Recording the first ends only the first lease: the second holds.
        let again = try await store.write { txn in
            try txn.claimDueOutbox(recipientID: "dv", now: at(200), leaseUntil: at(300), claimant: "node-2", limit: 1)
        }
        try expectEqual(again.map(\.id), ["b"], "an ended lease lets its own claimant claim again")
        try await store.write { txn in try txn.releaseOutboxClaim(id: "b", claim: OutboxClaim(claimant: "node-2", until: at(200))) }
        try await store.read { txn in
            try expectEqual(
                try txn.dueOutbox(recipientID: "dv", now: at(201), limit: 10).map(\.id), ["a", "c"],
                "releasing an ended claim leaves the same claimant's later claim in place"
            )
        }
    }

    // MARK: Log filters

    /// Each field of `LogFilter` selects on its own column; the bounds are what they say.
    package func everyLogFilterSelectsByItsColumn() async throws {
        let clock = TestClock()
        let (harness, store) = try fresh(clock)
        defer { harness.close(store) }
        let t0 = clock.now
        let drafts: [LogEntryDraft] = [
            LogEntryDraft(event: .referralReceived, actor: "police", referralID: "r1", subjectID: "s1"),
            LogEntryDraft(event: .disclosureAuthorised, actor: "police", referralID: "r1", subjectID: "s1", disclosureID: "d1",
                          recipientID: "dv", service: "domestic-abuse", lawfulBasis: .consent, consentID: "c1"),
            LogEntryDraft(event: .disclosureAuthorised, actor: "officer", referralID: "r2", subjectID: "s2", disclosureID: "d2",
                          recipientID: "vs", service: "general", lawfulBasis: .vitalInterests, justificationDigest: "ab"),
            LogEntryDraft(event: .logViewed, actor: "admin"),
            LogEntryDraft(event: .disclosureDelivered, actor: "system", referralID: "r1", subjectID: "s1", disclosureID: "d1",
                          recipientID: "dv", lawfulBasis: .consent),
            LogEntryDraft(event: .subjectErased, actor: "admin", subjectID: "s2", reason: "erasure-request"),
        ]
        for (index, draft) in drafts.enumerated() {
            clock.set(Timestamp(milliseconds: t0.milliseconds + Int64(index) * 1000))
            _ = try await store.write { try $0.appendLog(draft) }
        }
        func seqs(_ adjust: (inout LogFilter) -> Void, limit: Int = 100) async throws -> [Int64] {
            var filter = LogFilter()
            adjust(&filter)
            let chosen = filter
            return try await store.read { try $0.logEntries(chosen, limit: limit).map(\.seq) }
        }
        @Sendable func at(_ seconds: Int64) -> Timestamp { Timestamp(milliseconds: t0.milliseconds + seconds * 1000) }
        try expectEqual(try await seqs { _ in }, [1, 2, 3, 4, 5, 6], "no filter")
        try expectEqual(try await seqs { $0.subjectID = "s1" }, [1, 2, 5], "subject")
        try expectEqual(try await seqs { $0.referralID = "r2" }, [3], "referral")
        try expectEqual(try await seqs { $0.recipientID = "dv" }, [2, 5], "recipient")
        try expectEqual(try await seqs { $0.event = "disclosure.authorised" }, [2, 3], "event")
        try expectEqual(try await seqs { $0.lawfulBasis = "vital-interests" }, [3], "lawful basis")
        try expectEqual(try await seqs { $0.actor = "admin" }, [4, 6], "actor")
        try expectEqual(try await seqs { $0.disclosureID = "d1" }, [2, 5], "disclosure")
        try expectEqual(try await seqs { $0.since = at(2) }, [3, 4, 5, 6], "since (inclusive)")
        try expectEqual(try await seqs { $0.until = at(2) }, [1, 2], "until (exclusive)")
        try expectEqual(try await seqs { $0.since = at(1); $0.until = at(4) }, [2, 3, 4], "since and until")
        try expectEqual(try await seqs { $0.afterSeq = 4 }, [5, 6], "after seq")
        try expectEqual(try await seqs { $0.beforeSeq = 3 }, [1, 2], "before seq")
        try expectEqual(try await seqs { $0.excludedEvents = ["log.viewed", "subject.erased"] }, [1, 2, 3, 5], "excluded events")
        try expectEqual(try await seqs { $0.newestFirst = true }, [6, 5, 4, 3, 2, 1], "newest first")
        try expectEqual(try await seqs({ $0.newestFirst = true; $0.beforeSeq = 5 }, limit: 2), [4, 3], "newest first before a cursor, limited")
        try expectEqual(try await seqs({ $0.afterSeq = 1 }, limit: 2), [2, 3], "oldest first after a cursor, limited")
        try expectEqual(try await seqs { $0.subjectID = "s1"; $0.event = "disclosure.delivered"; $0.actor = "system" }, [5], "fields together")
        try expectEqual(try await seqs { $0.subjectID = "nobody" }, [], "a subject with no entries")

        let entries = try await store.read { try $0.logEntries(LogFilter(), limit: 100) }
        try expectEqual(entries.map(\.draft.event), drafts.map(\.event), "events read back")
        try expectEqual(entries[1].draft.consentID, "c1", "consent id read back")
        try expectEqual(entries[2].draft.justificationDigest, "ab", "justification digest read back")
        try expectEqual(entries[5].draft.reason, "erasure-request", "reason read back")
        try expectEqual(entries.map(\.time), (0..<6).map { at(Int64($0)) }, "times read back")
        let walked = try await store.read { txn -> [Int64] in
            var seen: [Int64] = []
            try txn.forEachLogEntry(from: 3) { entry in
                seen.append(entry.seq)
                return entry.seq < 5
            }
            return seen
        }
        try expectEqual(walked, [3, 4, 5], "forEachLogEntry from a seq until the body says stop")
        try await expectChainVerifies(store)
    }

    /// The console's daily counts: by day (in the offset asked for), event, recipient and basis,
    /// within [since, until), of the events asked for only.
    package func logEventCountsByDayRecipientAndBasis() async throws {
        let clock = TestClock()
        let (harness, store) = try fresh(clock)
        defer { harness.close(store) }
        let t0 = clock.now  // 2026-11-20T12:00:00Z, day 20777
        let hour: Int64 = 3_600_000
        let entries: [(Int64, LogEntryDraft)] = [
            (0, LogEntryDraft(event: .disclosureAuthorised, actor: "police", recipientID: "dv", lawfulBasis: .consent)),
            (11 * hour + hour / 2, LogEntryDraft(event: .disclosureAuthorised, actor: "police", recipientID: "dv", lawfulBasis: .consent)),
            (12 * hour, LogEntryDraft(event: .disclosureAuthorised, actor: "officer", recipientID: "vs", lawfulBasis: .vitalInterests)),
            (13 * hour, LogEntryDraft(event: .disclosureWithheld, actor: "police", recipientID: "vs", reason: "awaiting-consent")),
            (14 * hour, LogEntryDraft(event: .logViewed, actor: "admin")),
            (36 * hour, LogEntryDraft(event: .disclosureAuthorised, actor: "police", recipientID: "dv", lawfulBasis: .consent)),
        ]
        for (offset, draft) in entries {
            clock.set(Timestamp(milliseconds: t0.milliseconds + offset))
            _ = try await store.write { try $0.appendLog(draft) }
        }
        let until = Timestamp(milliseconds: t0.milliseconds + 36 * hour)
        let events = [LogEvent.disclosureAuthorised.rawValue, LogEvent.disclosureWithheld.rawValue]
        func counts(_ offset: Int64, events: [String] = events, since: Timestamp = t0, afterSeq: Int64? = nil) async throws -> Set<LogEventCount> {
            Set(try await store.read { try $0.logEventCounts(since: since, until: until, afterSeq: afterSeq, events: events, utcOffsetMilliseconds: offset) })
        }
        try expectEqual(try await counts(0), [
            LogEventCount(day: 20777, event: "disclosure.authorised", recipientID: "dv", lawfulBasis: "consent", count: 2),
            LogEventCount(day: 20778, event: "disclosure.authorised", recipientID: "vs", lawfulBasis: "vital-interests", count: 1),
            LogEventCount(day: 20778, event: "disclosure.withheld", recipientID: "vs", lawfulBasis: nil, count: 1),
        ], "UTC days; until is exclusive; other events left out")
        try expectEqual(try await counts(hour), [
            LogEventCount(day: 20777, event: "disclosure.authorised", recipientID: "dv", lawfulBasis: "consent", count: 1),
            LogEventCount(day: 20778, event: "disclosure.authorised", recipientID: "dv", lawfulBasis: "consent", count: 1),
            LogEventCount(day: 20778, event: "disclosure.authorised", recipientID: "vs", lawfulBasis: "vital-interests", count: 1),
            LogEventCount(day: 20778, event: "disclosure.withheld", recipientID: "vs", lawfulBasis: nil, count: 1),
        ], "days an hour ahead of UTC: 23:30 UTC is the next day")
        try expectEqual(try await counts(0, since: Timestamp(milliseconds: t0.milliseconds + 1)).count, 3, "since is inclusive")
        try expectEqual(try await counts(0, since: Timestamp(milliseconds: t0.milliseconds + 1)).first { $0.day == 20777 }?.count, 1)
        try expectEqual(try await counts(0, events: [LogEvent.logViewed.rawValue]), [
            LogEventCount(day: 20778, event: "log.viewed", recipientID: nil, lawfulBasis: nil, count: 1),
        ], "one event")
        try expectEqual(try await counts(0, events: []), [], "no event asked for")
        try expectEqual(try await counts(0, afterSeq: 2), [
            LogEventCount(day: 20778, event: "disclosure.authorised", recipientID: "vs", lawfulBasis: "vital-interests", count: 1),
            LogEventCount(day: 20778, event: "disclosure.withheld", recipientID: "vs", lawfulBasis: nil, count: 1),
        ], "only the entries after a seq")
        try expectEqual(try await counts(0, afterSeq: 6), [], "nothing after the head")
    }

    // MARK: Finding

    /// Ids by prefix and their neighbours, the distinct values filters take, the blind index and
    /// its backfill cursor, referrals in id order.
    package func findingByPrefixAndBlindIndex() async throws {
        let (harness, store) = try fresh()
        defer { harness.close(store) }
        try await store.write { txn in
            let now = txn.now
            for id in ["ab12", "ab34", "ac00", "b000"] { try txn.insertSubject(ConformanceRecords.subject(id, now), key: ConformanceRecords.key(id)) }
            try txn.insertReferral(ConformanceRecords.referral("r2", subject: "ab12", partner: "p", reference: [2], at: now))
            try txn.insertReferral(ConformanceRecords.referral("r1", subject: "ab34", partner: "p", reference: [1], at: now))
            try txn.insertReferral(ConformanceRecords.referral("r3", subject: "ac00", partner: "p", reference: [3], at: now))
            try txn.appendLog(LogEntryDraft(event: .disclosureAuthorised, actor: "police", recipientID: "vs"))
            try txn.appendLog(LogEntryDraft(event: .disclosureAuthorised, actor: "officer", recipientID: "dv"))
            try txn.appendLog(LogEntryDraft(event: .logViewed, actor: "police"))
            try txn.insertSubjectIndex([
                SubjectIndexEntry(kind: .nameAndDateOfBirth, digest: [1], subjectID: "ab12", referralID: "r2"),
                SubjectIndexEntry(kind: .nameAndDateOfBirth, digest: [1], subjectID: "ab34", referralID: "r1"),
                SubjectIndexEntry(kind: .crimeReference, digest: [1], subjectID: "ab12", referralID: "r2"),
            ])
            try txn.insertSubjectIndex([SubjectIndexEntry(kind: .nameAndDateOfBirth, digest: [1], subjectID: "ab12", referralID: "r2")])
        }
        try await store.read { txn in
            try expectEqual(try txn.ids(.subject, prefix: "ab", limit: 10), ["ab12", "ab34"], "ids by prefix")
            try expectEqual(try txn.ids(.subject, prefix: "a", limit: 2), ["ab12", "ab34"], "ids by prefix, limited")
            try expectEqual(try txn.ids(.referral, prefix: "r", limit: 10), ["r1", "r2", "r3"], "referral ids")
            try expectEqual(try txn.ids(.disclosure, prefix: "", limit: 10), [], "no disclosures")
            let neighbours = try txn.idNeighbours(.subject, of: "ab34")
            try expectEqual(neighbours.before, "ab12", "neighbour before")
            try expectEqual(neighbours.after, "ac00", "neighbour after")
            try expectEqual(try txn.idNeighbours(.subject, of: "b000").after, nil, "no neighbour after the last")
            try expectEqual(try txn.distinctLogValues(.recipient), ["dv", "vs"], "distinct recipients")
            try expectEqual(try txn.distinctLogValues(.actor), ["officer", "police"], "distinct actors")
            try expectEqual(try txn.subjectIndexEntries(kind: .nameAndDateOfBirth, digest: [1]).map(\.referralID), ["r1", "r2"], "index entries (each once)")
            try expectEqual(try txn.subjectIndexEntries(kind: .crimeReference, digest: [1]).map(\.subjectID), ["ab12"], "index entries by kind")
            try expectEqual(try txn.subjectIndexEntries(kind: .nameAndDateOfBirth, digest: [2]).count, 0, "index entries by digest")
            try expectEqual(try txn.subjectIndexBackfillCursor(), "", "a new store's backfill cursor")
            let after = try txn.sealedReferrals(after: "r1", limit: 10)
            try expectEqual(after.map(\.id), ["r2", "r3"], "referrals after an id")
            try expectEqual(after.first?.subjectID, "ab12", "their subject")
            try expectEqual(after.first?.sealedBody, [1, 2, 3], "their sealed body")
        }
        try await store.write { txn in
            try txn.replaceSubjectIndex(referralID: "r2", with: [SubjectIndexEntry(kind: .nameAndDateOfBirth, digest: [2], subjectID: "ab12", referralID: "r2")])
            try txn.setSubjectIndexBackfillCursor("r2")
        }
        try await store.read { txn in
            try expectEqual(try txn.subjectIndexEntries(kind: .nameAndDateOfBirth, digest: [1]).map(\.referralID), ["r1"], "index after replacing r2's")
            try expectEqual(try txn.subjectIndexEntries(kind: .crimeReference, digest: [1]).count, 0, "r2's other entries replaced too")
            try expectEqual(try txn.subjectIndexEntries(kind: .nameAndDateOfBirth, digest: [2]).map(\.referralID), ["r2"], "r2's new entry")
            try expectEqual(try txn.subjectIndexBackfillCursor(), "r2", "backfill cursor")
        }
        try await store.write { txn in try txn.setSubjectIndexBackfillCursor(nil) }
        try expectEqual(try await store.read { try $0.subjectIndexBackfillCursor() }, nil, "backfill done")
    }

    // MARK: Retention

    /// Subjects due by their last referral, consent details by when the consent ended, the log
    /// pruned up to an anchor.
    package func retentionQueriesAndPruning() async throws {
        let clock = TestClock()
        let (harness, store) = try fresh(clock)
        defer { harness.close(store) }
        let t0 = clock.now
        @Sendable func at(_ days: Int64) -> Timestamp { Timestamp(milliseconds: t0.milliseconds + days * 86_400_000) }
        try await store.write { txn in
            for subject in ["old", "recent", "erased", "none"] { try txn.insertSubject(ConformanceRecords.subject(subject, t0), key: ConformanceRecords.key(subject)) }
            // "old": referrals at day 0 and 10; "recent": day 5 and 30; "erased": day 0, then erased.
            try txn.insertReferral(ConformanceRecords.referral("o1", subject: "old", partner: "p", reference: [1], at: at(0)))
            try txn.insertReferral(ConformanceRecords.referral("o2", subject: "old", partner: "p", reference: [2], at: at(10)))
            try txn.insertReferral(ConformanceRecords.referral("n1", subject: "recent", partner: "p", reference: [3], at: at(5)))
            try txn.insertReferral(ConformanceRecords.referral("n2", subject: "recent", partner: "p", reference: [4], at: at(30)))
            try txn.insertReferral(ConformanceRecords.referral("e1", subject: "erased", partner: "p", reference: [5], at: at(0)))
            try txn.eraseSubject(id: "erased", at: at(1))
            // Consents ended: withdrawn day 3; expires day 7; recorded day 2 (neither); withdrawn but details gone.
            var withdrawn = ConformanceRecords.consent("cw", subject: "old", referral: "o1", at: at(2), digest: nil)
            withdrawn.withdrawnAt = at(3)
            withdrawn.expiresAt = at(1)
            var expiring = ConformanceRecords.consent("ce", subject: "old", referral: "o1", at: at(1), digest: nil)
            expiring.expiresAt = at(7)
            let recorded = ConformanceRecords.consent("cr", subject: "recent", referral: "n1", at: at(2), digest: nil)
            try txn.insertConsent(withdrawn)
            try txn.insertConsent(expiring)
            try txn.insertConsent(recorded)
        }
        try await store.read { txn in
            try expectEqual(try txn.subjectsLastReferred(before: at(11), limit: 10), ["old"], "subjects last referred before day 11")
            try expectEqual(try txn.subjectsLastReferred(before: at(10), limit: 10), [], "the cutoff is exclusive")
            try expectEqual(try txn.subjectsLastReferred(before: at(31), limit: 10), ["old", "recent"], "both, erased and unreferred left out")
            try expectEqual(try txn.subjectsLastReferred(before: at(31), limit: 1).count, 1, "limited")
            try expectEqual(try txn.earliestLastReferral(), at(10), "the subject due first: its newest referral")
            try expectEqual(try txn.earliestConsentDetails(), at(2), "earliest consent end (recorded, never withdrawn nor expiring)")
        }
        let erasedCount = try await store.write { try $0.eraseConsentDetails(endedBefore: at(3)) }
        try expectEqual(erasedCount, 1, "consent details ended before day 3 (recorded at day 2)")
        try await store.read { txn in
            try expect(try txn.consent(id: "cr")?.sealedDetails == nil, "details of a consent ended before the cutoff kept")
            try expect(try txn.consent(id: "cw")?.sealedDetails != nil, "withdrawal (day 3), not expiry (day 1), ends a withdrawn consent")
            try expectEqual(try txn.earliestConsentDetails(), at(3), "earliest consent end after erasing one")
        }
        try expectEqual(try await store.write { try $0.eraseConsentDetails(endedBefore: at(8)) }, 2, "the other two by day 8")
        try expectEqual(try await store.read { try $0.earliestConsentDetails() }, nil, "no consent details left")

        var appended: [Int64: String] = [:]
        for day in 0..<4 {
            clock.set(at(Int64(day)))
            let entry = try await store.write { try $0.appendLog(LogEntryDraft(event: .referralReceived, actor: "p")) }
            appended[entry.seq] = entry.hash
        }
        let hashes = appended
        try expectEqual(try await store.read { try $0.earliestLogTime() }, Optional(at(0)), "earliest log time")
        try await store.write { txn in
            try txn.insertCheckpoint(Checkpoint(seq: 2, hash: hashes[2] ?? "", time: at(1), signature: [1], keyID: "k"))
            try txn.insertCheckpoint(Checkpoint(seq: 3, hash: hashes[3] ?? "", time: at(2), signature: [2], keyID: "k"))
            try txn.pruneLog(through: 2, hash: hashes[2] ?? "")
        }
        try await store.read { txn in
            try expectEqual(try txn.logAnchor()?.seq, 2, "anchor seq")
            try expectEqual(try txn.logAnchor()?.hash, hashes[2], "anchor hash")
            try expectEqual(try txn.logBounds()?.first, 3, "first entry after pruning")
            try expectEqual(try txn.earliestLogTime(), at(2), "earliest log time after pruning")
            try expectEqual(try txn.checkpoints().map(\.seq), [2, 3], "checkpoints, oldest first")
            try expectEqual(try txn.latestCheckpoint()?.seq, 3, "latest checkpoint")
            try expect(try txn.logEntry(seq: 1) == nil, "a pruned entry is still there")
        }
        try await expectChainVerifies(store)
    }

    // MARK: Helpers

    /// The stored chain and its checkpoints as `LogVerifier` checks them.
    private func expectChainVerifies(_ store: any ExchangeStore, file: StaticString = #filePath, line: UInt = #line) async throws {
        let failure = try await store.read { txn -> LogVerificationFailure? in
            let anchor = try txn.logAnchor()
            var verifier = LogVerifier(checkpoints: try txn.checkpoints(), anchor: anchor)
            try txn.forEachLogEntry(from: (anchor?.seq ?? 0) + 1) { verifier.check($0) }
            verifier.finish()
            return verifier.failure
        }
        if let failure {
            throw ConformanceFailure(message: "the log does not verify: entry \(failure.seq): \(failure.reason)", file: file, line: line)
        }
    }

    /// Waits for `semaphore` on a thread of its own, so that no task thread is blocked.
    private func waitOffThread(_ semaphore: DispatchSemaphore, seconds: Int) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: semaphore.wait(timeout: .now() + .seconds(seconds)) == .success) }
        }
    }
}

/// Records for the suite, complete in every column.
enum ConformanceRecords {
    static func subject(_ id: String, _ at: Timestamp) -> SubjectRecord { SubjectRecord(id: id, createdAt: at) }

    static func key(_ subjectID: String) -> WrappedSubjectKey { WrappedSubjectKey(subjectID: subjectID, wrapped: Array("key-\(subjectID)".utf8)) }

    static func referral(_ id: String, subject: String, partner: String, reference: [UInt8], at: Timestamp) -> ReferralRecord {
        ReferralRecord(
            id: id, partnerID: partner, referenceKey: reference, subjectID: subject, schemaID: "urn:refex:schema:referral:1",
            bodyDigest: [0xBD], sealedBody: [1, 2, 3], receivedAt: at, receipt: []
        )
    }

    static func consent(_ id: String, subject: String, referral: String, at: Timestamp, digest: [UInt8]?) -> ConsentRecord {
        ConsentRecord(
            id: id, subjectID: subject, referralID: referral, partnerID: "police", purposes: ["domestic-abuse", "translation"],
            recipients: ["dv"], method: "verbal", obtainedAt: at, expiresAt: nil, withdrawnAt: nil, sealedDetails: [5, 5],
            recordedAt: at, documentDigest: digest
        )
    }

    static func disclosure(_ id: String, referral: String, subject: String, state: DisclosureState, at: Timestamp) -> DisclosureRecord {
        DisclosureRecord(
            id: id, referralID: referral, subjectID: subject, recipientID: "dv", service: "domestic-abuse", state: state,
            lawfulBasis: state == .queued ? .vitalInterests : nil, consentID: nil, justificationDigest: state == .queued ? "cafe" : nil,
            actor: "police", pointers: ["/subject/name", "/offence"], categories: ["health"], reason: state == .refused ? "no-recipient" : nil,
            createdAt: at, updatedAt: at
        )
    }

    static func item(
        _ id: String, recipient: String, mode: OutboxItem.Mode, at: Timestamp, next: Timestamp? = nil, state: OutboxItem.State = .pending
    ) -> OutboxItem {
        OutboxItem(id: id, kind: .disclosure, disclosureID: id, recipientID: recipient, mode: mode, state: state, enqueuedAt: at, nextAttemptAt: next ?? at)
    }
}
