import Exchange
import Foundation
import Logging
import SQLite
import TestSupport
import XCTest
@testable import Store

/// Rows decode strictly: a column changed outside refex to what refex cannot read is an error that
/// names the table, the column and (only when it cannot be personal) the value, never a default.
final class StrictRowTests: XCTestCase {
    private var folder = ""

    override func setUp() async throws {
        folder = ProjectPaths.temporaryDirectory()
        let store = try open()
        defer { store.close() }
        try await store.write { txn in
            try txn.insertSubject(SubjectRecord(id: "s1", createdAt: txn.now), key: WrappedSubjectKey(subjectID: "s1", wrapped: [1, 2, 3]))
            try txn.insertReferral(ReferralRecord(
                id: "r1", partnerID: "p", referenceKey: [1], subjectID: "s1", schemaID: "urn:x", bodyDigest: [0], sealedBody: [9],
                receivedAt: txn.now, receipt: []
            ))
            try txn.insertConsent(ConsentRecord(
                id: "c1", subjectID: "s1", referralID: "r1", partnerID: "p", purposes: ["fraud"], recipients: nil, method: "verbal",
                obtainedAt: txn.now, expiresAt: nil, withdrawnAt: nil, sealedDetails: nil, recordedAt: txn.now, documentDigest: [7]
            ))
            try txn.insertDisclosure(DisclosureRecord(
                id: "d1", referralID: "r1", subjectID: "s1", recipientID: "x", service: "fraud", state: .queued,
                lawfulBasis: .vitalInterests, consentID: nil, justificationDigest: nil, actor: "o", pointers: ["/a"],
                categories: [], reason: nil, createdAt: txn.now, updatedAt: txn.now
            ))
            try txn.enqueue(OutboxItem(id: "d1", kind: .disclosure, disclosureID: "d1", recipientID: "x", mode: .push, enqueuedAt: txn.now, nextAttemptAt: txn.now))
            try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p", referralID: "r1"))
        }
    }

    private func open() throws -> any RefexStore {
        try StoreConfiguration.sqlite(path: "\(folder)/refex.db", keysPath: "\(folder)/refex-keys.db")
            .open(logger: Logger(sink: InMemoryLogSink()), masterKey: nil)
    }

    /// Changes the data file with a raw connection, as a tool or a damaged disk would.
    private func corrupt(_ sql: String) throws {
        let connection = try SQLiteConnection(path: "\(folder)/refex.db", mode: .readWriteExisting)
        try connection.execute(sql)
    }

    /// Reads with `body` on a fresh store and returns the error's description, failing unless it is
    /// a `malformedRow` naming `table` and `column`.
    private func readFailure<Value: Sendable>(
        table: String, column: String, file: StaticString = #filePath, line: UInt = #line,
        _ body: @escaping @Sendable (any StoreTransaction) throws -> Value
    ) async throws -> String {
        let store = try open()
        defer { store.close() }
        do {
            let value = try await store.read(body)
            XCTFail("read \(value) instead of failing", file: file, line: line)
            return ""
        } catch let error as StoreError {
            XCTAssertEqual(error.kind, .malformedRow, "\(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains("table \(table), column \(column) "), error.description, file: file, line: line)
            return error.description
        }
    }

    func testAnUnknownDisclosureStateIsNamedNotReadAsFailed() async throws {
        try corrupt("UPDATE disclosures SET state = 'sent' WHERE id = 'd1'")
        let message = try await readFailure(table: "disclosures", column: "state") { try $0.disclosure(id: "d1") }
        XCTAssertTrue(message.contains("'sent'"), message)
        _ = try await readFailure(table: "disclosures", column: "state") { try $0.disclosures(referralID: "r1") }
        // The counts moved with the change (a trigger): the count of a state refex does not know is named.
        let counted = try await readFailure(table: "store_counts", column: "name") { try $0.statistics() }
        XCTAssertTrue(counted.contains("'disclosures.sent'"), counted)
    }

    func testAnUnknownLawfulBasisIsAnErrorNotNone() async throws {
        try corrupt("UPDATE disclosures SET lawful_basis = 'whim' WHERE id = 'd1'")
        let message = try await readFailure(table: "disclosures", column: "lawful_basis") { try $0.disclosures(subjectID: "s1") }
        XCTAssertTrue(message.contains("'whim'"), message)
    }

    func testAValueThatMayBePersonalIsNotRepeated() async throws {
        try corrupt("UPDATE disclosures SET state = 'Jane Smith, 4 Acacia Avenue' WHERE id = 'd1'")
        let message = try await readFailure(table: "disclosures", column: "state") { try $0.disclosure(id: "d1") }
        XCTAssertFalse(message.contains("Jane"), message)
        XCTAssertFalse(message.contains("Acacia"), message)
    }

    func testUnknownOutboxKindModeAndStateAreEachNamed() async throws {
        for (column, value) in [("kind", "telegram"), ("mode", "carrier-pigeon"), ("state", "lost")] {
            try corrupt("UPDATE outbox SET \(column) = '\(value)' WHERE id = 'd1'")
            let message = try await readFailure(table: "outbox", column: column) { try $0.outboxItem(id: "d1") }
            XCTAssertTrue(message.contains("'\(value)'"), message)
            _ = try await readFailure(table: "outbox", column: column) { try $0.outboxItems(state: nil, limit: 10) }
            try corrupt("UPDATE outbox SET kind = 'disclosure', mode = 'push', state = 'pending' WHERE id = 'd1'")
        }
        let item = try await open().read { try $0.outboxItem(id: "d1") }
        XCTAssertEqual(item?.kind, .disclosure, "restored, it reads again")
    }

    func testAFlagOtherThanZeroOrOneAndANegativeCountAreNamedWithTheirNumber() async throws {
        try corrupt("UPDATE subjects SET restricted = 2 WHERE id = 's1'")
        let flag = try await readFailure(table: "subjects", column: "restricted") { try $0.subject(id: "s1") }
        XCTAssertTrue(flag.contains("holds 2 where 0 or 1 is required"), flag)
        try corrupt("UPDATE outbox SET attempts = -3 WHERE id = 'd1'")
        let count = try await readFailure(table: "outbox", column: "attempts") { try $0.outboxItem(id: "d1") }
        XCTAssertTrue(count.contains("-3"), count)
    }

    func testAListColumnThatIsNotAJSONArrayOfStringsIsNamedWithoutItsText() async throws {
        try corrupt("UPDATE disclosures SET pointers = 'not json at all' WHERE id = 'd1'")
        let notJSON = try await readFailure(table: "disclosures", column: "pointers") { try $0.disclosure(id: "d1") }
        XCTAssertFalse(notJSON.contains("not json at all"), notJSON)
        try corrupt("UPDATE disclosures SET pointers = '[\"/a\", 3]' WHERE id = 'd1'")
        _ = try await readFailure(table: "disclosures", column: "pointers") { try $0.disclosure(id: "d1") }
        try corrupt("UPDATE consents SET purposes = '{}' WHERE id = 'c1'")
        _ = try await readFailure(table: "consents", column: "purposes") { try $0.consents(subjectID: "s1") }
    }

    func testALogEntryThatDoesNotParseIsNamedNotDropped() async throws {
        try corrupt("UPDATE log_entries SET entry = X'7B00' WHERE seq = 1")
        let message = try await readFailure(table: "log_entries", column: "entry") { try $0.logEntries(LogFilter(), limit: 10) }
        XCTAssertTrue(message.contains("entry 1"), message)
        _ = try await readFailure(table: "log_entries", column: "entry") { try $0.logEntry(seq: 1) }
    }

    func testAWrongTypeIsNamedWithItsTypeAndNeverItsBytes() throws {
        // STRICT tables refuse a wrong type on write; a row from elsewhere (a cast, a tool) is read the same way.
        let sealed = StrictRow(SQLiteRow(values: [.blob(Array("Jane".utf8)), .text("12"), .real(1.5)]), table: "t", columns: ["a", "b", "c"])
        XCTAssertThrowsError(try sealed.text(0)) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .malformedRow)
            XCTAssertTrue("\(error)".contains("table t, column a holds bytes where a text is required"), "\(error)")
            XCTAssertFalse("\(error)".contains("Jane"), "\(error)")
        }
        XCTAssertThrowsError(try sealed.integer(1)) { error in
            XCTAssertTrue("\(error)".contains("column b holds a text where an integer is required"), "\(error)")
        }
        XCTAssertThrowsError(try sealed.optionalTimestamp(2)) { error in
            XCTAssertTrue("\(error)".contains("column c holds the real 1.5 where an integer is required"), "\(error)")
        }
        XCTAssertThrowsError(try StrictRow(SQLiteRow(values: [.null]), table: "t", columns: ["a"]).text(0)) { error in
            XCTAssertTrue("\(error)".contains("column a is NULL where a text is required"), "\(error)")
        }
        XCTAssertEqual(try sealed.optionalBlob(1), Array("12".utf8), "bytes written as text are the same bytes")
    }
}
