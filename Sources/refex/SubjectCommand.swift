import Daemon
import Exchange
import Foundation
import JSON
import JSONSchema
import Services
import Store

/// `refex subject export|erase|restrict|unrestrict|rectify ID`: a victim's rights, one command each.
enum SubjectCommand {
    static let usage = """
    usage: refex subject export ID                 everything held about the subject, decrypted (JSON)
           refex subject erase ID --reason TEXT [--yes]
                                                   crypto-shred the subject; recipients get erasure notices.
                                                   Shows what will happen and asks to confirm unless --yes;
                                                   the reason names no one (it is checked like a justification)
           refex subject restrict ID [--reason TEXT]    no further disclosure while restricted
           refex subject unrestrict ID [--reason TEXT]
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
        let isErase = subcommand == "erase"
        guard let options = HostOptions.parse(
            Array(arguments.dropFirst()), command: "subject \(subcommand)",
            valued: ["erase", "restrict", "unrestrict"].contains(subcommand) ? ["--reason"] : [], flags: isErase ? ["--yes"] : []
        ) else { return 2 }
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
        var reason: String?
        if isErase {
            guard let given = options.values["--reason"]?.trimmingCharacters(in: .whitespacesAndNewlines), !given.isEmpty else {
                printError("refex subject erase: --reason is required: why the subject is erased, in words that name no one")
                return 2
            }
            reason = given
        } else if let given = options.values["--reason"] {
            reason = given
        }
        guard let host = HostContext.open(options, command: "subject \(subcommand)", needsSchemas: subcommand == "rectify") else { return 1 }
        if isErase, let reason {
            let confirmed = confirmErasure(host.exchange, id: options.positional[0], reason: reason, assumeYes: options.values["--yes"] != nil)
            guard confirmed == 0 else {
                host.store.close()
                return confirmed
            }
        }
        defer { host.store.close() }
        let exchange = host.exchange
        let id = options.positional[0]
        let actor = hostActor()
        let body = patch
        let statement = reason
        do {
            let result: JSONValue = try runAsync {
                switch subcommand {
                case "export": return Rendering.json(try await exchange.exportSubject(id, by: actor))
                case "erase": return Rendering.json(try await exchange.eraseSubject(id, justification: statement, by: actor))
                case "restrict": return Rendering.json(try await exchange.restrictSubject(id, true, reason: statement, by: actor))
                case "unrestrict": return Rendering.json(try await exchange.restrictSubject(id, false, reason: statement, by: actor))
                default: return Rendering.json(try await exchange.rectifySubject(id, patch: body, by: actor))
                }
            }
            print(result.prettyPrinted())
            return 0
        } catch let error as ExchangeError {
            printError("refex subject \(subcommand): \(error.message)")
            if error.kind == .invalid, statement != nil { return 2 }
            for item in error.validationErrors.prefix(20) { printError("  \(item.instanceLocation): \(item.message)") }
            return 1
        } catch {
            printError("refex subject \(subcommand): \(error)")
            return 1
        }
    }

    /// Checks the reason, shows what erasing the subject will do, and asks for "yes" on standard
    /// input unless `assumeYes`. 0 to go ahead; otherwise the exit status (nothing was changed).
    static func confirmErasure(_ exchange: Exchange, id: String, reason: String, assumeYes: Bool) -> Int32 {
        let preview: ErasurePreview
        do {
            preview = try runAsync { try await exchange.erasurePreview(id, reason: reason) }
        } catch let error as ExchangeError {
            printError("refex subject erase: \(error.message)")
            return error.kind == .invalid ? 2 : 1
        } catch {
            printError("refex subject erase: \(error)")
            return 1
        }
        if let erasedAt = preview.erasedAt {
            printError("Subject \(id) was already erased on \(erasedAt); nothing more will happen.")
            return 0
        }
        let referrals = preview.referralIDs
        let cancelled = preview.cancelled
        let told = preview.recipientsToBeTold
        var lines = ["Erasing subject \(id) will:"]
        lines.append("  delete the data of \(referrals.count) referral(s) and \(preview.consentCount) consent record(s), for good:")
        lines += referrals.map { "    referral \($0)" }
        lines.append("  cancel \(cancelled.count) disclosure(s) not yet delivered")
        if told.isEmpty {
            lines.append("  tell no recipient: none has received anything")
        } else {
            lines.append("  send an erasure notice to \(told.count) recipient(s) that received data:")
            for entry in told {
                let possibly = entry.possiblyReceived ? " (an attempt that may have arrived)" : ""
                lines.append("    \(entry.recipientID) for disclosure \(entry.disclosureID)\(possibly)")
            }
        }
        lines.append("  record who erased it and why; the reason goes with the subject's key")
        printError(lines.joined(separator: "\n"))
        if assumeYes { return 0 }
        FileHandle.standardError.write(Data("Type yes to erase: ".utf8))
        guard let answer = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces).lowercased(), answer == "yes" || answer == "y" else {
            printError("refex subject erase: not confirmed; nothing was erased (give --yes to confirm without asking)")
            return 1
        }
        return 0
    }
}
