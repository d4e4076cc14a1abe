import Crypto
import Daemon
import Exchange
import Foundation
import JSON
import Services
import Store

/// `refex log list|show|verify|checkpoint|export`: the disclosure log on the host. Every read is
/// itself logged (`log.viewed`). A filter that names nothing refex knows is a usage error (exit 2)
/// listing the valid values, never an empty answer.
enum LogCommand {
    static let usage = """
    usage: refex log list [--subject ID] [--referral ID] [--recipient ID] [--event E] [--exclude-event E[,E…]]
                          [--basis B] [--actor A] [--since TIME] [--until TIME] [--after SEQ | --before SEQ]
                          [--newest-first] [--limit N] [--json]
           refex log show SEQ|DISCLOSURE-ID [--json]
           refex log verify [--public-key FILE | --no-signatures] [--checkpoint FILE] [--json]
           refex log checkpoint
           refex log export [--since TIME] [--until TIME] [filters] [--format jsonl|csv]
    every command takes --config FILE (default /etc/refex/refex.json) or --store PATH; TIME is RFC 3339;
    an id is whole or a prefix that only it starts with (as tables show them)
    exit status: 0 done; 1 failed (verify: the log does not verify); 2 a usage error or a filter naming
    nothing known (the valid values are listed); 3 verify found the chain intact but checked no
    checkpoint signature (no public key: give --public-key FILE, or --no-signatures to accept that)
    """

    /// `log verify`'s status when the chain verified but no signature was checked.
    static let signaturesNotChecked: Int32 = 3

    static let filterOptions: Set<String> = [
        "--subject", "--referral", "--recipient", "--event", "--exclude-event", "--basis", "--actor", "--since", "--until", "--after",
        "--before", "--limit",
    ]

    static func run(_ arguments: [String]) -> Int32 {
        guard let subcommand = arguments.first, ["list", "show", "verify", "checkpoint", "export"].contains(subcommand) else {
            printError(usage)
            return 2
        }
        let valued = filterOptions.union(["--public-key", "--checkpoint", "--format"])
        guard let options = HostOptions.parse(
            Array(arguments.dropFirst()), command: "log \(subcommand)", valued: valued, flags: ["--newest-first", "--no-signatures"]
        ) else { return 2 }
        guard let parsed = filter(options, command: "log \(subcommand)") else { return 2 }
        let (filter, limit) = parsed
        guard let host = HostContext.open(options, command: "log \(subcommand)") else { return 1 }
        defer { host.store.close() }
        let exchange = host.exchange
        let actor = hostActor()
        let partners = host.loaded?.configuration.partners.map(\.id) ?? []
        do {
            switch subcommand {
            case "list":
                let page = try runAsync { try await exchange.logPage(filter, limit: limit, knownPartners: partners, by: actor) }
                if options.json {
                    for entry in page.entries { print(entry.json.serializedString()) }
                } else {
                    print(try table(page.entries, host: host))
                    if let next = page.next {
                        print(filter.newestFirst ? "more: --before \(next)" : "more: --after \(next)")
                    }
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
                    print(readable(entry, host: host))
                    if !related.isEmpty {
                        print("\nthe referral's other entries:")
                        print(try table(related, host: host))
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
                let count = try runAsync {
                    try await exchange.exportLog(filter, knownPartners: partners, by: actor, start: {
                        if format == "csv" { output.write(Data((csvHeader.joined(separator: ",") + "\n").utf8)) }
                    }) { entry in
                        let line = format == "csv" ? csvRow(entry) : entry.json.serializedString()
                        output.write(Data((line + "\n").utf8))
                    }
                }
                printError("refex log export: \(count) entries")
            }
            return 0
        } catch let error as FilterError {
            printError("refex log \(subcommand): \(optionName(error.parameter)): \(error.description)")
            return 2
        } catch let error as ExchangeError {
            printError("refex log \(subcommand): \(error.message)")
            return 1
        } catch {
            printError("refex log \(subcommand): \(error)")
            return 1
        }
    }

    /// The CLI option for an API parameter named in a `FilterError`.
    static func optionName(_ parameter: String) -> String {
        switch parameter {
        case "exclude": "--exclude-event"
        case "disclosure": "DISCLOSURE-ID"
        case "seq": "SEQ"
        default: "--\(parameter)"
        }
    }

    private static func verify(_ options: HostOptions, host: HostContext, actor: Actor) throws -> Int32 {
        let acceptUnsigned = options.values["--no-signatures"] != nil
        guard !(acceptUnsigned && options.values["--public-key"] != nil) else {
            printError("refex log verify: give --public-key or --no-signatures, not both")
            return 2
        }
        var publicKey = acceptUnsigned ? nil : host.loaded?.logSigningKey?.publicKey
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
            print(Rendering.json(report).serializedString())
        } else if let failure = report.failure {
            printError("refex log verify: FAILED at entry \(failure.seq): \(failure.reason)")
        } else {
            var line = "verified \(report.entries) entries (last \(report.lastSeq), hash \(report.lastHash.prefix(16))…)"
            if let checkpoint = report.lastCheckpoint {
                line += "; last signed checkpoint: entry \(checkpoint.seq) at \(checkpoint.time)"
            }
            line += report.signaturesChecked ? "; \(report.checkpointsChecked) checkpoint signatures checked"
                : acceptUnsigned ? "; checkpoint signatures not checked (--no-signatures)"
                : "; checkpoint signatures NOT checked"
            print(line)
        }
        guard report.isValid else { return 1 }
        guard report.signaturesChecked || acceptUnsigned else {
            printError("""
            refex log verify: no public key, so no checkpoint signature was checked: anyone who can write the store \
            could have rewritten the log and its checkpoints. Give --public-key FILE (the key refex keys generate \
            printed), or --no-signatures to accept a check of the chain alone.
            """)
            return signaturesNotChecked
        }
        return 0
    }

    /// The options `LogFilter.parse` reads, with the parameter name each stands for.
    static let filterParameters: [(option: String, parameter: String)] = [
        ("--subject", "subject"), ("--referral", "referral"), ("--recipient", "recipient"), ("--event", "event"),
        ("--exclude-event", "exclude"), ("--basis", "basis"), ("--actor", "actor"), ("--since", "since"), ("--until", "until"),
        ("--after", "after"), ("--before", "before"), ("--limit", "limit"),
    ]

    /// The filter and page size from the options, read by the same parser as the API's query
    /// (`--newest-first` is `order=newest`); nil after printing the problem (a usage error).
    static func filter(_ options: HostOptions, command: String) -> (LogFilter, Int)? {
        var items = filterParameters.compactMap { option, parameter in options.values[option].map { (name: parameter, value: $0) } }
        if options.values["--newest-first"] != nil { items.append((name: "order", value: "newest")) }
        do {
            return try LogFilter.parse(items, limits: 1...10_000, defaultLimit: 50) { parameter in
                parameter == "order=newest" ? "--newest-first" : optionName(parameter)
            }
        } catch let error as FilterError {
            printError("refex \(command): \(error.description)")
            return nil
        } catch {
            printError("refex \(command): \(error)")
            return nil
        }
    }

    /// A table for people: local time with its offset, ids as long as it takes to tell them apart
    /// (and as filters take them back), recipients with their names.
    static func table(_ entries: [LogEntry], host: HostContext) throws -> String {
        let exchange = host.exchange
        let referralIDs = Set(entries.compactMap(\.draft.referralID))
        let subjectIDs = Set(entries.compactMap(\.draft.subjectID))
        let (referrals, subjects) = try runAsync {
            (try await exchange.shortIDs(referralIDs, .referral), try await exchange.shortIDs(subjectIDs, .subject))
        }
        let names = recipientNames(host)
        return Table.render(
            header: ["SEQ", "TIME", "EVENT", "ACTOR", "REFERRAL", "SUBJECT", "RECIPIENT", "SERVICE", "BASIS", "REASON"],
            rows: entries.map { entry in
                let draft = entry.draft
                return [
                    String(entry.seq), localTime(entry.time), draft.event.rawValue, shorten(draft.actor, 20),
                    draft.referralID.map { referrals[$0] ?? $0 } ?? "-", draft.subjectID.map { subjects[$0] ?? $0 } ?? "-",
                    draft.recipientID.map { shorten(recipientLabel($0, names), 40) } ?? "-", draft.service ?? "-",
                    draft.lawfulBasis?.rawValue ?? "-", shorten(draft.reason ?? "-", 30),
                ]
            }
        )
    }

    static func recipientNames(_ host: HostContext) -> [String: String] {
        Dictionary((host.loaded?.configuration.recipients ?? []).map { ($0.id, $0.name) }) { first, _ in first }
    }

    /// `dv-support (Example domestic abuse service)`; the id alone when the config does not name it.
    static func recipientLabel(_ id: String, _ names: [String: String]) -> String {
        names[id].map { "\(id) (\($0))" } ?? id
    }

    /// One entry for people: every member of its JSON, known ones first and named, times local,
    /// pointers as the schema's field names, recipients with their names.
    static func readable(_ entry: LogEntry, host: HostContext) -> String {
        guard case .object(let object) = entry.json else { return entry.json.prettyPrinted() }
        let fieldNames = host.loaded.map { FieldNames(folder: $0.configuration.schemas) } ?? FieldNames()
        let names = recipientNames(host)
        var lines: [(String, String)] = []
        var shown: Set<String> = []
        func text(_ value: JSONValue) -> String { value.stringValue ?? value.serializedString() }
        func add(_ key: String, _ label: String, _ render: (JSONValue) -> [String] = { [text($0)] }) {
            guard let value = object[key] else { return }
            shown.insert(key)
            for (index, line) in render(value).enumerated() { lines.append((index == 0 ? label : "", line)) }
        }
        add("seq", "entry")
        add("time", "time") { value in
            [value.stringValue.flatMap(Timestamp.init(rfc3339:)).map { "\(localTime($0))  (\(value.stringValue ?? ""))" } ?? text(value)]
        }
        add("event", "event")
        add("actor", "actor")
        add("referralId", "referral")
        add("subjectId", "subject")
        add("disclosureId", "disclosure")
        add("recipient", "recipient") { [recipientLabel(text($0), names)] }
        add("service", "service")
        add("lawfulBasis", "lawful basis")
        add("consentId", "consent")
        add("justification", "justification")
        add("pointers", "fields") { value in
            (value.arrayValue ?? []).map { pointer in
                let text = pointer.stringValue ?? pointer.serializedString()
                return "\(fieldNames.name(of: text))  (\(text))"
            }
        }
        add("categories", "categories") { ($0.arrayValue ?? []).map(text) }
        add("reason", "reason")
        add("details", "details")
        for (key, value) in object where !shown.contains(key) && key != "prevHash" && key != "hash" {
            lines.append((key, text(value)))
        }
        add("prevHash", "previous hash")
        add("hash", "hash")
        let width = lines.map(\.0.count).max() ?? 0
        return lines.map { label, value in label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value }
            .joined(separator: "\n")
    }

    /// The CSV export's columns and rows: `LogCSV` (shared with the console's `log.csv`).
    static var csvHeader: [String] { LogCSV.header }

    static func csvRow(_ entry: LogEntry) -> String { LogCSV.row(entry) }

    static func csvField(_ text: String) -> String { LogCSV.field(text) }
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
