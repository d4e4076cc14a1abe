import Foundation
import JSON
import TestSupport
import XCTest

/// refex's own log lines, as an operator reads them: start-up failures with a priority, a time on
/// each line unless journald stamps it, quiet scrapes, and reload warnings that name the setting.
final class OperationalLogTests: XCTestCase {
    private static let timeField = try? NSRegularExpression(pattern: #" time=\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#)

    private func stamped(_ line: Substring) -> Bool {
        let text = String(line)
        return Self.timeField?.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// The first line containing `text`, waiting for it (READY=1 comes before the serving line).
    private func line(_ refex: RefexProcess, containing text: String) -> Substring? {
        _ = refex.waitForLog(text, timeout: 10)
        return refex.logText.split(separator: "\n").first { $0.contains(text) }
    }

    func testStartUpFailuresCarryAnErrorPriority() throws {
        let folder = ProjectPaths.temporaryDirectory("refex-startup")
        for (config, expected) in [
            ("\(folder)/missing.json", "cannot read"),
            ("\(folder)/broken.json", "config"),
        ] {
            if config.hasSuffix("broken.json") { try Data("{\"listen\": ".utf8).write(to: URL(fileURLWithPath: config)) }
            let result = try Subprocess.run(ProjectPaths.refexBinary, ["serve", "--config", config], timeout: 30)
            XCTAssertEqual(result.status, 1, result.errorOutput)
            let lines = result.errorOutput.split(separator: "\n")
            XCTAssertFalse(lines.isEmpty)
            for line in lines {
                XCTAssertTrue(line.hasPrefix("<3>refex: "), "a start-up failure without a priority: \(line)")
                XCTAssertTrue(stamped(line), "a start-up failure without its time: \(line)")
            }
            XCTAssertTrue(result.errorOutput.contains(expected), result.errorOutput)
        }
    }

    func testConfigCheckUnderTheJournalGivesItsProblemsAnErrorPriority() throws {
        // The unit's ExecStartPre: when it refuses the config, journalctl -p err must say why.
        let config = ProjectPaths.temporaryDirectory("refex-check") + "/refex.json"
        try Data("{\"listen\": \"nowhere\"}".utf8).write(to: URL(fileURLWithPath: config))
        let journal = try Subprocess.run("/bin/sh", [
            "-c", "JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec \"$@\"", "sh", ProjectPaths.refexBinary, "config", "check", "--config", config,
        ])
        XCTAssertEqual(journal.status, 1, journal.errorOutput)
        let lines = journal.errorOutput.split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 1)
        for line in lines { XCTAssertTrue(line.hasPrefix("<3>"), "under the journal without a priority: \(line)") }

        // In a terminal (or a pipe that is not the journal), no prefix.
        let plain = try Subprocess.run(ProjectPaths.refexBinary, ["config", "check", "--config", config])
        XCTAssertEqual(plain.status, 1)
        XCTAssertFalse(plain.errorOutput.contains("<3>"), plain.errorOutput)
        XCTAssertEqual(plain.errorOutput.split(separator: "\n").count, lines.count)
    }

    func testLinesCarryTheirTimeUnlessStandardErrorIsTheJournal() throws {
        let refex = try RefexProcess()
        let serving = try XCTUnwrap(line(refex, containing: "refex serving"), refex.logText)
        XCTAssertTrue(serving.hasPrefix("<5>refex serving "), String(serving))
        XCTAssertTrue(stamped(serving), "no time= on: \(serving)")
        let stampedTime = try XCTUnwrap(serving.split(separator: " ").last?.dropFirst("time=".count))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let time = try XCTUnwrap(formatter.date(from: String(stampedTime)))
        XCTAssertLessThan(abs(time.timeIntervalSinceNow), 120)

        // Under journald (JOURNAL_STREAM names standard error's device and inode), journald stamps lines.
        let journal = try RefexProcess(launcher: [
            "/bin/sh", "-c", "JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec \"$@\"", "sh",
        ])
        let quiet = try XCTUnwrap(line(journal, containing: "refex serving"), journal.logText)
        XCTAssertFalse(quiet.contains(" time="), String(quiet))
        // A JOURNAL_STREAM inherited by a process whose stderr went elsewhere is not the journal.
        let inherited = try RefexProcess(environment: ["JOURNAL_STREAM": "8:12345"])
        XCTAssertTrue(stamped(try XCTUnwrap(line(inherited, containing: "refex serving"), inherited.logText)))
    }

    func testScrapesAndProbesAreNotLoggedAtInfo() throws {
        let refex = try RefexProcess()
        for path in ["/metrics", "/healthz", "/readyz", "/metrics"] {
            XCTAssertEqual(try Subprocess.run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "\(refex.opsURL)\(path)"]).output, "200")
        }
        // A request that is not routine is still logged, and shows the lines above had their chance.
        XCTAssertEqual(try Subprocess.run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "\(refex.opsURL)/nothing"]).output, "404")
        XCTAssertTrue(refex.waitForLog("route=unmatched status=404"), refex.logText)
        for route in ["/metrics", "/healthz", "/readyz"] {
            XCTAssertFalse(refex.logText.contains("route=\(route) "), "a routine \(route) is logged at info:\n\(refex.logText)")
        }

        // At debug they are there, as <7> lines.
        let verbose = try RefexProcess(config: RefexProcess.config(["logLevel": "debug"]))
        _ = try Subprocess.run("curl", ["-sS", "-o", "/dev/null", "\(verbose.opsURL)/metrics"])
        XCTAssertTrue(verbose.waitForLog("route=/metrics status=200"), verbose.logText)
        XCTAssertTrue(try XCTUnwrap(line(verbose, containing: "route=/metrics status=200")).hasPrefix("<7>request "))
    }

    func testReloadNamesEachRestartOnlySettingItChangedAndOnlyThen() throws {
        let config = try RefexProcess.config()
        let refex = try RefexProcess(config: config)
        let warning = "take effect only on restart"

        // The same config again: no warning.
        refex.signal(SIGHUP)
        XCTAssertTrue(refex.waitForLog("config reloaded", count: 1), refex.logText)
        XCTAssertFalse(refex.logText.contains(warning), refex.logText)

        // Only reloadable changes (a partner's name): still no warning.
        var renamed = config
        if case .array(var partners)? = renamed["partners"], case .object(var first)? = partners.first {
            first["name"] = "Renamed"
            partners[0] = .object(first)
            renamed["partners"] = .array(partners)
        }
        try refex.rewriteConfig(renamed)
        refex.signal(SIGHUP)
        XCTAssertTrue(refex.waitForLog("config reloaded", count: 2), refex.logText)
        XCTAssertFalse(refex.logText.contains(warning), refex.logText)

        // A limit and the log level: one warning naming both.
        var changed = renamed
        changed["logLevel"] = "notice"
        changed["limits"] = ["eventLoops": 2, "maxBodyBytes": 2048]
        try refex.rewriteConfig(changed)
        refex.signal(SIGHUP)
        XCTAssertTrue(refex.waitForLog("config reloaded", count: 3), refex.logText)
        let lines = refex.logText.split(separator: "\n").filter { $0.contains(warning) }
        XCTAssertEqual(lines.count, 1, refex.logText)
        XCTAssertTrue(lines.first?.hasPrefix("<4>") == true, String(lines.first ?? ""))
        XCTAssertTrue(lines.first?.contains("settings=logLevel,limits.maxBodyBytes") == true, String(lines.first ?? ""))
    }
}
