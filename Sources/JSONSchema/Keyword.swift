/// The 2020-12 keywords, by vocabulary, and where they hold subschemas.
enum Keyword {
    static let core = "https://json-schema.org/draft/2020-12/vocab/core"
    static let applicator = "https://json-schema.org/draft/2020-12/vocab/applicator"
    static let unevaluated = "https://json-schema.org/draft/2020-12/vocab/unevaluated"
    static let validation = "https://json-schema.org/draft/2020-12/vocab/validation"
    static let metaData = "https://json-schema.org/draft/2020-12/vocab/meta-data"
    static let formatAnnotation = "https://json-schema.org/draft/2020-12/vocab/format-annotation"
    static let formatAssertion = "https://json-schema.org/draft/2020-12/vocab/format-assertion"
    static let content = "https://json-schema.org/draft/2020-12/vocab/content"

    /// Every vocabulary refex implements.
    static let knownVocabularies: Set<String> = [core, applicator, unevaluated, validation, metaData, formatAnnotation, formatAssertion, content]
    /// The vocabularies of the standard 2020-12 meta-schema.
    static let defaultVocabularies: Set<String> = [core, applicator, unevaluated, validation, metaData, formatAnnotation, content]

    /// The vocabulary each keyword belongs to (`format` is in both format vocabularies).
    static let vocabulary: [String: String] = {
        var table: [String: String] = [:]
        for keyword in ["$id", "$schema", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$comment", "$defs"] {
            table[keyword] = core
        }
        for keyword in ["prefixItems", "items", "contains", "additionalProperties", "properties", "patternProperties",
                        "dependentSchemas", "propertyNames", "if", "then", "else", "allOf", "anyOf", "oneOf", "not"] {
            table[keyword] = applicator
        }
        for keyword in ["unevaluatedItems", "unevaluatedProperties"] {
            table[keyword] = unevaluated
        }
        for keyword in ["type", "const", "enum", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
                        "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains",
                        "minContains", "maxProperties", "minProperties", "required", "dependentRequired"] {
            table[keyword] = validation
        }
        for keyword in ["title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples"] {
            table[keyword] = metaData
        }
        table["format"] = formatAnnotation
        for keyword in ["contentEncoding", "contentMediaType", "contentSchema"] {
            table[keyword] = content
        }
        return table
    }()

    /// Keywords whose value is one subschema.
    static let singleSubschema: Set<String> = [
        "additionalProperties", "unevaluatedProperties", "unevaluatedItems", "items", "contains",
        "propertyNames", "if", "then", "else", "not", "contentSchema",
    ]
    /// Keywords whose value is an array of subschemas.
    static let subschemaArray: Set<String> = ["prefixItems", "allOf", "anyOf", "oneOf"]
    /// Keywords whose value is an object of subschemas.
    static let subschemaObject: Set<String> = ["properties", "patternProperties", "$defs", "dependentSchemas"]

    /// The meta-schema URI of draft 2020-12.
    static let metaSchema2020 = "https://json-schema.org/draft/2020-12/schema"
}
