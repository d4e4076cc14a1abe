import Exchange
import Foundation
import JSON
import Services
import Store

/// `refex outbox list [--state pending|failed] [--json]` and `refex outbox retry ID`.
enum OutboxCommand {
    static let usage = """
    usage: refex outbox list [--state pending|failed] [--limit N] [--json] [--config FILE | --store PATH]
           refex outbox retry ID [--config FILE | --store PATH]
    """

    static func run(_ arguments: [String]) -> Int32 {
        guard let subcommand = arguments.first, subcommand == "list" || subcommand == "retry" else {
            printError(usage)
            return 2
        }
        guard let options = HostOptions.parse(Array(arguments.dropFirst()), command: "outbox \(subcommand)", valued: ["--state", "--limit"]) else {
            return 2
        }
        guard let host = HostContext.open(options, command: "outbox \(subcommand)") else { return 1 }
        defer { host.store.close() }
        let exchange = host.exchange
        do {
            if subcommand == "retry" {
                guard options.positional.count == 1 else {
                    printError("refex outbox retry: give one outbox item id\n\(usage)")
                    return 2
                }
                let id = options.positional[0]
                let item = try runAsync { try await exchange.retry(id, by: Actor(id: "operator:\(NSUserName())", isAdmin: true)) }
                print("\(item.id): queued again for \(item.recipientID)")
                return 0
            }
            var state: OutboxItem.State?
            if let text = options.values["--state"] {
                guard let parsed = OutboxItem.State(rawValue: text) else {
                    printError("refex outbox list: --state is pending or failed")
                    return 2
                }
                state = parsed
            }
            let limit = options.values["--limit"].flatMap(Int.init) ?? 1000
            let chosen = state
            let items = try runAsync { try await exchange.outbox(state: chosen, limit: limit) }
            if options.json {
                for item in items { print(json(item).serializedString()) }
            } else {
                let rows = items.map { item in
                    [item.id, item.kind.rawValue, item.recipientID, item.mode.rawValue, item.state.rawValue, String(item.attempts),
                     localTime(item.enqueuedAt), item.state == .pending ? localTime(item.nextAttemptAt) : "-", shorten(item.lastError ?? "-", 60)]
                }
                print(Table.render(header: ["ID", "TYPE", "RECIPIENT", "MODE", "STATE", "ATTEMPTS", "ENQUEUED", "NEXT", "LAST ERROR"], rows: rows))
            }
            return 0
        } catch let error as ExchangeError {
            printError("refex outbox \(subcommand): \(error.message)")
            return 1
        } catch {
            printError("refex outbox \(subcommand): \(error)")
            return 1
        }
    }

    static func json(_ item: OutboxItem) -> JSONValue {
        [
            "id": .string(item.id), "type": .string(item.kind.rawValue), "disclosureId": .string(item.disclosureID),
            "recipient": .string(item.recipientID), "mode": .string(item.mode.rawValue), "state": .string(item.state.rawValue),
            "attempts": .number(JSONNumber(item.attempts)), "enqueuedAt": .string(item.enqueuedAt.description),
            "nextAttemptAt": .string(item.nextAttemptAt.description), "lastError": item.lastError.map { .string($0) } ?? .null,
        ]
    }
}

/// Aligned columns for people.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = Array(repeating: 0, count: header.count)
        for row in all { for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) } }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + (rows.isEmpty ? "\n(none)" : "")
    }
}

/// Local time with its offset, e.g. `2026-11-29 07:16:37 +0000`.
func localTime(_ timestamp: Timestamp) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_GB_POSIX")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss Z"
    return formatter.string(from: timestamp.date)
}

func shorten(_ text: String, _ length: Int) -> String {
    text.count <= length ? text : String(text.prefix(length - 1)) + "…"
}
