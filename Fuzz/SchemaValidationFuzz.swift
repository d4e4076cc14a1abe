// libFuzzer target validating fuzzed documents against a fixed, referral-like schema that
// uses most keywords. Any input must be rejected or validated without a crash or hang, and
// the quick and the full validation must agree. Built by scripts/fuzz-json.sh.
import JSON
import JSONSchema

private let schemaText = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "urn:refex:fuzz:referral",
  "type": "object",
  "required": ["referenceId", "subject"],
  "properties": {
    "referenceId": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{4,8}$"},
    "schema": {"const": "urn:refex:fuzz:referral"},
    "subject": {"$ref": "#/$defs/person"},
    "contacts": {"type": "array", "items": {"$ref": "#/$defs/person"}, "maxItems": 20, "uniqueItems": true},
    "services": {"type": "array", "prefixItems": [{"enum": ["support", "translation"]}],
                 "contains": {"const": "support"}, "minContains": 1, "maxContains": 2, "unevaluatedItems": {"type": "string"}},
    "risk": {"oneOf": [{"type": "integer", "minimum": 0, "maximum": 10}, {"enum": ["low", "high"]}]},
    "amount": {"type": "number", "multipleOf": 0.01, "exclusiveMaximum": 1e9},
    "tree": {"$ref": "#/$defs/node"}
  },
  "patternProperties": {"^x-": {"type": "string", "maxLength": 64}},
  "dependentRequired": {"consent": ["consentDate"]},
  "dependentSchemas": {"override": {"required": ["lawfulBasis"]}},
  "propertyNames": {"maxLength": 40},
  "if": {"properties": {"urgent": {"const": true}}, "required": ["urgent"]},
  "then": {"required": ["phone"]},
  "else": {"not": {"required": ["phone"]}},
  "unevaluatedProperties": {"type": ["string", "boolean", "null", "number"]},
  "$defs": {
    "person": {
      "type": "object",
      "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "dateOfBirth": {"type": "string", "format": "date", "x-refex-category": "identity"},
        "email": {"type": "string", "format": "email"},
        "host": {"type": "string", "format": "hostname"},
        "ip": {"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
        "seen": {"type": "string", "format": "date-time"},
        "wait": {"type": "string", "format": "duration"},
        "link": {"type": "string", "format": "uri"},
        "id": {"type": "string", "format": "uuid"},
        "health": {"type": "string", "x-refex-category": "health"}
      },
      "minProperties": 1,
      "maxProperties": 12
    },
    "node": {
      "$dynamicAnchor": "node",
      "type": "object",
      "properties": {"value": {"type": "integer"}, "children": {"type": "array", "items": {"$dynamicRef": "#node"}}},
      "additionalProperties": false
    }
  }
}
"""#

private let schema: Schema = {
    do {
        return try Schema(compiling: try JSONValue.parse(schemaText), options: ValidationOptions(assertFormats: true))
    } catch {
        preconditionFailure("the fuzz schema compiles: \(error)")
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSchemaValidation(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let document = try? JSONValue.parse(bytes, limits: JSONLimits(maxDocumentBytes: 1 << 20)) else { return 0 }
    let result = schema.validate(document)
    precondition(result.isValid == result.errors.isEmpty, "validity and errors disagree")
    precondition(result.isValid || result.annotations.isEmpty, "annotations reported for an invalid document")
    precondition(schema.isValid(document) == result.isValid, "isValid and validate disagree")
    for error in result.errors {
        precondition(error.instanceLocation.tokens.isEmpty || document.value(at: error.instanceLocation) != nil
            || error.keywordLocation.hasSuffix("propertyNames") || error.keywordLocation.contains("/propertyNames/"),
            "error points outside the document")
    }
    return 0
}
