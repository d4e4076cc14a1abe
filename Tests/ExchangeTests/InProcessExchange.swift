import Crypto
import Exchange
import Foundation
import JSON
import TestSupport
import XCTest

/// An `Exchange` over the in-memory store, built as the daemon builds it (the schemas in
/// `schemas/`, a master key, the development recipients), with a clock set by hand: the domain
/// tested in process, its effects read straight from the store's tables and log.
struct InProcessExchange {
    static let police = Actor(id: "police")
    static let officer = Actor(id: "duty-officer")
    static let admin = Actor(id: "dpo", isAdmin: true)
    /// The partner that pulls the translation mailbox.
    static let sink = Actor(id: "sink")

    /// The development recipients (as `RefexProcess.recipients`): dv-support (health allowed),
    /// victim-support (no special categories), translation (pull, for partner sink).
    static let recipients: [Recipient] = [
        Recipient(
            id: "dv-support", name: "DV service", services: ["domestic-abuse", "sexual-violence"],
            fields: ["/referenceId", "/subject/role", "/subject/name", "/subject/dateOfBirth", "/subject/contact", "/subject/language",
                     "/subject/vulnerabilities", "/subject/health", "/subject/religion", "/offence", "/supportNeeds", "/riskOfHarm"],
            categories: ["health"], delivery: .push(endpoint: "https://localhost:9443/deliveries", caPath: "/dev/null")
        ),
        Recipient(
            id: "victim-support", name: "General support", services: ["general-victim-support", "hate-crime", "fraud"],
            fields: ["/referenceId", "/subject/name", "/subject/contact", "/subject/language", "/subject/health", "/subject/religion",
                     "/offence/category", "/offence/hateCrimeStrands", "/supportNeeds/*/service", "/riskOfHarm"],
            categories: [], delivery: .push(endpoint: "https://localhost:9443/deliveries", caPath: "/dev/null")
        ),
        Recipient(
            id: "translation", name: "Translation", services: ["translation"],
            fields: ["/referenceId", "/subject/name", "/subject/language", "/subject/contact/phone", "/subject/contact/email",
                     "/subject/contact/preferredMethod"],
            categories: [], delivery: .pull(partnerID: "sink")
        ),
    ]

    let clock = TestClock()
    let state = InMemoryStoreState()
    let keyring = Keyring(masterKey: SymmetricKey.random())
    let exchange: Exchange

    /// The schemas in `schemas/`, compiled once for every test.
    private static let catalog = Result { try SchemaCatalog(folder: "\(ProjectPaths.root)/schemas") }

    init(recipients: [Recipient] = InProcessExchange.recipients) throws {
        exchange = Exchange(
            store: InMemoryStore(state: state, clock: clock.reading), catalog: try Self.catalog.get(), keyring: keyring, recipients: recipients
        )
    }

    // MARK: Documents

    /// An example from `schemas/examples`, changed by `change`, as the bytes a partner posts.
    static func example(_ name: String, _ change: (inout JSONObject) -> Void = { _ in }) throws -> [UInt8] {
        let path = "\(ProjectPaths.root)/schemas/examples/\(name).json"
        guard let data = FileManager.default.contents(atPath: path), case .object(var object) = try JSONValue.parse(Array(data)) else {
            throw ExampleMissing(path: path)
        }
        change(&object)
        return JSONValue.object(object).serialized()
    }

    struct ExampleMissing: Error { var path: String }

    /// The domestic-abuse referral: consent for `domestic-abuse` only (dv-support queued on it,
    /// victim-support awaiting consent for `general-victim-support`).
    static func domesticAbuseReferral(referenceID: String = "DEV-2026-0001", withConsent: Bool = true) throws -> [UInt8] {
        try example("referral-1-domestic-abuse") { object in
            object["referenceId"] = .string(referenceID)
            if !withConsent { object["consent"] = nil }
        }
    }

    /// Consent for `general-victim-support`, for referral `referralID`.
    static func consent(for referralID: String, purposes: [String] = ["general-victim-support"]) throws -> [UInt8] {
        try example("consent-1") { object in
            object["referralId"] = .string(referralID)
            object["purposes"] = .array(purposes.map { .string($0) })
        }
    }

    // MARK: Reading the store

    var tables: InMemoryTables { state.tables }

    /// Every log entry, in order.
    var log: [LogEntry] { tables.log.compactMap { LogEntry(canonical: $0.canonical, hash: $0.hash) } }

    /// The log entries appended after `seq`.
    func entries(after seq: Int64) -> [LogEntry] { log.filter { $0.seq > seq } }

    var headSeq: Int64 { tables.log.last?.seq ?? 0 }

    func disclosures(referralID: String) -> [DisclosureRecord] {
        tables.disclosures.values.sorted { $0.rowID < $1.rowID }.map(\.record).filter { $0.referralID == referralID }
    }

    func disclosure(referralID: String, recipient: String) throws -> DisclosureRecord {
        try XCTUnwrap(disclosures(referralID: referralID).first { $0.recipientID == recipient }, "no disclosure to \(recipient)")
    }

    func referral(_ id: String) throws -> ReferralRecord { try XCTUnwrap(tables.referrals[id]?.record, "no referral \(id)") }

    func subject(_ id: String) throws -> SubjectRecord { try XCTUnwrap(tables.subjects[id]?.record, "no subject \(id)") }

    func consents(subjectID: String) -> [ConsentRecord] {
        tables.consents.values.sorted { $0.rowID < $1.rowID }.map(\.record).filter { $0.subjectID == subjectID }
    }

    /// The referral's document, opened with its subject's key.
    func document(ofReferral id: String) throws -> JSONValue {
        let referral = try referral(id)
        let wrapped = try XCTUnwrap(tables.subjectKeys[referral.subjectID], "no key")
        let sealed = try XCTUnwrap(referral.sealedBody, "no sealed body")
        return try JSONValue.parse(try keyring.open(sealed, key: try keyring.unwrap(wrapped), context: "referral|\(id)"))
    }

    /// Asserts that the whole log verifies, as `refex log verify` checks it.
    func assertLogVerifies(logRetention: Duration? = nil, file: StaticString = #filePath, line: UInt = #line) async throws {
        let report = try await exchange.verifyLog(publicKey: nil, kept: nil, logRetention: logRetention, by: Self.admin)
        XCTAssertNil(report.failure, "the log does not verify: \(report.failure.map { "\($0.seq): \($0.reason)" } ?? "")", file: file, line: line)
    }

    /// Asserts that no log entry holds any of `values` (personal data from a referral).
    func assertLogHoldsNone(of values: [String], file: StaticString = #filePath, line: UInt = #line) {
        let text = String(decoding: tables.log.flatMap(\.canonical), as: UTF8.self)
        for value in values {
            XCTAssertFalse(text.contains(value), "the log holds \(value)", file: file, line: line)
        }
    }

    /// Delivers the disclosure's outbox item as the delivery service would record a 2xx.
    func deliver(_ disclosureID: String) async throws {
        let item = try XCTUnwrap(tables.outbox[disclosureID]?.record, "nothing queued for \(disclosureID)")
        try await exchange.recordDelivery(item, decision: .delivered)
    }
}
