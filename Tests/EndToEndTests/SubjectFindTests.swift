import Foundation
import JSON
import TestSupport
import XCTest

/// Finding the subject a subject access request names (issue 10, item 5), through the built binary
/// and curl, state read back through refex (the index's files checked where the store is SQLite):
/// by each kind of key, before and after erasure; every search logged without the values;
/// mistakes refused.
final class SubjectFindTests: XCTestCase {
    private struct Person {
        var reference: String
        var given: String
        var family: String
        var birth: String
        var crime: String
        var partner = "police"
    }

    private func submit(_ refex: RefexProcess, _ person: Person) throws -> JSONValue {
        let path = "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"
        guard case .object(var object) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))),
              case .object(var subject) = object["subject"], case .object(var offence) = object["offence"] else { return .null }
        object["referenceId"] = .string(person.reference)
        subject["name"] = ["given": .string(person.given), "family": .string(person.family)]
        subject["dateOfBirth"] = .string(person.birth)
        offence["crimeReference"] = .string(person.crime)
        object["subject"] = .object(subject)
        object["offence"] = .object(offence)
        let file = ProjectPaths.temporaryDirectory() + "/r.json"
        try Data(JSONValue.object(object).serialized()).write(to: URL(fileURLWithPath: file))
        let (result, response) = try Curl.request(
            ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@\(file)", "\(refex.baseURL)/v1/referrals"], as: person.partner
        )
        XCTAssertEqual(response?.status, 202, result.output)
        return response?.json ?? .null
    }

    private func find(_ refex: RefexProcess, _ arguments: [String]) throws -> (status: Int32, subjects: [String], result: SubprocessResult) {
        let result = try Subprocess.run(ProjectPaths.refexBinary, ["subject", "find"] + arguments + ["--json", "--config", refex.configPath], timeout: 60)
        let subjects = try result.output.split(separator: "\n").compactMap { try JSONValue.parse(String($0))["subjectId"]?.stringValue }
        return (result.status, subjects, result)
    }

    private func api(_ refex: RefexProcess, _ query: String, as partner: String = "hub-admin") throws -> ClientResponse {
        try XCTUnwrap(try Curl.request(["\(refex.baseURL)/v1/subjects?\(query)"], as: partner).response)
    }

    private func apiSubjects(_ refex: RefexProcess, _ query: String) throws -> [String] {
        let response = try api(refex, query)
        XCTAssertEqual(response.status, 200, "\(query): \(response.body)")
        return response.json?["subjects"]?.arrayValue?.compactMap { $0["subjectId"]?.stringValue } ?? []
    }

    func testSubjectFindByEachKeyBeforeAndAfterErasure() throws {
        let refex = try RefexProcess(config: try RefexProcess.config())
        let alex = Person(reference: "SAR-2026-0001", given: "Zoë", family: "O'Brien-Smith", birth: "1990-04-12", crime: "CR-2026-000123")
        let blake = Person(reference: "SAR-2026-0002", given: "Blake", family: "Other", birth: "1985-01-01", crime: "CR-2026-000999")
        // Another partner's reference can be the same text: a reference search finds both, unless narrowed.
        let casey = Person(reference: "SAR-2026-0001", given: "Casey", family: "Third", birth: "1970-07-07", crime: "CR-2026-000777", partner: "partner-b")
        let a = try XCTUnwrap(try submit(refex, alex)["subjectId"]?.stringValue)
        let b = try XCTUnwrap(try submit(refex, blake)["subjectId"]?.stringValue)
        let c = try XCTUnwrap(try submit(refex, casey)["subjectId"]?.stringValue)
        var searches = 0

        // Each kind of key, as an officer might type it.
        let cases: [([String], String, [String])] = [
            (["--reference", "sar-2026-0001"], "reference=sar-2026-0001", [a, c]),
            (["--reference", " SAR-2026-0001 "], "reference=%20SAR-2026-0001", [a, c]),
            (["--reference", "SAR-2026-0001", "--partner", "police"], "reference=SAR-2026-0001&partner=police", [a]),
            (["--reference", "SAR-2026-0001", "--partner", "partner-b"], "reference=SAR-2026-0001&partner=partner-b", [c]),
            (["--crime-reference", "cr-2026-000123"], "crimeReference=cr-2026-000123", [a]),
            (["--given", "Zoe", "--family", "OBRIEN SMITH", "--dob", "1990-04-12"], "given=Zoe&family=OBRIEN%20SMITH&dateOfBirth=1990-04-12", [a]),
            (["--given", "zoë", "--family", "o'brien-smith", "--dob", "1990-04-12"], "given=zo%C3%AB&family=o%27brien-smith&dateOfBirth=1990-04-12", [a]),
            (["--given", "Blake", "--family", "Other", "--dob", "1985-01-01"], "given=Blake&family=Other&dateOfBirth=1985-01-01", [b]),
            (["--given", "Zoe", "--family", "OBrien-Smith", "--dob", "1990-04-13"], "given=Zoe&family=OBrien-Smith&dateOfBirth=1990-04-13", []),
            (["--given", "Chloe", "--family", "OBrien-Smith", "--dob", "1990-04-12"], "given=Chloe&family=OBrien-Smith&dateOfBirth=1990-04-12", []),
            (["--reference", "SAR-2026-0009"], "reference=SAR-2026-0009", []),
            (["--crime-reference", "CR-2026-000999", "--reference", "SAR-2026-0001", "--partner", "partner-b"],
             "crimeReference=CR-2026-000999&reference=SAR-2026-0001&partner=partner-b", [b, c]),
        ]
        for (arguments, query, expected) in cases {
            let found = try find(refex, arguments)
            XCTAssertEqual(found.status, 0, "\(arguments): \(found.result.errorOutput)")
            XCTAssertEqual(Set(found.subjects), Set(expected), "\(arguments)")
            XCTAssertEqual(Set(try apiSubjects(refex, query)), Set(expected), query)
            searches += 2
        }
        // Each match says which keys matched, and lists the subject's referrals.
        let both = try api(refex, "crimeReference=CR-2026-000123&given=Zoe&family=OBrien-Smith&dateOfBirth=1990-04-12")
        searches += 1
        XCTAssertEqual(both.json?["subjects"]?[0]?["matchedBy"], ["crime-reference", "name-dob"])
        XCTAssertEqual(both.json?["subjects"]?[0]?["referrals"]?[0]?["partner"], "police")
        let table = try Subprocess.run(ProjectPaths.refexBinary, ["subject", "find", "--crime-reference", "CR-2026-000123", "--config", refex.configPath])
        searches += 1
        XCTAssertEqual(table.status, 0, table.errorOutput)
        XCTAssertTrue(table.output.contains(a) && table.output.contains("crime-reference"), table.output)

        // Every search is logged with the kinds of key and what it found, never the values.
        let lines = try refex.logEntries(event: "subject.searched").map { $0.serializedString() }
        let logged = lines.joined(separator: "\n")
        XCTAssertEqual(lines.count, searches, logged)
        XCTAssertTrue(lines.contains { $0.contains("\"keys\":[\"crime-reference\",\"name-dob\"]") && $0.contains(a) }, logged)
        XCTAssertTrue(lines.contains { $0.contains("\"actor\":\"host:") }, logged)
        XCTAssertTrue(lines.contains { $0.contains("\"actor\":\"hub-admin\"") }, logged)
        for value in ["SAR-2026", "sar-2026", "CR-2026", "cr-2026", "Zo", "zo", "Brien", "brien", "BRIEN", "1990-04", "1985-01", "Blake", "Casey", "Chloe"] {
            XCTAssertFalse(logged.contains(value), "\(value) is in the log")
        }
        // Nor in the daemon's own log lines.
        for value in ["SAR-2026", "Brien", "1990-04"] { XCTAssertFalse(refex.logText.contains(value), "\(value) in refex's log") }

        // The index holds digests only, beside the keys (in the SQLite files).
        let sqlite = SQLiteFiles.isStoreUnderTest
        if sqlite {
            XCTAssertEqual(try SQLiteFiles.run(refex.keysPath, "SELECT count(*) FROM subject_index WHERE subject_id = '\(a)'"), "3")
            for file in [refex.keysPath, refex.storePath] {
                let strings = try Subprocess.run("strings", [file]).output
                XCTAssertFalse(strings.contains("SAR-2026-0001") || strings.contains("Brien"), "readable in \(file)")
            }
        }

        // Rectifying the name moves the index with it.
        let patched = try Curl.request(["-X", "PATCH", "-H", "Content-Type: application/merge-patch+json", "--data-binary",
                                        #"{"subject":{"name":{"family":"Newname"}}}"#, "\(refex.baseURL)/v1/subjects/\(b)"], as: "hub-admin")
        XCTAssertEqual(patched.response?.status, 200, patched.result.output)
        XCTAssertEqual(try find(refex, ["--given", "Blake", "--family", "Other", "--dob", "1985-01-01"]).subjects, [])
        XCTAssertEqual(try find(refex, ["--given", "Blake", "--family", "Newname", "--dob", "1985-01-01"]).subjects, [b])
        XCTAssertEqual(try find(refex, ["--reference", "SAR-2026-0002"]).subjects, [b])

        // Erasure takes the indexes with the subject: no key finds Alex any more; the others stay.
        let erased = try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/subjects/\(a)/erase"], as: "hub-admin")
        XCTAssertEqual(erased.response?.status, 200, erased.result.output)
        if sqlite { XCTAssertEqual(try SQLiteFiles.run(refex.keysPath, "SELECT count(*) FROM subject_index WHERE subject_id = '\(a)'"), "0") }
        for (arguments, query, expected) in [
            (["--reference", "SAR-2026-0001"], "reference=SAR-2026-0001", [c]),
            (["--reference", "SAR-2026-0001", "--partner", "police"], "reference=SAR-2026-0001&partner=police", []),
            (["--crime-reference", "CR-2026-000123"], "crimeReference=CR-2026-000123", []),
            (["--given", "Zoe", "--family", "OBrien-Smith", "--dob", "1990-04-12"], "given=Zoe&family=OBrien-Smith&dateOfBirth=1990-04-12", []),
            (["--crime-reference", "CR-2026-000999"], "crimeReference=CR-2026-000999", [b]),
        ] {
            let found = try find(refex, arguments)
            XCTAssertEqual(found.status, 0, found.result.errorOutput)
            XCTAssertEqual(Set(found.subjects), Set(expected), "after erasure: \(arguments)")
            XCTAssertEqual(Set(try apiSubjects(refex, query)), Set(expected), "after erasure: \(query)")
        }
        let none = try Subprocess.run(ProjectPaths.refexBinary, ["subject", "find", "--crime-reference", "CR-2026-000123", "--config", refex.configPath])
        XCTAssertEqual(none.status, 0)
        XCTAssertTrue(none.output.contains("no subject held matches"), none.output)
    }

    func testReferralsStoredBeforeTheIndexExistedAreFoundToo() throws {
        // An older store is made by emptying the index in the SQLite keys file.
        try sqliteOnly()
        let refex = try RefexProcess(config: try RefexProcess.config())
        let person = Person(reference: "OLD-0001", given: "Robin", family: "Before", birth: "1980-02-29", crime: "CR-OLD-0001")
        let subject = try XCTUnwrap(try submit(refex, person)["subjectId"]?.stringValue)
        let erased = try XCTUnwrap(try submit(refex, Person(reference: "OLD-0002", given: "Gone", family: "Before", birth: "1980-02-29", crime: "CR-OLD-0002"))["subjectId"]?.stringValue)
        XCTAssertEqual(try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/subjects/\(erased)/erase"], as: "hub-admin").response?.status, 200)
        refex.signal(SIGTERM)
        XCTAssertEqual(refex.waitForExit(), 0)
        // As a store from before the index: no entries, the backfill still to do.
        let keys = refex.keysPath
        try SQLiteFiles.run(keys, "DELETE FROM subject_index; INSERT OR REPLACE INTO subject_index_backfill VALUES (1, '')")

        let found = try find(refex, ["--given", "Robin", "--family", "Before", "--dob", "1980-02-29"])
        XCTAssertEqual(found.status, 0, found.result.errorOutput)
        XCTAssertEqual(found.subjects, [subject])
        XCTAssertEqual(try find(refex, ["--crime-reference", "CR-OLD-0001"]).subjects, [subject])
        XCTAssertEqual(try find(refex, ["--crime-reference", "CR-OLD-0002"]).subjects, [], "the erased subject is not indexed again")
        let state = try SQLiteFiles.run(keys, "SELECT count(*) FROM subject_index_backfill; SELECT count(*) FROM subject_index")
        XCTAssertEqual(state.split(separator: "\n"), ["0", "3"], "done once, and only the subject held is indexed")

        // The daemon does it at start-up, without waiting for a search.
        try SQLiteFiles.run(keys, "DELETE FROM subject_index; INSERT OR REPLACE INTO subject_index_backfill VALUES (1, '')")
        let config = try XCTUnwrap(try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: refex.configPath)))).objectValue)
        let restarted = try RefexProcess(config: config)
        XCTAssertTrue(restarted.waitForLog("subject indexes made for earlier referrals"), restarted.logText)
        let after = try SQLiteFiles.run(keys, "SELECT count(*) FROM subject_index_backfill; SELECT count(*) FROM subject_index")
        XCTAssertEqual(after.split(separator: "\n"), ["0", "3"])
    }

    func testEverySearchMistakeIsRefusedWithoutRepeatingTheValue() throws {
        let refex = try RefexProcess(config: try RefexProcess.config())
        let cliCases: [([String], String)] = [
            ([], "at least one key"),
            (["--given", "Alex"], "--family"),
            (["--family", "Example"], "--dob"),
            (["--family", "Example", "--dob", "12/04/1990"], "YYYY-MM-DD"),
            (["--family", "Example", "--dob", "1990-02-30"], "calendar date"),
            (["--family", "'-'", "--dob", "1990-02-03"], "family name"),
            (["--reference", "   "], "empty"),
            (["--partner", "police"], "give reference too"),
            (["--reference", "X1", "--partner", "polic"], "hub-admin, partner-b, police"),
            (["--reference", String(repeating: "A", count: 201)], "longer than 200"),
            (["--name", "Alex"], "unknown option"),
            (["Alex"], "options only"),
        ]
        for (arguments, expected) in cliCases {
            let result = try Subprocess.run(ProjectPaths.refexBinary, ["subject", "find"] + arguments + ["--config", refex.configPath])
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.output) \(result.errorOutput)")
            XCTAssertTrue(result.errorOutput.contains(expected), "\(arguments): '\(expected)' missing from \(result.errorOutput)")
            for value in ["12/04/1990", "1990-02-30", "Example"] where arguments.contains(value) {
                XCTAssertFalse(result.errorOutput.contains(value), "\(arguments): the value is repeated")
            }
        }
        let store = try Subprocess.run(ProjectPaths.refexBinary, ["subject", "find", "--reference", "X1", "--store", refex.storePath])
        XCTAssertEqual(store.status, 2)
        XCTAssertTrue(store.errorOutput.contains("--config"), store.errorOutput)

        let apiCases: [(String, String)] = [
            ("", "reference"),
            ("colour=red", "search"),
            ("family=Example&dateOfBirth=1990-13-01", "dateOfBirth"),
            ("family=Example", "dateOfBirth"),
            ("given=Alex", "family"),
            ("partner=police", "partner"),
            ("reference=X1&partner=nobody", "partner"),
            ("reference=X1&reference=X2", "reference"),
        ]
        for (query, parameter) in apiCases {
            let response = try api(refex, query)
            XCTAssertEqual(response.status, 400, "\(query): \(response.body)")
            XCTAssertEqual(response.header("content-type"), "application/problem+json")
            XCTAssertEqual(response.json?["parameter"]?.stringValue, parameter, "\(query): \(response.body)")
            for value in ["Example", "1990-13-01", "Alex", "nobody", "X1", "X2", "red"] where query.contains(value) {
                XCTAssertFalse(response.body.contains(value), "\(query): the answer repeats \(value)")
            }
        }
        XCTAssertTrue(try api(refex, "reference=X1&partner=nobody").json?["validValues"]?.arrayValue?.contains("police") ?? false)
        // Admins only.
        for partner in ["police", "sink"] {
            XCTAssertEqual(try api(refex, "reference=X1", as: partner).status, 403, partner)
        }
        // Refused searches ran nothing: none is logged as a search.
        XCTAssertEqual(try refex.logCount(event: "subject.searched"), 0)
    }
}
