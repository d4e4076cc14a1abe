import Exchange
import Foundation
import JSON

/// `refex subject export|erase|restrict|unrestrict|rectify ID`: a victim's rights, one command each.
enum SubjectCommand {
    static let usage = """
    usage: refex subject export ID                 everything held about the subject, decrypted (JSON)
           refex subject erase ID                  crypto-shred the subject; recipients get erasure notices
           refex subject restrict ID               no further disclosure while restricted
           refex subject unrestrict ID
           refex subject rectify ID PATCH-FILE|-   apply a JSON Merge Patch of corrected referral fields
           refex subject find [--reference R] [--crime-reference R] [--family F --dob D [--given G]]
                                                   find a subject by what a request names (see refex help subject)
    every command takes --config FILE (default /etc/refex/refex.json)
    """

    static func run(_ arguments: [String]) -> Int32 {
        if arguments.first == "find" { return SubjectFindCommand.run(Array(arguments.dropFirst())) }
        let subcommands = ["export", "erase", "restrict", "unrestrict", "rectify"]
        guard let subcommand = arguments.first, subcommands.contains(subcommand) else {
            printError(usage)
            return 2
        }
        guard let options = HostOptions.parse(Array(arguments.dropFirst()), command: "subject \(subcommand)") else { return 2 }
        let needed = subcommand == "rectify" ? 2 : 1
        guard options.positional.count == needed else {
            printError("refex subject \(subcommand): wrong arguments\n\(usage)")
            return 2
        }
        guard options.storePath == nil else {
            printError("refex subject \(subcommand): needs --config (the master key), not --store")
            return 2
        }
        var patch: [UInt8] = []
        if subcommand == "rectify" {
            let source = options.positional[1]
            let data = source == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: source)
            guard let data else {
                printError("refex subject rectify: cannot read \(source)")
                return 2
            }
            patch = Array(data)
        }
        guard let host = HostContext.open(options, command: "subject \(subcommand)", needsSchemas: subcommand == "rectify") else { return 1 }
        defer { host.store.close() }
        let exchange = host.exchange
        let id = options.positional[0]
        let actor = hostActor()
        let body = patch
        do {
            let result: JSONValue = try runAsync {
                switch subcommand {
                case "export": return try await exchange.exportSubject(id, by: actor)
                case "erase": return try await exchange.eraseSubject(id, by: actor)
                case "restrict": return try await exchange.restrictSubject(id, true, by: actor)
                case "unrestrict": return try await exchange.restrictSubject(id, false, by: actor)
                default: return try await exchange.rectifySubject(id, patch: body, by: actor)
                }
            }
            print(result.prettyPrinted())
            return 0
        } catch let error as ExchangeError {
            printError("refex subject \(subcommand): \(error.message)")
            for item in error.validationErrors.prefix(20) { printError("  \(item.instanceLocation): \(item.message)") }
            return 1
        } catch {
            printError("refex subject \(subcommand): \(error)")
            return 1
        }
    }
}
