import Crypto
import Exchange
import Foundation
import JSON

/// `refex log list|show|verify|checkpoint|export`: the disclosure log on the host. Every read is
/// itself logged (`log.viewed`).
enum LogCommand {
    static let usage = """
    usage: refex log list [--subject ID] [--referral ID] [--recipient ID] [--event E] [--basis B] [--actor A]
                          [--since TIME] [--until TIME] [--after SEQ] [--limit N] [--json]
           refex log show SEQ|DISCLOSURE-ID [--json]
           refex log verify [--public-key FILE] [--checkpoint FILE] [--json]
           refex log checkpoint
           refex log export [--since TIME] [--until TIME] [filters] [--format jsonl|csv]
    every command takes --config FILE (default /etc/refex/refex.json) or --store PATH; TIME is RFC 3339
    """

    static let filterOptions: Set<String> = [
        "--subject", "--referral", "--recipient", "--event", "--basis", "--actor", "--since", "--until", "--after", "--limit",
    ]

    static func run(_ arguments: [String]) -> Int32 {
        guard let subcommand = arguments.first, ["list", "show", "verify", "checkpoint", "export"].contains(subcommand) else {
            printError(usage)
            return 2
        }
        let valued = filterOptions.union(["--public-key", "--checkpoint", "--format"])
        guard let options = HostOptions.parse(Array(arguments.dropFirst()), command: "log \(subcommand)", valued: valued) else { return 2 }
        guard let filter = filter(options, command: "log \(subcommand)") else { return 2 }
        guard let host = HostContext.open(options, command: "log \(subcommand)") else { return 1 }
        defer { host.store.close() }
        let exchange = host.exchange
        let actor = hostActor()
        do {
            switch subcommand {
            case "list":
                let limit = options.values["--limit"].flatMap(Int.init) ?? 50
                let entries = try runAsync { try await exchange.logEntries(filter, limit: limit, by: actor) }
                if options.json {
                    for entry in entries { print(entry.json.serializedString()) }
                } else {
                    print(table(entries))
                    if entries.count == limit, let last = entries.last { print("more: --after \(last.seq)") }
                }
            case "show":
                guard options.positional.count == 1 else {
                    printError("refex log show: give one seq number or disclosure id")
                    return 2
                }
                let key = options.positional[0]
                let (entry, related) = try runAsync { try await exchange.logEntry(key, by: actor) }
                if options.json {
                    print(JSONValue.object(["entry": entry.json, "related": .array(related.map(\.json))]).serializedString())
                } else {
                    print(entry.json.prettyPrinted())
                    if !related.isEmpty {
                        print("\nthe referral's other entries:")
                        print(table(related))
                    }
                }
            case "verify":
                return try verify(options, host: host, actor: actor)
            case "checkpoint":
                guard let checkpoint = try runAsync({ try await exchange.latestCheckpoint(by: actor) }) else {
                    printError("refex log checkpoint: no checkpoint has been signed yet (is log.signingKey configured?)")
                    return 1
                }
                print(checkpoint.json(publicKey: host.loaded?.logSigningKey?.publicKey).prettyPrinted())
            default:
                let format = options.values["--format"] ?? "jsonl"
                guard format == "jsonl" || format == "csv" else {
                    printError("refex log export: --format is jsonl or csv")
                    return 2
                }
                let output = FileHandle.standardOutput
                if format == "csv" { output.write(Data((csvHeader.joined(separator: ",") + "\n").utf8)) }
                let count = try runAsync {
                    try await exchange.exportLog(filter, by: actor) { entry in
                        let line = format == "csv" ? csvRow(entry) : entry.json.serializedString()
                        output.write(Data((line + "\n").utf8))
                    }
                }
                printError("refex log export: \(count) entries")
            }
            return 0
        } catch let error as ExchangeError {
            printError("refex log \(subcommand): \(error.message)")
            return 1
        } catch {
            printError("refex log \(subcommand): \(error)")
            return 1
        }
    }

    private static func verify(_ options: HostOptions, host: HostContext, actor: Actor) throws -> Int32 {
        var publicKey = host.loaded?.logSigningKey?.publicKey
        if let path = options.values["--public-key"] {
            guard let data = FileManager.default.contents(atPath: path) else {
                printError("refex log verify: cannot read \(path)")
                return 2
            }
            do {
                publicKey = try Ed25519PublicKey(text: Array(data))
            } catch {
                printError("refex log verify: \(path): \(error)")
                return 2
            }
        }
        var kept: Checkpoint?
        if let path = options.values["--checkpoint"] {
            guard let data = FileManager.default.contents(atPath: path), let value = try? JSONValue.parse(Array(data)),
                  let checkpoint = Checkpoint(json: value) else {
                printError("refex log verify: \(path) is not a checkpoint (as refex log checkpoint prints)")
                return 2
            }
            kept = checkpoint
        }
        let exchange = host.exchange
        let chosenKey = publicKey
        let keptCheckpoint = kept
        let logRetention = host.loaded?.configuration.retention.policy.log
        let report = try runAsync {
            try await exchange.verifyLog(publicKey: chosenKey, kept: keptCheckpoint, logRetention: logRetention, by: actor)
        }
        if options.json {
            print(report.json.serializedString())
        } else if let failure = report.failure {
            printError("refex log verify: FAILED at entry \(failure.seq): \(failure.reason)")
        } else {
            var line = "verified \(report.entries) entries (last \(report.lastSeq), hash \(report.lastHash.prefix(16))…)"
            if let checkpoint = report.lastCheckpoint {
                line += "; last signed checkpoint: entry \(checkpoint.seq) at \(checkpoint.time)"
            }
            line += report.signaturesChecked ? "; \(report.checkpointsChecked) checkpoint signatures checked"
                : "; checkpoint signatures NOT checked (no public key: give --public-key)"
            print(line)
        }
        return report.isValid ? 0 : 1
    }

    static func filter(_ options: HostOptions, command: String) -> LogFilter? {
        var filter = LogFilter()
        filter.subjectID = options.values["--subject"]
        filter.referralID = options.values["--referral"]
        filter.recipientID = options.values["--recipient"]
        filter.event = options.values["--event"]
        filter.lawfulBasis = options.values["--basis"]
        filter.actor = options.values["--actor"]
        for (option, assign) in [("--since", { (time: Timestamp) in filter.since = time }), ("--until", { filter.until = $0 })] {
            guard let text = options.values[option] else { continue }
            guard let time = Timestamp(rfc3339: text) else {
                printError("refex \(command): \(option) must be an RFC 3339 time, e.g. 2026-11-01T00:00:00Z")
                return nil
            }
            assign(time)
        }
        if let after = options.values["--after"] {
            guard let seq = Int64(after) else {
                printError("refex \(command): --after takes a seq number")
                return nil
            }
            filter.afterSeq = seq
        }
        if let limit = options.values["--limit"], Int(limit) == nil {
            printError("refex \(command): --limit takes a number")
            return nil
        }
        return filter
    }

    /// A table for people: local time with offset, ids shortened.
    static func table(_ entries: [LogEntry]) -> String {
        Table.render(
            header: ["SEQ", "TIME", "EVENT", "ACTOR", "REFERRAL", "SUBJECT", "RECIPIENT", "SERVICE", "BASIS", "REASON"],
            rows: entries.map { entry in
                let draft = entry.draft
                return [
                    String(entry.seq), localTime(entry.time), draft.event.rawValue, shorten(draft.actor, 20),
                    draft.referralID.map { String($0.prefix(8)) } ?? "-", draft.subjectID.map { String($0.prefix(8)) } ?? "-",
                    draft.recipientID ?? "-", draft.service ?? "-", draft.lawfulBasis?.rawValue ?? "-", shorten(draft.reason ?? "-", 30),
                ]
            }
        )
    }

    static let csvHeader = [
        "seq", "time", "event", "actor", "referralId", "subjectId", "disclosureId", "recipient", "service", "lawfulBasis", "consentId",
        "justification", "pointers", "categories", "reason", "prevHash", "hash",
    ]

    static func csvRow(_ entry: LogEntry) -> String {
        let draft = entry.draft
        let fields: [String] = [
            String(entry.seq), entry.time.description, draft.event.rawValue, draft.actor, draft.referralID ?? "", draft.subjectID ?? "",
            draft.disclosureID ?? "", draft.recipientID ?? "", draft.service ?? "", draft.lawfulBasis?.rawValue ?? "", draft.consentID ?? "",
            draft.justification ?? "", (draft.pointers ?? []).joined(separator: " "), (draft.categories ?? []).joined(separator: " "),
            draft.reason ?? "", entry.prevHash, entry.hash,
        ]
        return fields.map(csvField).joined(separator: ",")
    }

    /// RFC 4180 quoting; a leading = + - @ is prefixed so that a spreadsheet does not run it as a formula.
    static func csvField(_ text: String) -> String {
        var value = text
        if let first = value.first, "=+-@\t\r".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// The actor recorded for host commands: the Unix user who ran them.
func hostActor() -> Actor {
    Actor(id: hostActorID(userName: NSUserName(), isRoot: getuid() == 0, environment: ProcessInfo.processInfo.environment), isAdmin: true)
}

/// `host:USER`; under `sudo` (root with `SUDO_USER` naming someone else) the person who ran it,
/// `host:alice via sudo`, not root. A `SUDO_USER` that is not a plain user name is ignored.
func hostActorID(userName: String, isRoot: Bool, environment: [String: String]) -> String {
    if isRoot, let invoker = environment["SUDO_USER"], invoker != "root", (1...32).contains(invoker.utf8.count),
       invoker.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }) {
        return "host:\(invoker) via sudo"
    }
    return "host:\(userName)"
}
