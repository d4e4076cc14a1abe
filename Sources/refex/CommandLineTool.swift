import Daemon
import Foundation
import Logging
import Store

enum CommandLineTool {
    static let usage = """
    usage: refex <command> [options]

    commands:
      serve --config FILE           run the daemon (systemd Type=notify; SIGHUP reloads, SIGTERM drains)
      config check --config FILE    check a config and everything it names; lists every problem
      schema validate --schema FILE [--schema-dir DIR] DOCUMENT...
                                    validate JSON documents against a JSON Schema (2020-12)
      log list|show|verify|checkpoint|export
                                    the disclosure log (every read is itself logged)
      subject export|erase|restrict|unrestrict|rectify ID
                                    a subject's rights, one command each
      subject find --reference R | --crime-reference R | --family F --dob D [--given G]
                                    find the subject a request names (searches are logged)
      keys generate FILE            a new Ed25519 log-signing key; prints its public key
      retention run|status          the retention purge, or what is due when
      consent list --subject ID|--referral ID
                                    the consents recorded (no personal data)
      outbox list|retry             what waits for delivery; put a failed item back in the queue
      backup DEST                   a consistent copy of the store and its keys while refex serves
      store init                    create a new, empty store where the config says (refused if either file exists)
      sink --listen ... --dir DIR   a sample recipient (see refex sink --help)
      help [COMMAND]                this text, or a command's (also: refex COMMAND --help)
      version                       print the version

    FILE defaults to /etc/refex/refex.json.
    """

    static let version = "refex 0.1.0"

    static func run(_ arguments: [String]) -> Int32 {
        guard let command = arguments.first else {
            printError(usage)
            return 2
        }
        let rest = Array(arguments.dropFirst())
        // `refex COMMAND [SUBCOMMAND] --help`: the command's help, whatever else was given.
        if command != "help", rest.prefix(while: { $0 != "--" }).contains(where: { $0 == "--help" || $0 == "-h" }) {
            guard let text = HelpText.text(for: command) else {
                printError("refex: unknown command '\(command)'\n\n\(usage)")
                return 2
            }
            print(text)
            return 0
        }
        switch command {
        case "serve":
            return serve(rest)
        case "config":
            guard rest.first == "check" else {
                printError("refex config: the only subcommand is check\n\n\(usage)")
                return 2
            }
            return configCheck(Array(rest.dropFirst()))
        case "schema":
            return SchemaCommand.run(rest)
        case "backup":
            return BackupCommand.run(rest)
        case "store":
            return StoreCommand.run(rest)
        case "sink":
            return SinkCommand.run(rest)
        case "outbox":
            return OutboxCommand.run(rest)
        case "log":
            return LogCommand.run(rest)
        case "subject":
            return SubjectCommand.run(rest)
        case "keys":
            return KeysCommand.run(rest)
        case "retention":
            return RetentionCommand.run(rest)
        case "consent":
            return ConsentCommand.run(rest)
        case "help", "--help", "-h":
            guard rest.count <= 2 else {
                printError("refex help: give one command\n\n\(usage)")
                return 2
            }
            if let topic = rest.first {
                guard let text = HelpText.text(for: topic) else {
                    printError("refex help: no help on '\(topic)'\n\n\(usage)")
                    return 2
                }
                print(text)
                return 0
            }
            print(usage)
            return 0
        case "version", "--version":
            print(version)
            return 0
        default:
            printError("refex: unknown command '\(command)'\n\n\(usage)")
            return 2
        }
    }

    /// `--config FILE` from `arguments`; nil (after printing why) if the options are wrong.
    static func configPath(_ arguments: [String], command: String) -> String? {
        var path = "/etc/refex/refex.json"
        var index = 0
        while index < arguments.count {
            switch arguments[index] {
            case "--config", "-c":
                guard index + 1 < arguments.count else {
                    printError("refex \(command): --config needs a file")
                    return nil
                }
                path = arguments[index + 1]
                index += 2
            default:
                printError("refex \(command): unknown option '\(arguments[index])'")
                return nil
            }
        }
        return path
    }

    static func serve(_ arguments: [String]) -> Int32 {
        guard let path = configPath(arguments, command: "serve") else { return 2 }
        ProcessSignals.block()
        // Everything refex writes (the store, its keys) is for refex alone.
        umask(0o077)
        let daemon: Daemon
        do {
            daemon = try Daemon(configPath: path)
        } catch let error as ConfigurationError {
            for problem in error.problems { printStartupFailure("refex: config \(path): \(problem)") }
            return 1
        } catch {
            printStartupFailure("refex: \(error)")
            return 1
        }
        return daemon.run() ? 0 : 1
    }

    static func configCheck(_ arguments: [String]) -> Int32 {
        guard let path = configPath(arguments, command: "config check") else { return 2 }
        do {
            let loaded = try ConfigurationLoader.load(path: path, checkDisclosures: true)
            // Notices do not fail the check; under the journal they are at notice priority.
            for notice in loaded.notices { printError((journalPriority.isEmpty ? "" : "<5>") + "\(path): notice: \(notice)") }
            let configuration = loaded.configuration
            do {
                // The store must be one store, and this master key's (never printed, only compared).
                try configuration.storeConfiguration.checkIdentity(masterKey: loaded.masterKey)
            } catch {
                printError(journalPriority + "\(path): 1 problem")
                printError(journalPriority + "  - store: \(error)")
                return 1
            }
            func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
            // A check listens on nothing: say where serve would (socket activation may replace both).
            print("\(path): OK (\(count(configuration.partners.count, "partner")), \(count(configuration.recipients.count, "recipient")); "
                + "serve would listen on \(configuration.listen), ops on \(configuration.ops))")
            return 0
        } catch let error as ConfigurationError {
            printError(journalPriority + "\(path): \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s")")
            for problem in error.problems { printError(journalPriority + "  - \(problem)") }
            return 1
        } catch {
            printError(journalPriority + "\(path): \(error)")
            return 1
        }
    }

    /// `<3>` when standard error is the journal's (as for the unit's `ExecStartPre=refex config
    /// check`), so that `journalctl -p err` shows why refex did not start; nothing in a terminal.
    static var journalPriority: String {
        StandardErrorLogSink.isJournalStream(ProcessInfo.processInfo.environment["JOURNAL_STREAM"]) ? "<3>" : ""
    }
}

/// A reason `refex serve` cannot start, as a log line at error priority (`<3>`) like every other
/// line refex logs (with its time unless stderr is the journal), so that `journalctl -p err`
/// shows why refex did not start. One line: a newline in it is escaped.
func printStartupFailure(_ text: String) {
    StandardErrorLogSink().write(LogRecord(level: .error, message: text, metadata: []))
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
