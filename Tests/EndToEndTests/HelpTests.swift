import Foundation
import TestSupport
import XCTest

/// `refex help TOPIC` and `refex COMMAND [SUBCOMMAND] --help` for every command, through the binary.
final class HelpTests: XCTestCase {
    private func refex(_ arguments: [String], binary: String = ProjectPaths.refexBinary) throws -> SubprocessResult {
        try Subprocess.run(binary, arguments)
    }

    /// The commands and subcommands the top-level usage lists (`  log list|show|verify ...`).
    private func listedCommands() throws -> [(command: String, subcommands: [String])] {
        let usage = try refex(["help"])
        XCTAssertEqual(usage.status, 0)
        var commands: [(String, [String])] = []
        for line in usage.output.split(separator: "\n") where line.hasPrefix("  ") && !line.hasPrefix("   ") {
            // The synopsis is what comes before the description, which is set off by two spaces.
            let synopsis = line.dropFirst(2).components(separatedBy: "  ")[0]
            let words = synopsis.split(separator: " ")
            guard let name = words.first else { continue }
            let second = words.count > 1 ? String(words[1]) : ""
            let subcommands = second.hasPrefix("-") || second.uppercased() == second ? [] : second.split(separator: "|").map(String.init)
            commands.append((String(name), subcommands))
        }
        return commands
    }

    func testEveryListedCommandHasHelpAndEverySubcommandTakesHelp() throws {
        let commands = try listedCommands()
        // The usage really is parsed: the commands the issue names are among them.
        let names = Set(commands.map(\.command))
        for expected in ["serve", "config", "schema", "log", "subject", "keys", "retention", "consent", "outbox", "backup", "sink", "help", "version"] {
            XCTAssertTrue(names.contains(expected), "refex help does not list \(expected)")
        }
        XCTAssertEqual(commands.first { $0.command == "log" }?.subcommands, ["list", "show", "verify", "checkpoint", "export"])

        for (command, subcommands) in commands {
            let help = try refex(["help", command])
            XCTAssertEqual(help.status, 0, "refex help \(command): \(help.errorOutput)")
            XCTAssertTrue(help.output.contains("usage: refex \(command)"), "refex help \(command) gives no synopsis:\n\(help.output)")
            XCTAssertEqual(help.stderr.count, 0, "refex help \(command) wrote to stderr")
            guard command != "help" else { continue }
            for flag in ["--help", "-h"] {
                let direct = try refex([command, flag])
                XCTAssertEqual(direct.status, 0, "refex \(command) \(flag): \(direct.errorOutput)")
                XCTAssertEqual(direct.output, help.output, "refex \(command) \(flag) differs from refex help \(command)")
            }
            for subcommand in subcommands {
                // With --help anywhere, nothing runs: no store is opened, no file written.
                let result = try refex([command, subcommand, "SOME-ID", "--help", "--config", "/nonexistent/refex.json"])
                XCTAssertEqual(result.status, 0, "refex \(command) \(subcommand) --help: \(result.errorOutput)")
                XCTAssertEqual(result.output, help.output, "refex \(command) \(subcommand) --help")
                XCTAssertTrue(help.output.contains(subcommand), "refex help \(command) does not mention \(subcommand)")
            }
        }
    }

    func testHelpOnEachSubcommandDescribesIt() throws {
        for (command, words) in [
            ("log", ["verify", "--public-key", "--checkpoint", "export", "--format", "--json", "--store"]),
            ("subject", ["Art. 15", "Art. 17", "rectify", "Merge Patch"]),
            ("retention", ["referralsDays", "logDays", "status"]), ("keys", ["Ed25519", "log-signing-key"]),
            ("consent", ["--subject", "--referral"]), ("outbox", ["--state", "retry"]), ("config", ["check", "EXIT STATUS"]),
            ("schema", ["--schema-dir", "referral.v1.schema.json"]),
        ] {
            let help = try refex(["help", command])
            for word in words { XCTAssertTrue(help.output.contains(word), "refex help \(command) does not mention \(word)") }
        }
    }

    func testUnknownTopicOrCommandExitsTwo() throws {
        for arguments in [["help", "frobnicate"], ["help", ""], ["frobnicate", "--help"], ["help", "log", "verify", "extra"], ["help", "--config"]] {
            let result = try refex(arguments)
            XCTAssertEqual(result.status, 2, "refex \(arguments.joined(separator: " ")): \(result.output)")
            XCTAssertTrue(result.errorOutput.contains("usage: refex"), result.errorOutput)
            XCTAssertEqual(result.stdout.count, 0)
        }
        // `refex help log verify` is the log help; a value after -- is not a request for help.
        XCTAssertEqual(try refex(["help", "log", "verify"]).output, try refex(["help", "log"]).output)
        XCTAssertEqual(try refex(["schema", "validate", "--schema", "/nonexistent.json", "--", "-h"]).status, 2)
    }

    func testInstalledBinaryNamesItsOwnSchemaFolder() throws {
        let prefix = ProjectPaths.temporaryDirectory("refex-help-prefix") + "/opt/refex"
        let installed = try Subprocess.run("\(ProjectPaths.root)/scripts/install.sh", [], environment: [
            "BINARY": ProjectPaths.refexBinary, "PREFIX": prefix, "SYSCONFDIR": "\(prefix)/etc", "DESTDIR": "",
        ], timeout: 120, currentDirectory: ProjectPaths.root)
        XCTAssertEqual(installed.status, 0, installed.errorOutput)
        let schemas = "\(prefix)/share/refex/schemas"
        // The OpenAPI document is installed with the schemas.
        for name in ["config.v1.schema.json", "referral.v1.schema.json", "openapi.v1.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(schemas)/\(name)"), "make install left out \(name)")
        }

        let binary = "\(prefix)/bin/refex"
        for topic in ["serve", "config", "schema"] {
            let help = try refex(["help", topic], binary: binary)
            XCTAssertEqual(help.status, 0)
            XCTAssertTrue(help.output.contains(schemas), "the installed refex help \(topic) does not name \(schemas):\n\(help.output)")
            XCTAssertFalse(help.output.contains("$PREFIX"), "refex help \(topic) leaves $PREFIX for the reader to guess")
            XCTAssertFalse(help.output.contains("/usr/share/refex"), "refex help \(topic) names a folder that is not this install's")
        }
        // The build that is not installed names the packaged location, where a config's default points.
        let uninstalled = try refex(["help", "config"])
        XCTAssertTrue(uninstalled.output.contains("(by default /usr/share/refex/schemas)"), uninstalled.output)
        XCTAssertFalse(uninstalled.output.contains(schemas))
    }
}
