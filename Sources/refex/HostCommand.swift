import Crypto
import Daemon
import Exchange
import Foundation
import Logging
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
    let store: SQLiteStore
    let exchange: Exchange
    let loaded: HostConfiguration?

    /// Opens what `options` names; prints the problem and returns nil when it cannot.
    /// `needsSchemas`: the command validates documents (rectification).
    static func open(_ options: HostOptions, command: String, needsSchemas: Bool = false) -> HostContext? {
        let logger = Logger(sink: StandardErrorLogSink(), level: .warning)
        do {
            if let storePath = options.storePath {
                guard FileManager.default.fileExists(atPath: storePath) else {
                    printError("refex \(command): there is no store at \(storePath)")
                    return nil
                }
                let store = try SQLiteStore(path: storePath, keysPath: keysPath(for: storePath), logger: logger)
                // Without a config there is no master key: commands that decrypt refuse, the rest work.
                let exchange = Exchange(store: store, catalog: .empty, keyring: Keyring(masterKey: .random()), recipients: [])
                return HostContext(store: store, exchange: exchange, loaded: nil)
            }
            let path = options.configPath ?? "/etc/refex/refex.json"
            let loaded = try ConfigurationLoader.loadForHost(path: path, needsCatalog: needsSchemas)
            let configuration = loaded.configuration
            let store = try SQLiteStore(path: configuration.store.path, keysPath: configuration.store.keysPath, logger: logger)
            let exchange = Exchange(
                store: store, catalog: loaded.catalog, keyring: Keyring(masterKey: loaded.masterKey), recipients: configuration.recipients
            )
            return HostContext(store: store, exchange: exchange, loaded: loaded)
        } catch let error as ConfigurationError {
            for problem in error.problems { printError("refex \(command): config \(error.path): \(problem)") }
            return nil
        } catch {
            printError("refex \(command): \(error)")
            return nil
        }
    }

    /// `refex.db` → `refex-keys.db`, as the daemon names it.
    static func keysPath(for storePath: String) -> String {
        let url = URL(fileURLWithPath: storePath)
        let ext = url.pathExtension
        let base = url.deletingPathExtension().path
        return ext.isEmpty ? "\(base)-keys" : "\(base)-keys.\(ext)"
    }
}

/// Runs async work from the synchronous command line.
func runAsync<Result: Sendable>(_ work: @escaping @Sendable () async throws -> Result) throws -> Result {
    let semaphore = DispatchSemaphore(value: 0)
    let box = ResultBox<Result>()
    Task {
        do { box.value = .success(try await work()) } catch { box.value = .failure(error) }
        semaphore.signal()
    }
    semaphore.wait()
    guard let value = box.value else { preconditionFailure("async work finished without a result") }
    return try value.get()
}

final class ResultBox<Value: Sendable>: @unchecked Sendable {
    // Written once by the task, read after the semaphore: ordered by it.
    var value: Result<Value, any Error>?
}
