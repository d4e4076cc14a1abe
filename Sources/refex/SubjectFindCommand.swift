import Daemon
import Exchange
import Foundation
import JSON
import Services
import Store

/// `refex subject find`: the subject a subject access request is about, by what the request names
/// (the partner's reference, the crime reference, or the name with the date of birth), through the
/// keyed blind indexes. Every search is logged (`subject.searched`: the kinds of key, never the values).
enum SubjectFindCommand {
    static let usage = """
    usage: refex subject find [--reference REF [--partner ID]] [--crime-reference REF]
                              [--family NAME --dob YYYY-MM-DD [--given NAME]] [--json] [--config FILE]
    finds subjects by any of the keys given (each match says which matched); references ignore case and
    spaces, names ignore case, accents, spaces and punctuation; erased subjects are not found
    exit status: 0 searched (even with no match); 1 failed; 2 a usage error or a search that cannot run
    """

    static let options: [(option: String, parameter: String)] = [
        ("--reference", "reference"), ("--partner", "partner"), ("--crime-reference", "crimeReference"),
        ("--given", "given"), ("--family", "family"), ("--dob", "dateOfBirth"),
    ]

    static func run(_ arguments: [String]) -> Int32 {
        guard let parsed = HostOptions.parse(arguments, command: "subject find", valued: Set(options.map(\.option))) else {
            printError(usage)
            return 2
        }
        guard parsed.positional.isEmpty else {
            printError("refex subject find: takes options only\n\(usage)")
            return 2
        }
        guard parsed.storePath == nil else {
            printError("refex subject find: needs --config (the master key keys the indexes), not --store")
            return 2
        }
        var search = SubjectSearch()
        search.reference = parsed.values["--reference"]
        search.partner = parsed.values["--partner"]
        search.crimeReference = parsed.values["--crime-reference"]
        search.givenName = parsed.values["--given"]
        search.familyName = parsed.values["--family"]
        search.dateOfBirth = parsed.values["--dob"]
        guard let host = HostContext.open(parsed, command: "subject find") else { return 1 }
        defer { host.store.close() }
        let exchange = host.exchange
        let partners = host.loaded?.configuration.partners.map(\.id) ?? []
        let actor = hostActor()
        let query = search
        do {
            let matches = try runAsync { try await exchange.findSubjects(query, knownPartners: partners, by: actor) }
            if parsed.json {
                for match in matches { print(Rendering.json(match).serializedString()) }
                return 0
            }
            print(Table.render(
                header: ["SUBJECT", "MATCHED BY", "CREATED", "RESTRICTED", "REFERRALS"],
                rows: matches.map { match in
                    [match.subjectID, match.matchedBy.map(\.rawValue).joined(separator: ","), localTime(match.createdAt),
                     match.restricted ? "yes" : "no",
                     match.referrals.map { "\($0.id) (\($0.partner), \(localTime($0.receivedAt)))" }.joined(separator: "; ")]
                }
            ))
            if matches.isEmpty {
                print("no subject held matches (an erased subject cannot be found: its indexes went with it)")
            }
            return 0
        } catch let error as FilterError {
            let option = options.first { $0.parameter == error.parameter }?.option ?? "search"
            printError("refex subject find: \(option): \(error.description)")
            return 2
        } catch let error as ExchangeError {
            printError("refex subject find: \(error.message)")
            return 1
        } catch {
            printError("refex subject find: \(error)")
            return 1
        }
    }
}
