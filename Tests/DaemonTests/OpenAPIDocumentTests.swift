import Crypto
import Daemon
import Exchange
import Foundation
import HTTP
import JSON
import TestSupport
import XCTest

/// `schemas/openapi.v1.json` against the router it documents: every route in both, with the same
/// roles; the request schemas it embeds are the schema files; every problem type refex answers
/// with is listed. So the document and the code cannot drift apart.
final class OpenAPIDocumentTests: XCTestCase {
    /// The exchange is never called: the router is only listed.
    private struct UnusedStore: ExchangeStore {
        struct Unused: Error {}
        func write<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result { throw Unused() }
        func read<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result { throw Unused() }
    }

    private func document() throws -> JSONValue {
        try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: "\(ProjectPaths.root)/schemas/openapi.v1.json"))))
    }

    /// `METHOD /path/{param}` → roles, as the router serves them.
    private func routerOperations() -> [String: Set<String>] {
        let exchange = Exchange(store: UnusedStore(), catalog: .empty, keyring: Keyring(masterKey: .random()), recipients: [])
        var operations: [String: Set<String>] = [:]
        for route in Routes.make(exchange: exchange).routes {
            let path = route.pattern.split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            operations["\(route.method.rawValue) \(path)"] = Set(route.handler.roles.map(\.rawValue))
        }
        return operations
    }

    /// `METHOD /path/{param}` → `x-refex-roles`, as the document describes them.
    private func documentedOperations() throws -> [String: Set<String>] {
        guard case .object(let paths)? = try document()["paths"] else {
            XCTFail("schemas/openapi.v1.json has no paths")
            return [:]
        }
        var operations: [String: Set<String>] = [:]
        for (path, item) in paths {
            guard case .object(let methods) = item else { continue }
            for (method, operation) in methods where ["get", "put", "post", "delete", "patch", "head", "options"].contains(method) {
                let roles = operation["x-refex-roles"]?.arrayValue?.compactMap(\.stringValue)
                XCTAssertNotNil(roles, "\(method.uppercased()) \(path) in schemas/openapi.v1.json has no x-refex-roles")
                operations["\(method.uppercased()) \(path)"] = Set(roles ?? [])
            }
        }
        return operations
    }

    func testEveryRouteIsDocumentedAndEveryDocumentedRouteIsServed() throws {
        let served = routerOperations()
        let documented = try documentedOperations()
        XCTAssertGreaterThan(served.count, 15, "the router was not listed: \(served.keys.sorted())")
        let undocumented = Set(served.keys).subtracting(documented.keys).sorted()
        let unserved = Set(documented.keys).subtracting(served.keys).sorted()
        XCTAssertEqual(undocumented, [], "in the router (Sources/Daemon/Routes.swift) but missing from schemas/openapi.v1.json: "
            + undocumented.joined(separator: ", "))
        XCTAssertEqual(unserved, [], "in schemas/openapi.v1.json but missing from the router (Sources/Daemon/Routes.swift): "
            + unserved.joined(separator: ", "))
        for (operation, roles) in served {
            guard let described = documented[operation] else { continue }
            XCTAssertEqual(described, roles, "\(operation): the router needs roles \(roles.sorted()), the document says \(described.sorted())")
        }
    }

    func testEmbeddedRequestSchemasAreTheSchemaFiles() throws {
        let document = try document()
        for (name, file) in [("Referral", "referral.v1.schema.json"), ("Consent", "consent.v1.schema.json"), ("Override", "override.v1.schema.json")] {
            let schema = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: "\(ProjectPaths.root)/schemas/\(file)"))))
            let embedded = try XCTUnwrap(document["components"]?["schemas"]?[name], "components/schemas/\(name) is missing")
            XCTAssertTrue(embedded == Self.embedded(schema, as: name),
                          "components/schemas/\(name) in schemas/openapi.v1.json differs from schemas/\(file) (copy it in again)")
        }
    }

    /// A schema file as the document embeds it: without `$schema` and `$id`, its `$ref`s pointing
    /// into the document.
    static func embedded(_ value: JSONValue, as name: String) -> JSONValue {
        switch value {
        case .object(let object):
            var copy = JSONObject()
            for (key, member) in object where key != "$schema" && key != "$id" {
                if key == "$ref", let ref = member.stringValue {
                    let rewritten = ref.hasPrefix("#/$defs/") ? "#/components/schemas/\(name)/$defs/" + ref.dropFirst("#/$defs/".count)
                        : ref.hasPrefix("urn:refex:schema:referral:1#/$defs/")
                        ? "#/components/schemas/Referral/$defs/" + ref.dropFirst("urn:refex:schema:referral:1#/$defs/".count) : ref
                    copy[key] = .string(rewritten)
                } else {
                    copy[key] = embedded(member, as: name)
                }
            }
            return .object(copy)
        case .array(let items):
            return .array(items.map { embedded($0, as: name) })
        default:
            return value
        }
    }

    func testEveryProblemTypeRefexAnswersWithIsListed() throws {
        let listed = Set((try document()["x-refex-problem-types"]?.objectValue?.keys).map(Array.init) ?? [])
        // Problem types are slugs written in the sources: `slug: "…"` and the HTTP parser's kinds.
        var slugs: Set<String> = []
        let sources = "\(ProjectPaths.root)/Sources"
        let files = FileManager.default.enumerator(atPath: sources)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        let slug = try NSRegularExpression(pattern: #"slug: "([a-z0-9-]+)""#)
        let kind = try NSRegularExpression(pattern: #"case [a-zA-Z]+ = "([a-z0-9-]+)""#)
        for file in files where !file.hasPrefix("Sink/") {
            let text = try String(contentsOfFile: "\(sources)/\(file)", encoding: .utf8)
            let range = NSRange(text.startIndex..., in: text)
            for match in slug.matches(in: text, range: range) {
                if let found = Range(match.range(at: 1), in: text) { slugs.insert(String(text[found])) }
            }
            if file.hasSuffix("HTTPParseError.swift") {
                for match in kind.matches(in: text, range: range) {
                    if let found = Range(match.range(at: 1), in: text) { slugs.insert(String(text[found])) }
                }
            }
        }
        XCTAssertTrue(slugs.contains("validation-failed") && slugs.contains("headers-too-large"), "the sources were not read: \(slugs.sorted())")
        let missing = slugs.map { "urn:refex:problem:\($0)" }.filter { !listed.contains($0) }.sorted()
        XCTAssertEqual(missing, [], "problem types refex answers with but schemas/openapi.v1.json does not list (x-refex-problem-types)")
    }
}
