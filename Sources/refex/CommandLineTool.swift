import Daemon
import Foundation
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
      keys generate FILE            a new Ed25519 log-signing key; prints its public key
      retention run|status          the retention purge, or what is due when
      consent list --subject ID|--referral ID
                                    the consents recorded (no personal data)
      outbox list|retry             what waits for delivery; put a failed item back in the queue
      backup DEST                   a consistent copy of the store and its keys while refex serves
      store init                    create a new, empty store where the config says (refused if either file exists)
      sink --listen ... --dir DIR   a sample recipient (see refex sink --help)
      help [COMMAND]                this text, or a command's
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
            for problem in error.problems { printError("refex: config \(path): \(problem)") }
            return 1
        } catch {
            printError("refex: \(error)")
            return 1
        }
        daemon.run()
        return 0
    }

    static func configCheck(_ arguments: [String]) -> Int32 {
        guard let path = configPath(arguments, command: "config check") else { return 2 }
        do {
            let loaded = try ConfigurationLoader.load(path: path)
            let store = loaded.configuration.store
            do {
                // The store must be one store, and this master key's (never printed, only compared).
                try SQLiteStore.checkIdentity(path: store.path, keysPath: store.keysPath, masterKey: loaded.masterKey)
            } catch {
                printError("\(path): 1 problem")
                printError("  - store: \(error)")
                return 1
            }
            print("\(path): OK (\(loaded.configuration.partners.count) partners; listening on \(loaded.configuration.listen))")
            return 0
        } catch let error as ConfigurationError {
            printError("\(path): \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s")")
            for problem in error.problems { printError("  - \(problem)") }
            return 1
        } catch {
            printError("\(path): \(error)")
            return 1
        }
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
