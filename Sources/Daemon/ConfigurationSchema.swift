import Exchange
import JSON
import JSONSchema

/// The config's own JSON Schema (`schemas/config.v1.schema.json`), the one source of the keys a
/// config may hold, their types and their ranges; its errors rendered as config problems that
/// name the setting (`limits.maxBodyBytes`) and say what is wrong, never quoting a value.
///
/// The schema may give, on a subschema, the problem to report when any of that subschema's own
/// keywords fails (`"x-refex-problem": "must be an https:// URL"`); a missing member is reported
/// as `missing`, an undeclared one as an unknown key with the keys the schema knows there, and a
/// number outside a range as the range.
struct ConfigurationSchema {
    static let id = "urn:refex:schema:config:1"
    static let problemKeyword = "x-refex-problem"

    private let catalog: SchemaCatalog
    private let documents: SchemaDocuments

    /// Nil when the catalog holds no config schema.
    init?(catalog: SchemaCatalog) {
        guard catalog.schema(Self.id) != nil, catalog.document(Self.id) != nil else { return nil }
        self.catalog = catalog
        documents = SchemaDocuments(catalog: catalog)
    }

    /// Every problem the schema finds in `document`, in the validator's order: one per setting
    /// (a number that is not whole is not also out of range), none about a setting already named.
    func check(_ document: JSONValue, into problems: inout ConfigurationProblems) {
        guard let result = catalog.validate(document, against: Self.id), !result.isValid else { return }
        var named: Set<String> = []
        for error in OneOfBranches.relevant(namingDiscriminators(result.errors)) {
            for (setting, message) in render(error, in: document) where !problems.names(setting) && named.insert(setting).inserted {
                problems.add(setting, message)
            }
        }
    }

    private func render(_ error: ValidationError, in document: JSONValue) -> [(String, String)] {
        let setting = Self.dottedPath(error.instanceLocation)
        let keyword = error.keywordLocation.split(separator: "/").last.map(String.init) ?? ""
        // Made here (a discriminator's values), or not in a document this catalog holds.
        guard let keywordNode = documents.node(atKeywordLocation: error.keywordLocation, in: Self.id) else {
            return [(setting, error.message)]
        }
        let holder = documents.node(atKeywordLocation: String(error.keywordLocation.dropLast(keyword.count + 1)), in: Self.id)?.value
        switch keyword {
        case "required":
            let present = document.value(at: error.instanceLocation)?.objectValue
            let missing = (keywordNode.value.arrayValue ?? []).compactMap(\.stringValue).filter { present?.contains($0) == false }
            return missing.map { (Self.join(setting, $0), "missing") }
        case "additionalProperties":
            let known = (holder?["properties"]?.objectValue?.keys ?? []).sorted()
            return [(setting, known.isEmpty ? "unknown key" : "unknown key (known: \(known.joined(separator: ", ")))")]
        default:
            if let problem = holder?[Self.problemKeyword]?.stringValue { return [(setting, problem)] }
            if keyword == "minimum" || keyword == "maximum", let low = holder?["minimum"]?.int64Value, let high = holder?["maximum"]?.int64Value {
                return [(setting, "must be between \(low) and \(high)")]
            }
            return [(setting, error.message)]
        }
    }

    /// A `oneOf` whose subschema gives its own problem is that one problem, whatever its
    /// branches say; one whose every branch failed on a `const` at one member (`delivery.mode`)
    /// is one problem there: the member must be one of the branches' values (`must be push or pull`).
    private func namingDiscriminators(_ errors: [ValidationError]) -> [ValidationError] {
        var errors = errors
        for summary in errors where summary.keywordLocation.hasSuffix("/oneOf") {
            let prefix = summary.keywordLocation + "/"
            let inBranches = errors.filter { $0.keywordLocation.hasPrefix(prefix) && summary.instanceLocation.isPrefix(of: $0.instanceLocation) }
            let holder = documents.node(atKeywordLocation: String(summary.keywordLocation.dropLast("/oneOf".count)), in: Self.id)
            if holder?.value[Self.problemKeyword] != nil {
                errors.removeAll { inBranches.contains($0) }
                continue
            }
            let branches = Set(inBranches.map { $0.keywordLocation.dropFirst(prefix.count).prefix { $0 != "/" } })
            let constants = inBranches.filter { $0.keywordLocation.hasSuffix("/const") }
            guard let member = constants.first?.instanceLocation, constants.allSatisfy({ $0.instanceLocation == member }),
                  Set(constants.map { $0.keywordLocation.dropFirst(prefix.count).prefix { $0 != "/" } }) == branches else { continue }
            let values = constants.compactMap { documents.node(atKeywordLocation: $0.keywordLocation, in: Self.id)?.value.stringValue }
            guard values.count == constants.count else { continue }
            errors.removeAll { $0 == summary || inBranches.contains($0) }
            errors.append(ValidationError(
                instanceLocation: member, keywordLocation: summary.keywordLocation + "/discriminator", absoluteKeywordLocation: nil,
                message: "must be " + Self.listed(values, "or")
            ))
        }
        return errors
    }

    /// `a`, `a or b`, `a, b or c` (with `conjunction` "or").
    static func listed(_ values: [String], _ conjunction: String) -> String {
        guard let last = values.last else { return "" }
        return values.count == 1 ? last : values.dropLast().joined(separator: ", ") + " \(conjunction) " + last
    }

    /// `/partners/2/roles/1` → `partners[2].roles[1]`.
    static func dottedPath(_ pointer: JSONPointer) -> String {
        var out = ""
        for token in pointer.tokens {
            if let index = Int(token), String(index) == token {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? token : ".\(token)"
            }
        }
        return out
    }

    private static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}
