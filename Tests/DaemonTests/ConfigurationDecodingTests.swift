import Exchange
import Foundation
import HTTP
import JSON
import Logging
import Server
import TestSupport
import XCTest
@testable import Daemon

/// Decoding a config document, without reading any config, key or certificate file: the config
/// schema (the repository's `schemas/`) owns keys, types and ranges, and each section's type
/// reads its section. Every problem names its setting and never quotes the value.
final class ConfigurationDecodingTests: XCTestCase {
    private static let catalog = Result { try SchemaCatalog(folder: "\(ProjectPaths.root)/schemas") }

    private func schema() throws -> ConfigurationSchema {
        try XCTUnwrap(ConfigurationSchema(catalog: try Self.catalog.get()))
    }

    /// The least a config must say, with `changes` merged over it.
    private func document(_ changes: [String: JSONValue] = [:]) -> JSONObject {
        var document: JSONObject = [
            "listen": "127.0.0.1:8443", "ops": "127.0.0.1:9090",
            "tls": ["certificate": "server.crt", "privateKey": "/keys/server.key", "clientCA": "ca.crt"],
            "store": ["path": "state/refex.db"], "masterKey": "master.key",
            "partners": [["id": "police", "name": "Police", "roles": ["refer"], "certificates": [["sha256": .string(String(repeating: "ab", count: 32))]]]],
        ]
        for (key, value) in changes { document[key] = value }
        return document
    }

    private func decode(_ document: JSONObject) throws -> (configuration: Configuration?, problems: [String]) {
        var problems = ConfigurationProblems()
        let configuration = Configuration(document: .object(document), path: "/etc/refex/refex.json", schema: try schema(), &problems)
        return (configuration, problems.lines)
    }

    /// The one problem `document` has, which must start with `prefix` (the setting and what is wrong).
    private func assertRefused(_ document: JSONObject, _ prefix: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (configuration, problems) = try decode(document)
        XCTAssertEqual(problems.count, 1, "\(problems)", file: file, line: line)
        XCTAssertTrue(problems.first?.hasPrefix(prefix) ?? false, "expected '\(prefix)…', got \(problems)", file: file, line: line)
        _ = configuration
    }

    private func assertAccepted(_ document: JSONObject, file: StaticString = #filePath, line: UInt = #line) throws -> Configuration? {
        let (configuration, problems) = try decode(document)
        XCTAssertEqual(problems, [], file: file, line: line)
        XCTAssertNotNil(configuration, file: file, line: line)
        return configuration
    }

    // MARK: The least config, and its defaults

    func testTheLeastConfigDecodesWithTheDocumentedDefaults() throws {
        let configuration = try XCTUnwrap(try assertAccepted(document()))
        XCTAssertEqual(configuration.listen, ListenAddress(host: "127.0.0.1", port: 8443))
        XCTAssertEqual(configuration.ops, ListenAddress(host: "127.0.0.1", port: 9090))
        XCTAssertEqual(configuration.tls, .init(certificate: "/etc/refex/server.crt", privateKey: "/keys/server.key", clientCA: "/etc/refex/ca.crt", crl: nil))
        XCTAssertEqual(configuration.store, .init(path: "/etc/refex/state/refex.db", keysPath: "/etc/refex/state/refex-keys.db"))
        XCTAssertEqual(configuration.masterKey, "/etc/refex/master.key")
        XCTAssertEqual(configuration.schemas, ConfigurationLoader.defaultSchemas)
        XCTAssertEqual(configuration.logLevel, .info)
        XCTAssertEqual(configuration.server.parserLimits.maxBodyBytes, ServerConfiguration().parserLimits.maxBodyBytes)
        XCTAssertEqual(configuration.server.idleTimeout, ServerConfiguration().idleTimeout)
        XCTAssertNil(configuration.delivery)
        XCTAssertEqual(configuration.log, Configuration.LogSettings())
        XCTAssertEqual(configuration.log.checkpointEveryEntries, 1000)
        XCTAssertEqual(configuration.retention, Configuration.RetentionSettings())
        XCTAssertNil(configuration.retention.logDays)
        XCTAssertEqual(configuration.partners.map(\.id), ["police"])
        XCTAssertEqual(configuration.partners.first?.certificates, [.fingerprint(String(repeating: "ab", count: 32))])
        XCTAssertEqual(configuration.recipients, [])
    }

    func testDeliveryLogAndRetentionSectionsAreRead() throws {
        let configuration = try XCTUnwrap(try assertAccepted(document([
            "delivery": ["clientCertificate": "client.crt", "clientKey": "/k/client.key", "concurrency": 7, "pollIntervalMilliseconds": 40],
            "log": ["signingKey": "log.key", "checkpointEverySeconds": 9],
            "retention": ["referralsDays": 30, "logDays": 30],
            "schemas": "schemas", "logLevel": "debug", "store": ["path": "/s/r.db", "keysPath": "/s/k.db"],
        ])))
        let delivery = try XCTUnwrap(configuration.delivery)
        XCTAssertEqual(delivery.clientCertificate, "/etc/refex/client.crt")
        XCTAssertEqual(delivery.clientKey, "/k/client.key")
        XCTAssertEqual(delivery.concurrency, 7)
        XCTAssertEqual(delivery.pollIntervalMilliseconds, 40)
        XCTAssertEqual(delivery.timeoutSeconds, 30)
        XCTAssertEqual(configuration.log.signingKey, "/etc/refex/log.key")
        XCTAssertEqual(configuration.log.checkpointEverySeconds, 9)
        XCTAssertEqual(configuration.retention.referralsDays, 30)
        XCTAssertNil(configuration.retention.consentsDays)
        XCTAssertEqual(configuration.schemas, "/etc/refex/schemas")
        XCTAssertEqual(configuration.logLevel, .debug)
        XCTAssertEqual(configuration.store, .init(path: "/s/r.db", keysPath: "/s/k.db"))
    }

    func testTheConsoleTimeZoneIsAnIANANameTheSystemKnows() throws {
        XCTAssertEqual(try XCTUnwrap(try assertAccepted(document())).console.timeZone, "Europe/London", "the default")
        let configured = try XCTUnwrap(try assertAccepted(document(["console": ["timeZone": "America/New_York", "controllerName": "Example Hub"]])))
        XCTAssertEqual(configured.console.timeZone, "America/New_York")
        XCTAssertEqual(configured.console.controllerName, "Example Hub")
        XCTAssertEqual(try XCTUnwrap(try assertAccepted(document(["console": ["timeZone": "UTC"]]))).console.timeZone, "UTC")
        try assertRefused(document(["console": ["timeZone": "Europe/Atlantis"]]), "console.timeZone: must be an IANA time-zone name this system knows")
        for shape in ["../../etc/passwd", "Europe/London ", "", "+01:00", "Europe//London"] {
            try assertRefused(document(["console": ["timeZone": .string(shape)]]), "console.timeZone: must be an IANA time-zone name")
        }
        try assertRefused(document(["console": ["timezone": "UTC"]]), "console.timezone: unknown key (known: controllerName, timeZone)")
    }

    // MARK: Ranges: each bound and its neighbours

    /// Every whole-number setting, its range, and where its value lands.
    private let ranges: [(setting: String, low: Int64, high: Int64, value: (Configuration) -> Int64?)] = [
        ("limits.maxBodyBytes", 1, 67_108_864, { Int64($0.server.parserLimits.maxBodyBytes) }),
        ("limits.maxHeaderBytes", 1024, 1_048_576, { Int64($0.server.parserLimits.maxHeaderBytes) }),
        ("limits.maxHeaderCount", 8, 1000, { Int64($0.server.parserLimits.maxHeaderCount) }),
        ("limits.maxTargetBytes", 256, 65_536, { Int64($0.server.parserLimits.maxTargetBytes) }),
        ("limits.maxConnections", 1, 1_000_000, { Int64($0.server.maxConnections) }),
        ("limits.maxConnectionsPerPartner", 1, 1_000_000, { Int64($0.server.maxConnectionsPerPartner) }),
        ("limits.maxHandshakes", 1, 1_000_000, { Int64($0.server.maxHandshakes) }),
        ("limits.maxHandshakesPerAddress", 1, 1_000_000, { Int64($0.server.maxHandshakesPerAddress) }),
        ("limits.eventLoops", 0, 256, { Int64($0.server.eventLoops) }),
        ("limits.handshakeTimeoutSeconds", 1, 86_400, { $0.server.handshakeTimeout.components.seconds }),
        ("limits.headerTimeoutSeconds", 1, 86_400, { $0.server.headerTimeout.components.seconds }),
        ("limits.bodyTimeoutSeconds", 1, 86_400, { $0.server.bodyTimeout.components.seconds }),
        ("limits.idleTimeoutSeconds", 1, 86_400, { $0.server.idleTimeout.components.seconds }),
        ("limits.writeTimeoutSeconds", 1, 86_400, { $0.server.writeTimeout.components.seconds }),
        ("limits.drainTimeoutSeconds", 1, 86_400, { $0.server.drainTimeout.components.seconds }),
        ("delivery.connectTimeoutSeconds", 1, 86_400, { $0.delivery?.connectTimeoutSeconds }),
        ("delivery.timeoutSeconds", 1, 86_400, { $0.delivery?.timeoutSeconds }),
        ("delivery.maxAgeSeconds", 1, 31_536_000, { $0.delivery?.maxAgeSeconds }),
        ("delivery.backoffBaseMilliseconds", 10, 600_000, { $0.delivery?.backoffBaseMilliseconds }),
        ("delivery.backoffMaxSeconds", 1, 86_400, { $0.delivery?.backoffMaxSeconds }),
        ("delivery.concurrency", 1, 64, { $0.delivery?.concurrency }),
        ("delivery.circuitFailures", 1, 1000, { $0.delivery?.circuitFailures }),
        ("delivery.circuitOpenSeconds", 1, 86_400, { $0.delivery?.circuitOpenSeconds }),
        ("delivery.pollIntervalMilliseconds", 10, 60_000, { $0.delivery?.pollIntervalMilliseconds }),
        ("log.checkpointEveryEntries", 1, 10_000_000, { $0.log.checkpointEveryEntries }),
        ("log.checkpointEverySeconds", 1, 86_400, { $0.log.checkpointEverySeconds }),
        ("retention.referralsDays", 1, 36_500, { $0.retention.referralsDays }),
        ("retention.consentsDays", 1, 36_500, { $0.retention.consentsDays }),
        ("retention.logDays", 1, 36_500, { $0.retention.logDays }),
        ("retention.runEveryMinutes", 1, 10_080, { $0.retention.runEveryMinutes }),
    ]

    private func document(setting: String, _ value: JSONValue) -> JSONObject {
        let parts = setting.split(separator: ".").map(String.init)
        var section: JSONObject = parts[0] == "delivery" ? ["clientCertificate": "c.crt", "clientKey": "c.key"] : [:]
        section[parts[1]] = value
        return document([parts[0]: .object(section)])
    }

    func testEachRangeAcceptsItsBoundsAndRefusesTheirNeighbours() throws {
        for range in ranges {
            for accepted in [range.low, range.low + 1, range.high - 1, range.high] {
                let configuration = try assertAccepted(document(setting: range.setting, .number(JSONNumber(accepted))))
                XCTAssertEqual(configuration.flatMap(range.value), accepted, range.setting)
            }
            for refused in [range.low - 1, range.high + 1] {
                try assertRefused(document(setting: range.setting, .number(JSONNumber(refused))),
                                  "\(range.setting): must be between \(range.low) and \(range.high)")
            }
            try assertRefused(document(setting: range.setting, "5"), "\(range.setting): must be integer")
            try assertRefused(document(setting: range.setting, .number(JSONNumber(1.5))), "\(range.setting): must be integer")
        }
    }

    func testTheRangeTableCoversEveryWholeNumberTheSchemaHolds() throws {
        let catalog = try Self.catalog.get()
        let documents = SchemaDocuments(catalog: catalog)
        var settings: [String] = []
        let root = try XCTUnwrap(catalog.document(ConfigurationSchema.id))
        for (section, value) in root["properties"]?.objectValue ?? [:] {
            for (key, member) in value["properties"]?.objectValue ?? [:] {
                var node = member
                if let reference = member["$ref"]?.stringValue, let target = documents.resolve(reference, from: ConfigurationSchema.id) {
                    node = target.value
                }
                if node["type"]?.stringValue == "integer" { settings.append("\(section).\(key)") }
            }
        }
        XCTAssertEqual(Set(settings), Set(ranges.map(\.setting)))
    }

    func testRetentionKeepsTheLogAtLeastAsLongAsWhatItAccountsFor() throws {
        try assertRefused(document(["retention": ["referralsDays": 31, "logDays": 30]]), "retention.logDays: must be at least as long")
        try assertRefused(document(["retention": ["consentsDays": 31, "logDays": 30]]), "retention.logDays: must be at least as long")
        _ = try assertAccepted(document(["retention": ["referralsDays": 30, "consentsDays": 30, "logDays": 30]]))
        _ = try assertAccepted(document(["retention": ["referralsDays": 31]]))
    }

    // MARK: Keys: unknown, missing, wrong type

    func testAnUnknownKeyIsNamedWithTheKeysTheSchemaKnowsThere() throws {
        try assertRefused(document(["colour": "blue"]), "colour: unknown key (known: $schema, console, delivery, limits, listen")
        for section in ["tls", "store", "limits", "log", "retention"] {
            var changed = document()
            var object = changed[section]?.objectValue ?? [:]
            object["colour"] = "blue"
            changed[section] = .object(object)
            try assertRefused(changed, "\(section).colour: unknown key (known: ")
        }
        try assertRefused(document(["delivery": ["clientCertificate": "c", "clientKey": "k", "retries": 3]]),
                          "delivery.retries: unknown key (known: backoffBaseMilliseconds")
    }

    func testAMissingSettingIsNamed() throws {
        for key in ["listen", "ops", "tls", "store", "masterKey", "partners"] {
            var changed = document()
            changed[key] = nil
            let (configuration, problems) = try decode(changed)
            XCTAssertEqual(problems, ["\(key): missing"])
            if key != "partners" { XCTAssertNil(configuration, key) }
        }
        try assertRefused(document(["tls": ["certificate": "a", "privateKey": "b"]]), "tls.clientCA: missing")
        try assertRefused(document(["store": ["keysPath": "k.db"]]), "store.path: missing")
        try assertRefused(document(["delivery": ["clientCertificate": "c"]]), "delivery.clientKey: missing")
    }

    func testAValueOfTheWrongTypeIsNamedAndNeverQuoted() throws {
        let secret = "s3cret-Value-0123"
        for (key, value) in [("listen", JSONValue.number(JSONNumber(5))), ("logLevel", .string(secret)), ("masterKey", .array([.string(secret)])),
                             ("tls", .string(secret)), ("partners", .string(secret)), ("listen", .string(secret))] {
            let (configuration, problems) = try decode(document([key: value]))
            XCTAssertNil(key == "logLevel" || key == "partners" ? nil : configuration, key)
            XCTAssertEqual(problems.count, 1, "\(key): \(problems)")
            XCTAssertTrue(problems.first?.hasPrefix("\(key): ") ?? false, "\(problems)")
            XCTAssertFalse(problems.joined().contains(secret), "a problem quoted the value: \(problems)")
        }
        try assertRefused(document(["logLevel": "verbose"]), "logLevel: must be one of the 6 allowed values")
        try assertRefused(document(["tls": ["certificate": "", "privateKey": "b", "clientCA": "c"]]), "tls.certificate: must name a file")
        let (_, problems) = try decode(.init([("listen", "127.0.0.1:1")]))
        XCTAssertEqual(problems.sorted(), ["masterKey: missing", "ops: missing", "partners: missing", "store: missing", "tls: missing"])
    }

    func testADocumentThatIsNotAnObjectIsOneProblem() throws {
        var problems = ConfigurationProblems()
        XCTAssertNil(Configuration(document: [1, 2], path: "/x/refex.json", schema: try schema(), &problems))
        XCTAssertEqual(problems.lines.count, 1, "\(problems.lines)")
        var unchecked = ConfigurationProblems()
        XCTAssertNil(Configuration(document: "text", path: "/x/refex.json", schema: nil, &unchecked))
        XCTAssertEqual(unchecked.lines, ["the config must be a JSON object, not string"])
    }

    // MARK: Listeners

    func testListenersTakeHostAndPort() throws {
        for (text, host, port) in [("127.0.0.1:0", "127.0.0.1", UInt16(0)), ("[::1]:65535", "::1", 65535), ("localhost:1", "localhost", 1)] {
            XCTAssertEqual(try assertAccepted(document(["ops": .string(text)]))?.ops, ListenAddress(host: host, port: port))
        }
        try assertRefused(document(["listen": "127.0.0.1:65536"]), "listen: the port must be a number from 0 to 65535")
        try assertRefused(document(["listen": "127.0.0.1"]), "listen: must be HOST:PORT")
        try assertRefused(document(["listen": "example.org:443"]), "listen: must be HOST:PORT")
        try assertRefused(document(["listen": "1.2.3:443"]), "listen: the host must be an IP address")
        try assertRefused(document(["listen": "[::1:443"]), "listen: must be HOST:PORT")
        try assertRefused(document(["ops": "0.0.0.0:9090"]), "ops: must be a loopback address")
        try assertRefused(document(["ops": "[::]:9090"]), "ops: must be a loopback address")
        _ = try assertAccepted(document(["listen": "0.0.0.0:443", "ops": "127.0.0.2:9090"]))
    }

    // MARK: Partners

    private func partner(_ changes: [String: JSONValue]) -> JSONObject {
        var partner: JSONObject = ["id": "agency", "name": "Agency", "roles": ["refer"], "certificates": [["sha256": .string(String(repeating: "cd", count: 32))]]]
        for (key, value) in changes { partner[key] = value }
        return document(["partners": [.object(partner)]])
    }

    func testPartnerIdentifiersAreRestricted() throws {
        _ = try assertAccepted(partner(["id": .string("a" + String(repeating: "-", count: 63))]))
        _ = try assertAccepted(partner(["id": "0"]))
        for id in ["", "-b", "Partner", "a_b", "a" + String(repeating: "b", count: 64)] {
            try assertRefused(partner(["id": .string(id)]), "partners[0].id: must be 1-64 characters")
        }
    }

    func testPartnerRolesNamesAndCertificates() throws {
        try assertRefused(partner(["roles": ["refer", "superuser"]]), "partners[0].roles[1]: must be one of the 4 allowed values")
        try assertRefused(partner(["roles": []]), "partners[0].roles: must name at least one role")
        try assertRefused(partner(["roles": ["refer", "refer"]]), "partners[0].roles: must name at least one role, each once")
        try assertRefused(partner(["name": ""]), "partners[0].name: must be 1 to 200 characters")
        _ = try assertAccepted(partner(["name": .string(String(repeating: "n", count: 200))]))
        try assertRefused(partner(["name": .string(String(repeating: "n", count: 201))]), "partners[0].name: must be 1 to 200 characters")
        try assertRefused(partner(["certificates": []]), "partners[0].certificates: must list at least one certificate")
        try assertRefused(partner(["certificates": [["sha256": "12:34"]]]), "partners[0].certificates[0].sha256: is not a SHA-256 fingerprint")
        let colons = (0..<32).map { _ in "AB" }.joined(separator: ":")
        XCTAssertEqual(try assertAccepted(partner(["certificates": [["sha256": .string(colons)]]]))?.partners[0].certificates,
                       [.fingerprint(String(repeating: "ab", count: 32))])
        try assertRefused(partner(["certificates": [["sha256": .string(colons + "A")]]]), "partners[0].certificates[0].sha256: is not a SHA-256")
        try assertRefused(partner(["certificates": [["sha256": .string(colons), "subject": "CN=a", "issuer": "CN=b"]]]),
                          "partners[0].certificates[0]: give either sha256, or subject and issuer, not both")
        // Half of a subject mapping beside a fingerprint is not a narrower match: it is refused, not ignored.
        try assertRefused(partner(["certificates": [["sha256": .string(colons), "subject": "CN=a"]]]),
                          "partners[0].certificates[0]: give either sha256, or subject and issuer, not both")
        try assertRefused(partner(["certificates": [["sha256": .string(colons), "issuer": "CN=b"]]]),
                          "partners[0].certificates[0]: give either sha256, or subject and issuer, not both")
        try assertRefused(partner(["certificates": [["subject": "CN=a"]]]), "partners[0].certificates[0]: give either sha256, or subject and issuer")
        try assertRefused(partner(["certificates": [[:]]]), "partners[0].certificates[0]: give either sha256, or subject and issuer")
        try assertRefused(partner(["certificates": [["sha256": .string(colons), "serial": "01"]]]),
                          "partners[0].certificates[0].serial: unknown key (known: issuer, sha256, subject)")
        try assertRefused(partner(["certificates": [["subject": "CN=a,,", "issuer": "CN=Root"]]]),
                          "partners[0].certificates[0].subject: is not an RFC 4514 distinguished name")
        let named = try assertAccepted(partner(["certificates": [["subject": "CN=a,O=x", "issuer": "CN=Root"]]]))
        guard case .subjectAndIssuer(_, _, let issuerCertificate)? = named?.partners[0].certificates.first else { return XCTFail("not a subject mapping") }
        XCTAssertNil(issuerCertificate, "bound to its CA only once the CA bundle is read")
    }

    func testAPartnerOrACertificateListedTwiceIsNamed() throws {
        let hex = String(repeating: "ab", count: 32)
        var twice = document()
        twice["partners"] = [
            ["id": "police", "name": "P", "roles": ["refer"], "certificates": [["sha256": .string(hex)]]],
            ["id": "police", "name": "Q", "roles": ["admin"], "certificates": [["sha256": .string(String(repeating: "cd", count: 32))]]],
            ["id": "other", "name": "O", "roles": ["admin"], "certificates": [["sha256": .string(hex.uppercased())]]],
        ]
        let (_, problems) = try decode(twice)
        XCTAssertEqual(problems, [
            "partners[1].id: partner police is listed twice",
            "partners[2].certificates[0]: the same certificate is already mapped to partner police",
        ])
    }

    // MARK: Recipients

    private func recipients(_ items: [JSONObject], partners: [JSONValue]? = nil) -> JSONObject {
        var changed = document(["recipients": .array(items.map { .object($0) })])
        if let partners { changed["partners"] = .array(partners) }
        return changed
    }

    private func recipient(_ changes: [String: JSONValue] = [:], id: String = "support",
                           delivery: JSONValue = ["mode": "push", "endpoint": "https://support.example/in", "ca": "support-ca.crt"]) -> JSONObject {
        var recipient: JSONObject = ["id": .string(id), "name": "Support", "services": ["fraud"], "fields": ["/referenceId"], "delivery": delivery]
        for (key, value) in changes { recipient[key] = value }
        return recipient
    }

    func testRecipientsAreRead() throws {
        let configuration = try assertAccepted(recipients(
            [recipient(), recipient(["categories": ["health"], "fields": ["/subject/*/x~1y"]], id: "mailbox", delivery: ["mode": "pull", "partner": "sink"])],
            partners: [["id": "sink", "name": "Sink", "roles": ["receive"], "certificates": [["sha256": .string(String(repeating: "ef", count: 32))]]]]
        ))
        XCTAssertEqual(configuration?.recipients, [
            Recipient(id: "support", name: "Support", services: ["fraud"], fields: ["/referenceId"], categories: [],
                      delivery: .push(endpoint: "https://support.example/in", caPath: "/etc/refex/support-ca.crt")),
            Recipient(id: "mailbox", name: "Support", services: ["fraud"], fields: ["/subject/*/x~1y"], categories: ["health"],
                      delivery: .pull(partnerID: "sink")),
        ])
    }

    func testEachRecipientProblemIsNamedOnce() throws {
        try assertRefused(recipients([recipient(delivery: ["mode": "carrier-pigeon"])]), "recipients[0].delivery.mode: must be push or pull")
        XCTAssertTrue(try decode(recipients([recipient(delivery: ["endpoint": "https://x.example/"])])).problems
            .contains("recipients[0].delivery.mode: missing"))
        try assertRefused(recipients([recipient(delivery: ["mode": "push", "endpoint": "http://x.example/", "ca": "c"])]),
                          "recipients[0].delivery.endpoint: must be an https:// URL")
        try assertRefused(recipients([recipient(delivery: ["mode": "push", "endpoint": "https://", "ca": "c"])]),
                          "recipients[0].delivery.endpoint: must be an https:// URL")
        try assertRefused(recipients([recipient(delivery: ["mode": "push", "endpoint": "https://x.example/"])]), "recipients[0].delivery.ca: missing")
        try assertRefused(recipients([recipient(delivery: ["mode": "pull"])]), "recipients[0].delivery.partner: missing")
        try assertRefused(recipients([recipient(delivery: ["mode": "pull", "partner": "nobody"])]), "recipients[0].delivery.partner: there is no partner nobody")
        try assertRefused(recipients([recipient(delivery: ["mode": "pull", "partner": "police"])]),
                          "recipients[0].delivery.partner: partner police needs the receive role")
        try assertRefused(recipients([recipient(), recipient()]), "recipients[1].id: recipient support is listed twice")
        try assertRefused(recipients([recipient(["services": ["fraud", "parking"]])]), "recipients[0].services[1]: must be one of the 8 allowed values")
        try assertRefused(recipients([recipient(["services": []])]), "recipients[0].services: must name at least one service")
        try assertRefused(recipients([recipient(["fields": []])]), "recipients[0].fields: must list at least one JSON Pointer")
        for pointer in ["subject", "", "/a~2", "/a~"] {
            try assertRefused(recipients([recipient(["fields": ["/referenceId", .string(pointer)]])]),
                              "recipients[0].fields[1]: is not a JSON Pointer (RFC 6901)")
        }
        try assertRefused(recipients([recipient(["categories": [""]])]), "recipients[0].categories[0]: must be a category's name")
        var unlisted = recipient()
        unlisted["fields"] = nil
        try assertRefused(recipients([unlisted]), "recipients[0].fields: missing")
        try assertRefused(recipients([recipient(["fields": nil])]), "recipients[0].fields: must list at least one JSON Pointer")
    }

    func testProblemsInSeveralRecipientsEachNameTheirOwnIndex() throws {
        let (_, problems) = try decode(recipients([
            recipient(id: "a", delivery: ["mode": "fax"]), recipient(id: "b", delivery: ["mode": "pull"]), recipient(id: "c", delivery: ["mode": "pull", "partner": "nobody"]),
        ]))
        XCTAssertEqual(problems.sorted(), [
            "recipients[0].delivery.mode: must be push or pull", "recipients[1].delivery.partner: missing",
            "recipients[2].delivery.partner: there is no partner nobody",
        ])
    }
}
