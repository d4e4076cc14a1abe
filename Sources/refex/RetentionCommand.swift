import Daemon
import Exchange
import Foundation
import JSON
import Services
import Store

/// `refex retention run|status`: the purge now, or what is due when.
enum RetentionCommand {
    static let usage = "usage: refex retention run|status [--config FILE]"

    static func run(_ arguments: [String]) -> Int32 {
        guard let subcommand = arguments.first, subcommand == "run" || subcommand == "status" else {
            printError(usage)
            return 2
        }
        guard let options = HostOptions.parse(Array(arguments.dropFirst()), command: "retention \(subcommand)"), options.storePath == nil else {
            printError(usage)
            return 2
        }
        guard let host = HostContext.open(options, command: "retention \(subcommand)"), let loaded = host.loaded else { return 1 }
        defer { host.store.close() }
        let exchange = host.exchange
        let policy = loaded.configuration.retention.policy
        do {
            let result = try runAsync {
                subcommand == "run" ? Rendering.json(try await exchange.runRetention(policy, by: hostActor()))
                    : Rendering.json(try await exchange.retentionStatus(policy))
            }
            print(result.prettyPrinted())
            return 0
        } catch {
            printError("refex retention \(subcommand): \(error)")
            return 1
        }
    }
}
