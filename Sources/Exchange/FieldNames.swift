import Foundation
import JSON

/// Names for the JSON Pointers a disclosure carries, for people: each step named by the referral
/// schema's `title` (the property's, else the definition it refers to), else its member name in
/// words (`dateOfBirth` → "Date of birth"), array items by number from 1. So
/// `/subject/name/given` reads "Subject › Name › Given name".
package struct FieldNames: Sendable {
    /// The referral schemas, newest version first.
    private let schemas: [JSONValue]

    /// Reads the referral schemas (`$id` starting `urn:refex:schema:referral:`) in `folder`; files
    /// that cannot be read are skipped (the names then fall back to words).
    package init(folder: String) {
        var found: [(String, JSONValue)] = []
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names where name.hasSuffix(".json") {
            guard let data = FileManager.default.contents(atPath: "\(folder)/\(name)"), data.count < 4 << 20,
                  let document = try? JSONValue.parse(Array(data)),
                  let id = document["$id"]?.stringValue, id.hasPrefix("urn:refex:schema:referral:") else { continue }
            found.append((id, document))
        }
        schemas = found.sorted { $0.0 > $1.0 }.map(\.1)
    }

    /// No schemas: names in words only.
    package init() { schemas = [] }

    /// The name of the field at `pointer` (RFC 6901 text).
    package func name(of pointer: String) -> String {
        let tokens = pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
        guard !tokens.isEmpty else { return "the whole referral" }
        var best: (names: [String], titled: Int) = (tokens.map(Self.words), 0)
        for schema in schemas {
            let walked = Self.walk(tokens, schema: schema)
            if walked.titled > best.titled { best = walked }
            if walked.titled == tokens.count { break }
        }
        return best.names.joined(separator: " › ")
    }

    /// The name of each step, and how many steps the schema knew.
    private static func walk(_ tokens: [String], schema: JSONValue) -> (names: [String], titled: Int) {
        var node: JSONValue? = schema
        var names: [String] = []
        var titled = 0
        for token in tokens {
            let here = node.map { resolved($0, in: schema) }
            var child: JSONValue?
            var name: String?
            if let property = here?["properties"]?[token] {
                child = property
                name = property["title"]?.stringValue ?? resolved(property, in: schema)["title"]?.stringValue
            } else if let items = here?["items"], let index = Int(token) {
                child = items
                name = String(index + 1)
            }
            if child != nil { titled += 1 }
            names.append(name ?? words(token))
            node = child
        }
        return (names, titled)
    }

    /// `node` with a local `$ref` (`#/$defs/…`) followed, once.
    private static func resolved(_ node: JSONValue, in schema: JSONValue) -> JSONValue {
        guard let reference = node["$ref"]?.stringValue, reference.hasPrefix("#/") else { return node }
        var target: JSONValue? = schema
        for token in reference.dropFirst(2).split(separator: "/") { target = target?[String(token)] }
        return target ?? node
    }

    /// `dateOfBirth` → "Date of birth".
    static func words(_ token: String) -> String {
        var out = ""
        for character in token {
            if character.isUppercase, !out.isEmpty { out += " " + character.lowercased() } else { out.append(character) }
        }
        return out.prefix(1).uppercased() + out.dropFirst()
    }
}
