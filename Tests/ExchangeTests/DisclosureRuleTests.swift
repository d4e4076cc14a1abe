import JSON
import XCTest
@testable import Exchange

/// Every combination of the facts `DisclosureRule.decide` reads: the subject's state × a
/// recipient or none × fields or none × what the disclosure stands on and the consents held.
final class DisclosureRuleTests: XCTestCase {
    static let now = Timestamp(milliseconds: 1_800_000_000_000)
    static let service = "domestic-abuse"
    static let recipient = "dv-support"

    static func consent(
        _ id: String, purposes: [String] = [service], recipients: [String]? = nil, expiresAt: Timestamp? = nil, withdrawnAt: Timestamp? = nil
    ) -> ConsentRecord {
        ConsentRecord(
            id: id, subjectID: "s", referralID: "r", partnerID: "police", purposes: purposes, recipients: recipients, method: "verbal",
            obtainedAt: Timestamp(milliseconds: now.milliseconds - 86_400_000), expiresAt: expiresAt, withdrawnAt: withdrawnAt,
            sealedDetails: nil, recordedAt: Timestamp(milliseconds: now.milliseconds - 86_400_000)
        )
    }

    static let inForce = consent("in-force")
    static let named = consent("named", recipients: [recipient])
    static let namesAnother = consent("names-another", recipients: ["translation-co"])
    static let otherPurpose = consent("other-purpose", purposes: ["translation"])
    static let withdrawn = consent("withdrawn", withdrawnAt: Timestamp(milliseconds: now.milliseconds - 1))
    static let expiresNow = consent("expires-now", expiresAt: now)
    static let expiresLater = consent("expires-later", expiresAt: Timestamp(milliseconds: now.milliseconds + 1))
    static let expiredAndWithdrawn = consent("expired-and-withdrawn", expiresAt: now, withdrawnAt: now)

    /// What the disclosure stands on and the consents held, with the decision when nothing else
    /// (erasure, no recipient, nothing to disclose, restriction) stops it first.
    struct Basis {
        var name: String
        var standing: DisclosureRule.Standing
        var consents: [ConsentRecord]
        var expected: DisclosureDecision
    }

    static let bases: [Basis] = [
        // Not yet authorised: the first consent that covers it, in the order given.
        Basis(name: "unauthorised, no consent", standing: .unauthorised, consents: [], expected: .withhold(.awaitingConsent)),
        Basis(name: "unauthorised, consent in force", standing: .unauthorised, consents: [inForce], expected: .disclose(basis: .consent, consentID: "in-force")),
        Basis(name: "unauthorised, consent naming the recipient", standing: .unauthorised, consents: [named], expected: .disclose(basis: .consent, consentID: "named")),
        Basis(name: "unauthorised, consent naming another recipient", standing: .unauthorised, consents: [namesAnother], expected: .withhold(.awaitingConsent)),
        Basis(name: "unauthorised, consent for another purpose", standing: .unauthorised, consents: [otherPurpose], expected: .withhold(.awaitingConsent)),
        Basis(name: "unauthorised, withdrawn consent", standing: .unauthorised, consents: [withdrawn], expected: .withhold(.awaitingConsent)),
        Basis(name: "unauthorised, consent expiring now", standing: .unauthorised, consents: [expiresNow], expected: .withhold(.awaitingConsent)),
        Basis(name: "unauthorised, consent expiring a millisecond later", standing: .unauthorised, consents: [expiresLater],
              expected: .disclose(basis: .consent, consentID: "expires-later")),
        Basis(name: "unauthorised, first covering consent wins", standing: .unauthorised,
              consents: [withdrawn, otherPurpose, namesAnother, named, inForce], expected: .disclose(basis: .consent, consentID: "named")),
        // Authorised on a recorded consent: that one must still cover it; no other stands in.
        Basis(name: "consent, none recorded", standing: .consent(id: nil), consents: [inForce], expected: .withhold(.consentMissing)),
        Basis(name: "consent, not on record", standing: .consent(id: "gone"), consents: [inForce], expected: .withhold(.consentMissing)),
        Basis(name: "consent, in force", standing: .consent(id: "in-force"), consents: [otherPurpose, inForce],
              expected: .disclose(basis: .consent, consentID: "in-force")),
        Basis(name: "consent, naming the recipient", standing: .consent(id: "named"), consents: [named], expected: .disclose(basis: .consent, consentID: "named")),
        Basis(name: "consent, withdrawn", standing: .consent(id: "withdrawn"), consents: [withdrawn, inForce], expected: .withhold(.consentWithdrawn)),
        Basis(name: "consent, expiring now", standing: .consent(id: "expires-now"), consents: [expiresNow, inForce], expected: .withhold(.consentExpired)),
        Basis(name: "consent, expiring a millisecond later", standing: .consent(id: "expires-later"), consents: [expiresLater],
              expected: .disclose(basis: .consent, consentID: "expires-later")),
        Basis(name: "consent, withdrawn and expired", standing: .consent(id: "expired-and-withdrawn"), consents: [expiredAndWithdrawn],
              expected: .withhold(.consentWithdrawn)),
        Basis(name: "consent, for another purpose", standing: .consent(id: "other-purpose"), consents: [otherPurpose], expected: .withhold(.consentDoesNotCover)),
        Basis(name: "consent, naming another recipient", standing: .consent(id: "names-another"), consents: [namesAnother],
              expected: .withhold(.consentDoesNotCover)),
        // Authorised without consent.
        Basis(name: "override, justified", standing: .override(.vitalInterests, justified: true), consents: [],
              expected: .disclose(basis: .vitalInterests, consentID: nil)),
        Basis(name: "override on each other basis, justified", standing: .override(.legitimateInterests, justified: true), consents: [withdrawn],
              expected: .disclose(basis: .legitimateInterests, consentID: nil)),
        Basis(name: "override, no justification", standing: .override(.publicTask, justified: false), consents: [inForce], expected: .withhold(.noJustification)),
        Basis(name: "override naming consent as its basis", standing: .override(.consent, justified: true), consents: [inForce],
              expected: .withhold(.noLawfulBasis)),
        Basis(name: "recorded with no basis", standing: .noBasis, consents: [inForce], expected: .withhold(.noLawfulBasis)),
    ]

    /// The recipient's configuration as the caller knows it now, and whether it still allows the
    /// disclosure (nil: it provides no longer the service; true: it allows what would go).
    static func configurations() -> [(name: String, recipient: Recipient?, allows: Bool?)] {
        let full = Recipient(
            id: recipient, name: "DV service", services: [service, "sexual-violence"], fields: ["/subject/name", "/offence/*"],
            categories: ["health"], delivery: .push(endpoint: "https://dv.example/deliveries", caPath: "/etc/refex/dv-ca.crt")
        )
        var otherServices = full
        otherServices.services = ["sexual-violence"]
        var narrowerFields = full
        narrowerFields.fields = ["/subject/name"]
        var noCategory = full
        noCategory.categories = []
        var wholeDocument = full
        wholeDocument.fields = [""]
        return [
            ("not known here", nil, true), ("as decided", full, true), ("the whole document", wholeDocument, true),
            ("no longer providing the service", otherServices, nil), ("fields narrowed", narrowerFields, false),
            ("category withdrawn", noCategory, false),
        ]
    }

    func testEveryCombinationOfSubjectRecipientConfigurationFieldsAndBasis() {
        var combinations = 0
        for erased in [false, true] {
            for restricted in [false, true] {
                for recipientID in [nil, Self.recipient] {
                    for configuration in Self.configurations() {
                        for pointers in [[], ["/subject/name/given", "/offence/description"]] {
                            for basis in Self.bases {
                                // The order the rule promises: the first that applies.
                                let expected: DisclosureDecision = if erased {
                                    .withhold(.subjectErased)
                                } else if recipientID == nil || configuration.allows == nil {
                                    .withhold(.noRecipient)
                                } else if pointers.isEmpty {
                                    .withhold(.nothingToDisclose)
                                } else if configuration.allows == false {
                                    .withhold(.fieldsNotAllowed)
                                } else if restricted {
                                    .withhold(.restricted)
                                } else {
                                    basis.expected
                                }
                                let decision = DisclosureRule.decide(
                                    subject: DisclosureRule.SubjectState(restricted: restricted, erased: erased), consents: basis.consents,
                                    recipientID: recipientID, configuration: configuration.recipient, service: Self.service,
                                    standing: basis.standing, pointers: pointers, categories: pointers.isEmpty ? [] : ["health"], at: Self.now
                                )
                                XCTAssertEqual(
                                    decision, expected,
                                    "\(basis.name); erased \(erased), restricted \(restricted), recipient \(recipientID ?? "none") "
                                        + "configured \(configuration.name), fields \(pointers.count)"
                                )
                                combinations += 1
                            }
                        }
                    }
                }
            }
        }
        XCTAssertEqual(combinations, 2 * 2 * 2 * Self.configurations().count * 2 * Self.bases.count)
    }

    func testAllowedFieldsMatchAsTheMinimiserSelects() {
        let table: [([String], String, Bool, String)] = [
            (["/subject/name"], "/subject/name", true, "the field itself"),
            (["/subject/name"], "/subject/name/given", true, "a member within it"),
            (["/subject/name"], "/subject", false, "the object holding it"),
            (["/subject/name"], "/subject/nameless", false, "a token is matched whole"),
            (["/subject/contact/*/number"], "/subject/contact/phone/number", true, "* matches a member name"),
            (["/supportNeeds/*/service"], "/supportNeeds/1/service", true, "* matches an index"),
            (["/supportNeeds/*/service"], "/supportNeeds/1/notes", false, "* matches one token only"),
            ([""], "/anything/at/all", true, "the whole document"),
            (["/a~1b"], "/a~1b/c", true, "escaped tokens compare decoded"),
            (["/a~1b"], "/a/b", false, "an escaped slash is not a separator"),
            (["not a pointer"], "/subject/name", false, "a field that is not a pointer allows nothing"),
            ([], "/subject/name", false, "no fields"),
            (["/subject"], "not a pointer", false, "a leaf that is not a pointer is not allowed"),
            (["/subject"], "/subject~2", false, "a leaf with a bad escape is not allowed"),
            ([""], "", true, "the whole document, as a leaf"),
            (["/subject"], "", false, "the root is not within a member"),
            (["/subject/"], "/subject/", true, "an empty token matches an empty token"),
            (["/subject/"], "/subject/x", false, "an empty token is not a wildcard"),
            (["//a"], "//a", true, "empty tokens count"),
            (["/caf\u{E9}"], "/cafe\u{301}/x", true, "tokens compare as Swift strings, as the minimiser selects"),
        ]
        for (fields, pointer, allowed, name) in table {
            XCTAssertEqual(DisclosureRule.allows(fields, pointer), allowed, name)
        }
    }

    /// Leaves are matched in place as slices of their text where nothing is escaped; the answer
    /// must be the one a full parse of both gives, for any fields and leaf.
    func testAllowsAgreesWithAFullParseOfFieldsAndLeaf() {
        func reference(_ fields: [String], _ pointer: String) -> Bool {
            guard let leaf = try? JSONPointer(parsing: pointer) else { return false }
            return fields.contains { field in
                guard let pattern = try? JSONPointer(parsing: field), pattern.tokens.count <= leaf.tokens.count else { return false }
                return zip(pattern.tokens, leaf.tokens).allSatisfy { $0 == "*" || $0 == $1 }
            }
        }
        var generator = SystemRandomNumberGenerator()
        let pieces = ["/", "/", "a", "b", "~0", "~1", "~", "~2", "é", "e\u{301}", "\u{301}", "*", "0", "", " "]
        func text() -> String {
            (0..<Int.random(in: 0...6, using: &generator)).map { _ in pieces.randomElement(using: &generator) ?? "" }.joined()
        }
        for _ in 0..<20000 {
            let fields = (0..<Int.random(in: 0...3, using: &generator)).map { _ in text() }
            let pointer = text()
            XCTAssertEqual(DisclosureRule.allows(fields, pointer), reference(fields, pointer), "fields \(fields), leaf \(pointer)")
        }
    }

    func testAConsentCoversOnlyItsOwnServiceWhateverElseItCovers() {
        let decision = DisclosureRule.decide(
            subject: DisclosureRule.SubjectState(), consents: [Self.inForce], recipientID: Self.recipient, configuration: nil, service: "translation",
            standing: .unauthorised, pointers: ["/subject/name"], categories: [], at: Self.now
        )
        XCTAssertEqual(decision, .withhold(.awaitingConsent))
        XCTAssertEqual(
            DisclosureRule.decide(
                subject: DisclosureRule.SubjectState(), consents: [Self.inForce], recipientID: Self.recipient, configuration: nil, service: "translation",
                standing: .consent(id: "in-force"), pointers: ["/subject/name"], categories: [], at: Self.now
            ),
            .withhold(.consentDoesNotCover)
        )
    }

    func testReasonsKeepTheStringsAnswersAndLogEntriesCarry() {
        let strings: [WithholdingReason: String] = [
            .noRecipient: "no-recipient", .subjectErased: "subject-erased", .nothingToDisclose: "nothing-to-disclose",
            .fieldsNotAllowed: "fields-not-allowed", .restricted: "restricted", .awaitingConsent: "awaiting-consent", .noLawfulBasis: "no-lawful-basis",
            .consentMissing: "consent-missing", .consentWithdrawn: "consent-withdrawn", .consentExpired: "consent-expired",
            .consentDoesNotCover: "consent-does-not-cover", .noJustification: "no-justification",
        ]
        XCTAssertEqual(Set(strings.keys), Set(WithholdingReason.allCases))
        for (reason, string) in strings {
            XCTAssertEqual(reason.rawValue, string)
            XCTAssertEqual(WithholdingReason(rawValue: string), reason)
        }
    }

    func testAWithheldDisclosureIsRefusedOnlyWhenNoConsentOrOverrideCouldLetItGo() {
        let refused: Set<WithholdingReason> = [.noRecipient, .nothingToDisclose, .fieldsNotAllowed, .restricted]
        for reason in WithholdingReason.allCases {
            switch reason {
            case _ where refused.contains(reason): XCTAssertEqual(reason.state, .refused, reason.rawValue)
            case .subjectErased: XCTAssertEqual(reason.state, .cancelled)
            default: XCTAssertEqual(reason.state, .awaitingConsent, reason.rawValue)
            }
        }
    }

    func testWhatAStoredDisclosureStandsOn() {
        func record(_ state: DisclosureState, _ basis: LawfulBasis?, consent: String? = nil, digest: String? = nil, legacy: String? = nil) -> DisclosureRecord {
            DisclosureRecord(
                id: "d", referralID: "r", subjectID: "s", recipientID: Self.recipient, service: Self.service, state: state, lawfulBasis: basis,
                consentID: consent, justificationDigest: digest, actor: "police", pointers: ["/subject/name"], categories: [], reason: nil,
                createdAt: Self.now, updatedAt: Self.now, legacyJustification: legacy
            )
        }
        let table: [(DisclosureRecord, DisclosureRule.Standing, String)] = [
            (record(.awaitingConsent, nil), .unauthorised, "waiting, never authorised"),
            (record(.refused, nil), .unauthorised, "refused, never authorised"),
            (record(.awaitingConsent, .consent, consent: "c"), .unauthorised, "withheld after its consent lapsed: waits for a new one"),
            (record(.refused, .consent, consent: "c"), .unauthorised, "refused after authorisation (restricted)"),
            (record(.refused, .vitalInterests, digest: "ab"), .override(.vitalInterests, justified: true), "an override refused (restricted) stands again"),
            (record(.queued, nil), .noBasis, "queued with no basis"),
            (record(.failed, nil), .noBasis, "failed with no basis"),
            (record(.queued, .consent, consent: "c"), .consent(id: "c"), "queued on a consent"),
            (record(.delivered, .consent, consent: "c"), .consent(id: "c"), "delivered on a consent"),
            (record(.queued, .consent), .consent(id: nil), "queued on consent with none recorded"),
            (record(.queued, .vitalInterests, digest: "ab"), .override(.vitalInterests, justified: true), "override with a sealed justification"),
            (record(.failed, .publicTask, legacy: "kept before sealing"), .override(.publicTask, justified: true), "override with a legacy justification"),
            (record(.queued, .legalObligation, legacy: ""), .override(.legalObligation, justified: false), "override with an empty legacy justification"),
            (record(.queued, .legitimateInterests), .override(.legitimateInterests, justified: false), "override with no justification"),
        ]
        for (disclosure, standing, name) in table {
            XCTAssertEqual(DisclosureRule.Standing(disclosure), standing, name)
        }
    }

    func testAMissingSubjectCountsAsErased() {
        XCTAssertEqual(DisclosureRule.SubjectState(nil), DisclosureRule.SubjectState(restricted: false, erased: true))
        let restricted = SubjectRecord(id: "s", createdAt: Self.now, restricted: true)
        XCTAssertEqual(DisclosureRule.SubjectState(restricted), DisclosureRule.SubjectState(restricted: true, erased: false))
        let erased = SubjectRecord(id: "s", createdAt: Self.now, erasedAt: Self.now)
        XCTAssertEqual(DisclosureRule.SubjectState(erased), DisclosureRule.SubjectState(restricted: false, erased: true))
    }
}
