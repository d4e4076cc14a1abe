import Foundation
import JSON
import JSONSchema
import TestSupport
import XCTest

/// json-schema-org/JSON-Schema-Test-Suite, draft 2020-12: every required test must pass;
/// the optional format tests for the formats refex asserts must pass with format assertion
/// on; the other optional files are reported.
final class JSONSchemaTestSuiteTests: XCTestCase {
    /// The optional format files that must pass (the formats refex asserts).
    static let assertedFormatFiles: Set<String> = [
        "date.json", "date-time.json", "time.json", "duration.json", "email.json", "hostname.json",
        "ipv4.json", "ipv6.json", "uri.json", "uri-reference.json", "uuid.json", "json-pointer.json",
        "relative-json-pointer.json", "regex.json", "ecmascript-regex.json", "unknown.json",
    ]

    private struct Tally {
        var passed = 0
        var total = 0
        var failures: [String] = []
    }

    private static func makeRegistry(_ suite: URL) throws -> SchemaRegistry {
        let registry = SchemaRegistry()
        let remotes = suite.appendingPathComponent("remotes")
        guard let enumerator = FileManager.default.enumerator(at: remotes, includingPropertiesForKeys: nil) else {
            throw ConformanceSuite.MissingSuiteError(path: remotes.path)
        }
        var files: [URL] = []
        for case let url as URL in enumerator where url.pathExtension == "json" { files.append(url) }
        files.sort { $0.path < $1.path }
        var registered = 0
        for url in files {
            let relative = String(url.standardizedFileURL.path.dropFirst(remotes.standardizedFileURL.path.count + 1))
            let value = try JSONValue.parse(try Data(contentsOf: url))
            do {
                try registry.register(schema: value, retrievalURI: "http://localhost:1234/" + relative)
                registered += 1
            } catch {
                // Remotes for other drafts may reuse URIs; only draft 2020-12 ones must register.
                if relative.hasPrefix("draft2020-12/") || !relative.contains("/") {
                    XCTFail("remote \(relative) did not register: \(error)")
                }
            }
        }
        XCTAssertGreaterThan(registered, 20)
        return registry
    }

    private func run(file: URL, registry: SchemaRegistry, options: ValidationOptions) throws -> Tally {
        var tally = Tally()
        guard case .array(let groups) = try JSONValue.parse(try Data(contentsOf: file)) else {
            XCTFail("\(file.lastPathComponent) is not an array of test groups")
            return tally
        }
        for group in groups {
            let description = group["description"]?.stringValue ?? "?"
            let tests = group["tests"]?.arrayValue ?? []
            let schema: Schema
            do {
                schema = try Schema(compiling: group["schema"] ?? .null, registry: registry, options: options)
            } catch {
                tally.total += tests.count
                tally.failures.append("\(description): schema did not compile: \(error)")
                continue
            }
            for test in tests {
                tally.total += 1
                let expected = test["valid"]?.boolValue ?? false
                let data = test["data"] ?? .null
                let result = schema.validate(data)
                let quick = schema.isValid(data)
                if result.isValid == expected, quick == expected, result.isValid == result.errors.isEmpty {
                    tally.passed += 1
                } else {
                    tally.failures.append("\(description) / \(test["description"]?.stringValue ?? "?"): expected \(expected), validate \(result.isValid), isValid \(quick)")
                }
            }
        }
        return tally
    }

    private func report(_ name: String, _ tally: Tally) {
        let mark = tally.passed == tally.total ? "pass" : "FAIL"
        print("JSON-Schema-Test-Suite \(mark) \(name): \(tally.passed)/\(tally.total)")
        for failure in tally.failures { print("    \(failure)") }
    }

    func testRequiredTestsAllPass() throws {
        let suite = try ConformanceSuite.suite("JSON-Schema-Test-Suite")
        let registry = try Self.makeRegistry(suite)
        let directory = suite.appendingPathComponent("tests/draft2020-12")
        var passed = 0
        var total = 0
        for file in try ConformanceSuite.files(in: directory, extension: "json") {
            let tally = try run(file: file, registry: registry, options: ValidationOptions())
            report(file.lastPathComponent, tally)
            passed += tally.passed
            total += tally.total
        }
        print("JSON-Schema-Test-Suite draft2020-12 required: \(passed)/\(total) passed")
        XCTAssertGreaterThanOrEqual(total, 1299, "the required suite looks incomplete")
        XCTAssertEqual(passed, total, "required tests failed")
    }

    func testAssertedFormatsPassTheOptionalFormatTests() throws {
        let suite = try ConformanceSuite.suite("JSON-Schema-Test-Suite")
        let registry = try Self.makeRegistry(suite)
        let directory = suite.appendingPathComponent("tests/draft2020-12/optional/format")
        var seen: Set<String> = []
        var otherPassed = 0
        var otherTotal = 0
        for file in try ConformanceSuite.files(in: directory, extension: "json") {
            let name = file.lastPathComponent
            let tally = try run(file: file, registry: registry, options: ValidationOptions(assertFormats: true))
            if Self.assertedFormatFiles.contains(name) {
                seen.insert(name)
                report("optional/format/\(name)", tally)
                XCTAssertEqual(tally.passed, tally.total, "optional/format/\(name)")
            } else {
                print("JSON-Schema-Test-Suite (not asserted) optional/format/\(name): \(tally.passed)/\(tally.total)")
                otherPassed += tally.passed
                otherTotal += tally.total
            }
        }
        XCTAssertEqual(seen, Self.assertedFormatFiles, "asserted format files missing from the suite")
        print("JSON-Schema-Test-Suite formats refex does not assert: \(otherPassed)/\(otherTotal)")
    }

    func testReportsTheOtherOptionalTests() throws {
        let suite = try ConformanceSuite.suite("JSON-Schema-Test-Suite")
        let registry = try Self.makeRegistry(suite)
        let directory = suite.appendingPathComponent("tests/draft2020-12/optional")
        var passed = 0
        var total = 0
        for file in try ConformanceSuite.files(in: directory, extension: "json") {
            let tally = try run(file: file, registry: registry, options: ValidationOptions())
            report("optional/\(file.lastPathComponent)", tally)
            passed += tally.passed
            total += tally.total
        }
        print("JSON-Schema-Test-Suite draft2020-12 optional (not required): \(passed)/\(total) passed")
        XCTAssertGreaterThan(total, 100, "the optional suite looks incomplete")
    }
}
