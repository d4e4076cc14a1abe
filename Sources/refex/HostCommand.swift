import Crypto
import Daemon
import Exchange
import Foundation
import Logging
import Services
import Store

/// What every host command (run beside the daemon, on its store) is given: `--config FILE`
/// (default /etc/refex/refex.json) or `--store PATH`, and its own options.
struct HostOptions {
    var configPath: String?
    var storePath: String?
    var json = false
    var values: [String: String] = [:]
    var positional: [String] = []

    /// Parses `arguments`; `valued` options take a value, `flags` do not.
    static func parse(_ arguments: [String], command: String, valued: Set<String> = [], flags: Set<String> = []) -> HostOptions? {
        var options = HostOptions()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--config", "-c", "--store":
                guard index + 1 < arguments.count else {
                    printError("refex \(command): \(argument) needs a value")
                    return nil
                }
                if argument == "--store" { options.storePath = arguments[index + 1] } else { options.configPath = arguments[index + 1] }
                index += 2
            case "--json":
                options.json = true
                index += 1
            default:
                if valued.contains(argument) {
                    guard index + 1 < arguments.count else {
                        printError("refex \(command): \(argument) needs a value")
                        return nil
                    }
                    options.values[argument] = arguments[index + 1]
                    index += 2
                } else if flags.contains(argument) {
                    options.values[argument] = ""
                    index += 1
                } else if argument.hasPrefix("-") && argument != "-" {
                    printError("refex \(command): unknown option '\(argument)'")
                    return nil
                } else {
                    options.positional.append(argument)
                    index += 1
                }
            }
        }
        return options
    }
}

/// The store and the exchange opened for a host command.
struct HostContext {
    let store: any RefexStore
    let exchange: Exchange
    let loaded: HostConfiguration?

    /// Opens what `options` names; prints the problem and returns nil when it cannot.
    /// `needsSchemas`: the command validates documents (rectification).
    ///
    /// `--store PATH` that is not the live store (the config's `store.path`, when `--config` is
    /// given) is a copy: opened read-only, with nothing created beside it and nothing appended;
    /// the reading is recorded in the live store's log when `--config` is given, else nowhere
    /// (and the command says so). A live store is never created by a host command.
    static func open(_ options: HostOptions, command: String, needsSchemas: Bool = false) -> HostContext? {
        let logger = Logger(sink: StandardErrorLogSink(), level: .warning)
        do {
            var loaded: HostConfiguration?
            if options.configPath != nil || options.storePath == nil {
                loaded = try ConfigurationLoader.loadForHost(path: options.configPath ?? "/etc/refex/refex.json", needsCatalog: needsSchemas)
            }
            var live: (any RefexStore)?
            if let loaded {
                let configured = loaded.configuration.storeConfiguration
                let isLive = options.storePath.map { sameFile($0, configured.location) } ?? true
                if isLive || options.storePath != nil {
                    live = try configured.open(logger: logger, masterKey: loaded.masterKey, creation: .never, integrityCheckLimit: .zero)
                }
                if isLive, let live {
                    return HostContext(store: live, exchange: exchange(live, loaded), loaded: loaded)
                }
            }
            guard let storePath = options.storePath else { preconditionFailure("no config and no --store") }
            guard FileManager.default.fileExists(atPath: storePath) else {
                printError("refex \(command): there is no store at \(storePath)")
                return nil
            }
            // Verifying a copy is how a backup is checked: a damaged one must fail, not half-verify.
            let copy = try StoreConfiguration.sqliteWithDefaultKeys(path: storePath).openCopy(
                logger: logger, recordingReadsIn: live, checkIntegrity: command == "log verify"
            )
            printError(live == nil
                ? "refex \(command): \(storePath) is not the live store: opened read-only; this reading is not recorded in it (give --config to record it in the live store's log)"
                : "refex \(command): \(storePath) is not the live store: opened read-only; this reading is recorded in the live store's log")
            if let loaded { return HostContext(store: copy, exchange: exchange(copy, loaded), loaded: loaded) }
            // Without a config there is no master key: commands that decrypt refuse, the rest work.
            let exchange = Exchange(store: copy, catalog: .empty, keyring: Keyring(masterKey: .random()), recipients: [])
            return HostContext(store: copy, exchange: exchange, loaded: nil)
        } catch let error as ConfigurationError {
            for problem in error.problems { printError("refex \(command): config \(error.path): \(problem)") }
            return nil
        } catch {
            printError("refex \(command): \(error)")
            return nil
        }
    }

    private static func exchange(_ store: any RefexStore, _ loaded: HostConfiguration) -> Exchange {
        Exchange(store: store, catalog: loaded.catalog, keyring: Keyring(masterKey: loaded.masterKey), recipients: loaded.configuration.recipients)
    }

    /// Whether two paths name the same file (the same device and inode), or the same path when
    /// neither exists.
    static func sameFile(_ first: String, _ second: String) -> Bool {
        var a = stat(), b = stat()
        guard stat(first, &a) == 0, stat(second, &b) == 0 else {
            return URL(fileURLWithPath: first).standardizedFileURL.path == URL(fileURLWithPath: second).standardizedFileURL.path
        }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }
}
