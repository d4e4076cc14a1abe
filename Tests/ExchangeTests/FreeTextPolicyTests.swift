import Exchange
import JSON
import JSONSchema
import XCTest

final class FreeTextPolicyTests: XCTestCase {
    private let referral: JSONValue = [
        "subject": [
            "name": ["given": "Alex", "family": "Example"],
            "dateOfBirth": "1990-04-12",
            "contact": [
                "phone": ["number": "+44 7700 900123"],
                "email": ["address": "alex.example@example.org"],
                "address": ["lines": ["1 Sample Street", "Testtown"], "postcode": "TE1 1ST"],
            ],
        ],
        "referringOfficer": ["name": "PC Sam Sample", "email": "sam.sample@police.example", "phone": "01632 960001"],
    ]

    private var personal: FreeTextPolicy.PersonalValues {
        var values = FreeTextPolicy.PersonalValues()
        values.add(referral: referral)
        return values
    }

    /// The rule that refuses `text`, or nil if it is accepted.
    private func rule(_ text: String) -> String? {
        do {
            try FreeTextPolicy.check(text, field: "justification", personal: personal)
            return nil
        } catch let error as ExchangeError {
            XCTAssertEqual(error.kind, .invalid)
            return error.validationErrors.first?.absoluteKeywordLocation.map { String($0.dropFirst(FreeTextPolicy.ruleBase.count)) }
        } catch {
            XCTFail("\(error)")
            return nil
        }
    }

    func testEachPersonalValueIsRefusedHoweverItIsWritten() {
        XCTAssertEqual(rule("Risk assessed as high for ALEX tonight"), "personal-value/name")
        XCTAssertEqual(rule("Risk assessed as high for Ａｌｅｘ tonight"), "personal-value/name", "compatibility forms fold")
        XCTAssertEqual(rule("Officer Sample assessed a high risk"), "personal-value/name", "each part of a full name")
        XCTAssertEqual(rule("Born on 12.04.1990, assessed at high risk"), "personal-value/date-of-birth")
        XCTAssertEqual(rule("Born on 12th April 1990, assessed at high risk"), "personal-value/date-of-birth")
        XCTAssertEqual(rule("Born on Apr 12, 1990 and assessed at high risk"), "personal-value/date-of-birth")
        XCTAssertEqual(rule("Reachable on 07700-900-123 while risk is high"), "personal-value/phone")
        XCTAssertEqual(rule("Reachable on 7700 900 123 while risk is high"), "personal-value/phone")
        XCTAssertEqual(rule("Officer on 01632 960001 assessed the risk"), "personal-value/phone")
        XCTAssertEqual(rule("Officer on (01632) 960-001 assessed the risk"), "personal-value/phone")
        XCTAssertEqual(rule("Reachable at SAM.SAMPLE@POLICE.EXAMPLE about risk"), "personal-value/email")
        XCTAssertEqual(rule("Risk at 1 sample   street is assessed as high"), "personal-value/address")
        XCTAssertEqual(rule("Risk near te1   1st is assessed as high"), "personal-value/postcode")
    }

    func testNamesWithDiacriticsOrPunctuationDatesAndCodesWrittenOtherwiseAreRefused() {
        let other: JSONValue = [
            "subject": ["name": ["given": "Zoë", "family": "O'Brien-Smith"], "dateOfBirth": "1990-04-02"],
            "referringOfficer": ["name": "José Álvarez"],
        ]
        var values = FreeTextPolicy.PersonalValues()
        values.add(referral: other)
        func otherRule(_ text: String) -> String? {
            do {
                try FreeTextPolicy.check(text, field: "reason", personal: values)
                return nil
            } catch let error as ExchangeError {
                return error.validationErrors.first?.absoluteKeywordLocation.map { String($0.dropFirst(FreeTextPolicy.ruleBase.count)) }
            } catch { return "\(error)" }
        }
        for name in ["Zoe", "ZOË", "Zoe\u{0308}", "Mrs O’Brien-Smith", "Mrs O'Brien", "the Smith family", "Jose Alvarez"] {
            XCTAssertEqual(otherRule("Risk assessed as high for \(name) tonight"), "personal-value/name", name)
        }
        for name in ["Zo\u{00AD}e", "Z\u{200B}oë", "Smi\u{200D}th"] {
            XCTAssertEqual(otherRule("Risk assessed as high for \(name) tonight"), "personal-value/name", "an invisible character hides nothing")
        }
        for date in ["19900402", "02041990", "02 April 1990", "2/4/90", "02/04/90", "2nd of April 1990", "April 2nd, 1990", "1990/04/02", "02-Apr-1990", "2 Apr. 1990"] {
            XCTAssertEqual(otherRule("Born \(date) and at high risk of harm"), "personal-value/date-of-birth", date)
        }
        XCTAssertNil(otherRule("The risk is high; MARAC referral made on 12/11/2026"))
        // A date of birth with a one-digit day, month and year of century is not every "2.1.5".
        var young = FreeTextPolicy.PersonalValues()
        young.add(referral: ["subject": ["dateOfBirth": "2005-01-02"]])
        XCTAssertNoThrow(try FreeTextPolicy.check("Referred under section 2.1.5 of the protocol", field: "reason", personal: young))
        XCTAssertThrowsError(try FreeTextPolicy.check("Born 2/1/05 and at high risk of harm", field: "reason", personal: young))
        XCTAssertThrowsError(try FreeTextPolicy.check("Born 02.01.2005 and at high risk of harm", field: "reason", personal: young))
        XCTAssertEqual(rule("Risk near te1-1st is assessed as high"), "personal-value/postcode")
        for number in ["AB  12 34 56 C", "AB\t12\t34\t56\tC", "AB-12-34-56-C", "AB\u{00A0}12\u{00A0}34\u{00A0}56\u{00A0}C"] {
            XCTAssertEqual(otherRule("The NI number \(number) was given"), "pattern/ni-number", number)
        }
    }

    func testPatternsAreRefusedWhateverReferralTheyComeFrom() {
        let none = FreeTextPolicy.PersonalValues()
        func patternRule(_ text: String) -> String? {
            do {
                try FreeTextPolicy.check(text, field: "reason", personal: none)
                return nil
            } catch let error as ExchangeError {
                return error.validationErrors.first?.absoluteKeywordLocation.map { String($0.dropFirst(FreeTextPolicy.ruleBase.count)) }
            } catch { return "\(error)" }
        }
        XCTAssertEqual(patternRule("Call the neighbour on 0161 496 0000 first"), "pattern/phone")
        XCTAssertEqual(patternRule("Call the neighbour on (0161) 4960000 first"), "pattern/phone")
        XCTAssertEqual(patternRule("Call the relative on +1 202 555 0143 first"), "pattern/phone")
        XCTAssertEqual(patternRule("Write to someone@example.net about the case"), "pattern/email")
        XCTAssertEqual(patternRule("Lives near EC1A 1BB according to the force"), "pattern/postcode")
        XCTAssertEqual(patternRule("Lives near b33 8th according to the force"), "pattern/postcode")
        XCTAssertEqual(patternRule("National insurance AB123456C was given"), "pattern/ni-number")
        XCTAssertEqual(patternRule("National insurance ab 12 34 56 d was given"), "pattern/ni-number")
    }

    func testPlainReasonsAndNearMissesAreAccepted() {
        XCTAssertNil(rule("High risk of serious harm assessed at MARAC on 2026-11-20; subject unreachable."))
        XCTAssertNil(rule("Alexandra Road is not where the risk was assessed"), "a name inside a longer word is not the name")
        XCTAssertNil(rule("Risk score 14 of 24 at the third assessment in 2026"), "short numbers are not phone numbers")
        XCTAssertNil(rule("PC on duty assessed a high risk of harm today"), "a rank identifies no one")
        XCTAssertNil(rule("Crime reference recorded; victim at high risk of repeat harm"))
        XCTAssertNil(rule("Risk conference held 2026-11-20 14:30 assessed high risk"), "a date and time is not a phone number")
        XCTAssertNil(rule("Risk conference held 2026-11-20T14:30:05 assessed high risk"))
        XCTAssertEqual(rule("Call the neighbour at 14:30 on 0161 496 0000 today"), "pattern/phone", "a time beside a number hides nothing")
    }

    func testShapeIsCheckedFirstAndTheValueIsNeverEchoed() throws {
        XCTAssertEqual(rule("Too short"), "too-short")
        XCTAssertEqual(rule("Alex, risk!!!!!!!!!!!!!!!!!"), "too-short", "two words do not explain a decision")
        XCTAssertEqual(rule(String(repeating: "word ", count: 401)), "too-long")
        do {
            try FreeTextPolicy.check("Alex Example is at serious risk of harm", field: "justification", personal: personal)
            XCTFail("accepted")
        } catch let error as ExchangeError {
            XCTAssertFalse(error.message.contains("Alex") || error.message.contains("Example"), error.message)
            XCTAssertFalse(error.validationErrors.map(\.message).joined().contains("Alex"))
            XCTAssertTrue(error.message.contains("without identifying anyone"), error.message)
        }
    }

    func testTheLogEntryHoldsOnlyTheCommitmentNeverTheText() throws {
        var draft = LogEntryDraft(event: .disclosureAuthorised, actor: "hub-admin", justificationDigest: String(repeating: "a", count: 64))
        draft.justification = "Shown to readers, never hashed"
        let entry = LogEntry(sealing: draft, seq: 1, time: Timestamp(milliseconds: 0), prevHash: LogEntry.genesisHash)
        let canonical = String(decoding: entry.canonical, as: UTF8.self)
        XCTAssertFalse(canonical.contains("never hashed"), canonical)
        XCTAssertTrue(canonical.contains("\"justificationDigest\":\"aaaa"), canonical)
        XCTAssertEqual(entry.json["justification"], "Shown to readers, never hashed")
        let read = try XCTUnwrap(LogEntry(canonical: entry.canonical, hash: entry.hash))
        XCTAssertNil(read.draft.justification)
        XCTAssertEqual(read.draft.justificationDigest, draft.justificationDigest)
    }

    func testNoticeIDsAreStablePerDisclosureAndReason() {
        let first = Exchange.noticeID(kind: .erasureNotice, disclosureID: "d1", reason: "consent-withdrawn")
        XCTAssertEqual(first, Exchange.noticeID(kind: .erasureNotice, disclosureID: "d1", reason: "consent-withdrawn"))
        XCTAssertNotEqual(first, Exchange.noticeID(kind: .erasureNotice, disclosureID: "d1", reason: "subject-erased"))
        XCTAssertNotEqual(first, Exchange.noticeID(kind: .erasureNotice, disclosureID: "d2", reason: "consent-withdrawn"))
        XCTAssertEqual(first.count, 36)
        XCTAssertEqual(first.split(separator: "-").map(\.count), [8, 4, 4, 4, 12])
    }
}
