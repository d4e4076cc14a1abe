import Daemon
import Foundation
import Store

/// `refex store init`: creates a new, empty store (both databases, with their identity and the
/// master key's check value) where the config says. Creating a store is always explicit: this,
/// or the first `refex serve` on an empty folder; never a side effect of a missing file.
enum StoreCommand {
    static let usage = """
    usage: refex store init [--config FILE]

    Creates store.path and store.keysPath (default config /etc/refex/refex.json), recording in
    both a new store id and a check value of the master key (never the key), so that refex later
    refuses a missing half, a file of another store, or another master key. Refused when either
    file exists: restore a store from its backup instead (README: Restore).
    """

    static func run(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(usage)
            return 0
        }
        guard arguments.first == "init" else {
            printError("refex store: the only subcommand is init\n\n\(usage)")
            return 2
        }
        guard let options = HostOptions.parse(Array(arguments.dropFirst()), command: "store init"), options.positional.isEmpty,
              options.storePath == nil else {
            printError("refex store init: takes only --config FILE\n\n\(usage)")
            return 2
        }
        let configPath = options.configPath ?? "/etc/refex/refex.json"
        let loaded: HostConfiguration
        do {
            loaded = try ConfigurationLoader.loadForHost(path: configPath, needsCatalog: false)
        } catch let error as ConfigurationError {
            for problem in error.problems { printError("refex store init: config \(error.path): \(problem)") }
            return 1
        } catch {
            printError("refex store init: \(error)")
            return 1
        }
        let store = loaded.configuration.store
        // The store holds sealed personal data and every subject key: for its owner alone.
        umask(0o077)
        do {
            try loaded.configuration.storeConfiguration.create(masterKey: loaded.masterKey)
        } catch {
            printError("refex store init: \(error)")
            return 1
        }
        print("created the store \(store.path) and its subject keys \(store.keysPath)")
        return 0
    }
}
