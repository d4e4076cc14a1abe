import Foundation
import JSON
import TestSupport
import XCTest

/// The project's own surfaces that a new user reads first: the README's configuration table and
/// what `make run` prints.
final class ProjectSurfacesTests: XCTestCase {
    /// The rows of the README's configuration table: from its header to the first line that is
    /// not a row. A blank line inside would end the table there (Markdown renders the rest as text).
    private func configurationTable() throws -> (rows: [String], after: [String]) {
        let readme = try String(contentsOfFile: "\(ProjectPaths.root)/README.md", encoding: .utf8)
        let lines = readme.components(separatedBy: "\n")
        let section = try XCTUnwrap(lines.firstIndex(of: "## Configuration"))
        let header = try XCTUnwrap(lines[section...].firstIndex { $0.hasPrefix("| key |") })
        let rows = lines[header...].prefix { $0.hasPrefix("|") }
        let nextSection = lines[(header + rows.count)...].firstIndex { $0.hasPrefix("## ") } ?? lines.count
        return (Array(rows), Array(lines[(header + rows.count)..<nextSection]))
    }

    func testConfigurationTableIsOneTableNamingEveryKeyOfTheConfigSchema() throws {
        let (rows, after) = try configurationTable()
        XCTAssertFalse(after.contains { $0.hasPrefix("| `") }, "a row of the configuration table stands apart from the table:\n"
            + after.filter { $0.hasPrefix("| `") }.joined(separator: "\n"))
        let table = rows.joined(separator: "\n")

        let schema = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: "\(ProjectPaths.root)/schemas/config.v1.schema.json"))))
        var keys: [String] = []
        func collect(_ object: JSONValue?, _ prefix: String) {
            guard case .object(let properties)? = object?["properties"] else { return }
            for (name, value) in properties {
                keys.append(prefix + name)
                if value["properties"] != nil { collect(value, prefix + name + ".") }
            }
        }
        collect(schema, "")
        XCTAssertGreaterThan(keys.count, 40, "the config schema was not read: \(keys)")
        for key in keys where !["tls", "store", "delivery", "log", "retention", "limits"].contains(key) {
            // A row may name a section's further keys by their last part: `delivery.timeoutSeconds` (5), `maxAgeSeconds` ...
            let last = key.split(separator: ".").last.map(String.init) ?? key
            let named = table.contains("`\(key)`") || table.contains("`\(key)[]`") || (key.contains(".") && rows.contains { row in
                row.contains("`\(key.split(separator: ".")[0]).") && row.contains("`\(last)`")
            })
            XCTAssertTrue(named, "the README's configuration table does not describe \(key)")
        }
    }

    func testMakeRunPrintsCurlCommandsThatRunAsPrinted() throws {
        let folder = ProjectPaths.temporaryDirectory("refex-print-curl")
        let printed = try Subprocess.run("\(ProjectPaths.root)/scripts/dev-setup.sh", ["--print-curl", folder], currentDirectory: ProjectPaths.root)
        XCTAssertEqual(printed.status, 0, printed.errorOutput)
        // Each command as a shell would read it from the terminal: continued lines joined.
        var commands: [[String]] = []
        var current: [String]?
        for line in printed.output.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current == nil, trimmed.hasPrefix("curl ") { current = [] }
            guard current != nil else { continue }
            current?.append(trimmed.hasSuffix("\\") ? String(trimmed.dropLast()) : trimmed)
            if !trimmed.hasSuffix("\\") {
                commands.append(current ?? [])
                current = nil
            }
        }
        XCTAssertNil(current, "the last command ends in a backslash")
        XCTAssertGreaterThanOrEqual(commands.count, 2, printed.output)
        let posting = try XCTUnwrap(commands.first { $0.joined().contains("--data-binary") }, printed.output)
        XCTAssertEqual(posting.count, 3, "the referral's curl command is not on three lines as written:\n\(posting.joined(separator: "\n"))")

        // The shell gets the same words as from one line: each option and the URL separate.
        let words = try Subprocess.run("/bin/bash", ["-c", "curl() { printf '%s\\n' \"$@\"; }\n" + posting.joined(separator: "\\\n")])
        XCTAssertEqual(words.status, 0, words.errorOutput)
        let arguments = words.output.split(separator: "\n").map(String.init)
        XCTAssertEqual(arguments.last, "https://localhost:8443/v1/referrals")
        XCTAssertTrue(arguments.contains("--data-binary"))
        XCTAssertTrue(arguments.contains("Content-Type: application/json"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"))
    }
}
