import Exchange
import Foundation
import JSON
import Services
import Store

/// `refex consent list --subject ID | --referral ID`: the consents recorded (what for, for whom,
/// how, until when, withdrawn); no personal data (who obtained it and notes stay sealed).
enum ConsentCommand {
    static let usage = "usage: refex consent list (--subject ID | --referral ID) [--json] [--config FILE | --store PATH]"

    static func run(_ arguments: [String]) -> Int32 {
        guard arguments.first == "list",
              let options = HostOptions.parse(Array(arguments.dropFirst()), command: "consent list", valued: ["--subject", "--referral"]),
              (options.values["--subject"] == nil) != (options.values["--referral"] == nil) else {
            printError(usage)
            return 2
        }
        guard let host = HostContext.open(options, command: "consent list") else { return 1 }
        defer { host.store.close() }
        let exchange = host.exchange
        do {
            // Whole ids or unique prefixes: an id that names nothing is an error, not "(none)".
            let subject = try options.values["--subject"].map { id in try runAsync { try await exchange.resolveStoredID(id, .subject) } }
            let referral = try options.values["--referral"].map { id in try runAsync { try await exchange.resolveStoredID(id, .referral) } }
            let consents = try runAsync { try await exchange.consents(subjectID: subject, referralID: referral) }
            let referrals = try runAsync { try await exchange.shortIDs(Set(consents.map(\.referralID)), .referral) }
            if options.json {
                for consent in consents { print(json(consent).serializedString()) }
            } else {
                print(Table.render(
                    header: ["ID", "REFERRAL", "PURPOSES", "RECIPIENTS", "METHOD", "OBTAINED", "EXPIRES", "WITHDRAWN"],
                    rows: consents.map { consent in
                        [consent.id, referrals[consent.referralID] ?? consent.referralID, consent.purposes.joined(separator: ","),
                         consent.recipients?.joined(separator: ",") ?? "any", consent.method, localTime(consent.obtainedAt),
                         consent.expiresAt.map(localTime) ?? "-", consent.withdrawnAt.map(localTime) ?? "-"]
                    }
                ))
            }
            return 0
        } catch let error as FilterError {
            printError("refex consent list: --\(error.parameter): \(error.description)")
            return 2
        } catch {
            printError("refex consent list: \(error)")
            return 1
        }
    }

    static func json(_ consent: ConsentRecord) -> JSONValue {
        [
            "id": .string(consent.id), "subjectId": .string(consent.subjectID), "referralId": .string(consent.referralID),
            "partner": .string(consent.partnerID), "purposes": .array(consent.purposes.map { .string($0) }),
            "recipients": consent.recipients.map { .array($0.map { .string($0) }) } ?? .null, "method": .string(consent.method),
            "obtainedAt": .string(consent.obtainedAt.description), "expiresAt": consent.expiresAt.map { .string($0.description) } ?? .null,
            "withdrawnAt": consent.withdrawnAt.map { .string($0.description) } ?? .null,
        ]
    }
}
