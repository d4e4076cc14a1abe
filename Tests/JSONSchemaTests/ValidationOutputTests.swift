import Synchronization
import Foundation
import JSON
import JSONSchema
import XCTest

final class ValidationOutputTests: XCTestCase {
    private let referral: JSONValue = [
        "$id": "urn:refex:test:referral",
        "type": "object",
        "required": ["subject", "service"],
        "properties": [
            "subject": ["$ref": "#/$defs/person"],
            "service": ["enum": ["support", "translation", "housing", "counselling"]],
            "notes": ["type": "string", "maxLength": 10, "x-refex-category": "free-text"],
        ],
        "additionalProperties": false,
        "$defs": [
            "person": [
                "type": "object",
                "properties": [
                    "name": ["type": "string", "pattern": "^[A-Z]"],
                    "age": ["type": "integer", "minimum": 0],
                    "health": ["type": "string", "x-refex-category": "health", "title": "Health"],
                    "email": ["type": "string", "format": "email"],
                ],
            ],
        ],
    ]

    func testReportsEveryErrorWithInstanceKeywordAndAbsoluteLocations() throws {
        let schema = try Schema(compiling: referral, options: ValidationOptions(assertFormats: true))
        let result = schema.validate(["subject": ["name": "ann", "age": -1], "service": "legal", "extra": 1])
        XCTAssertFalse(result.isValid)
        XCTAssertTrue(result.annotations.isEmpty, "no annotations from an invalid instance")
        let byLocation = Dictionary(grouping: result.errors, by: { $0.instanceLocation.description })
        XCTAssertEqual(Set(byLocation.keys), ["/subject/name", "/subject/age", "/service", "/extra"])
        let age = try XCTUnwrap(byLocation["/subject/age"]?.first)
        XCTAssertEqual(age.keywordLocation, "/properties/subject/$ref/properties/age/minimum")
        XCTAssertEqual(age.absoluteKeywordLocation, "urn:refex:test:referral#/$defs/person/properties/age/minimum")
        XCTAssertEqual(age.message, "must be at least 0")
        XCTAssertEqual(byLocation["/service"]?.first?.message,
                       #"must be one of the 4 allowed values: "support", "translation", "housing", "counselling""#)
        XCTAssertEqual(byLocation["/extra"]?.first?.keywordLocation, "/additionalProperties")
        XCTAssertEqual(byLocation["/subject/name"]?.first?.message, "string does not match the pattern ^[A-Z]")
        XCTAssertEqual(age.description, "/subject/age: must be at least 0 (/properties/subject/$ref/properties/age/minimum)")
    }

    func testNamesMissingRequiredProperties() throws {
        let schema = try Schema(compiling: referral)
        let messages = schema.validate([:]).errors.map(\.message)
        XCTAssertEqual(Set(messages), ["missing required property 'subject'", "missing required property 'service'"])
    }

    func testMessagesNeverQuoteInstanceValues() throws {
        let secret = "SECRET-Jane-Doe-1970"
        let schema = try Schema(compiling: [
            "type": "object",
            "properties": [
                "a": ["enum": ["x", "y"]], "b": ["const": "fixed"], "c": ["maxLength": 3], "d": ["pattern": "^[0-9]+$"],
                "e": ["format": "date"], "f": ["type": "integer"], "g": ["not": ["type": "string"]], "h": ["minLength": 100],
                "i": ["oneOf": [["type": "string"], ["type": "string"]]], "j": ["format": "email"], "k": ["uniqueItems": true],
            ],
            "propertyNames": ["maxLength": 1],
            "additionalProperties": false,
        ], options: ValidationOptions(assertFormats: true))
        let instance: JSONValue = [
            "a": .string(secret), "b": .string(secret), "c": .string(secret), "d": .string(secret), "e": .string(secret),
            "f": .string(secret), "g": .string(secret), "h": .string(secret), "i": .string(secret), "j": .string(secret),
            "k": [.string(secret), .string(secret)], "zz": .string(secret),
        ]
        let errors = schema.validate(instance).errors
        XCTAssertGreaterThanOrEqual(errors.count, 12)
        for error in errors {
            XCTAssertFalse(error.message.contains("SECRET"), error.message)
            XCTAssertFalse(error.keywordLocation.contains("SECRET"))
        }
    }

    func testCollectsAnnotationsOfUnknownKeywordsAtTheirInstanceLocations() throws {
        let schema = try Schema(compiling: referral)
        let result = schema.validate(["subject": ["name": "Ann", "health": "asthma"], "service": "support", "notes": "short"])
        XCTAssertTrue(result.isValid, "\(result.errors)")
        let categories = result.annotations(named: "x-refex-category")
        XCTAssertEqual(categories.map { $0.0.description }.sorted(), ["/notes", "/subject/health"])
        XCTAssertEqual(categories.first { $0.0.description == "/subject/health" }?.1, "health")
        let health = try XCTUnwrap(result.annotations.first { $0.keyword == "x-refex-category" && $0.instanceLocation.description == "/subject/health" })
        XCTAssertEqual(health.keywordLocation, "/properties/subject/$ref/properties/health/x-refex-category")
        XCTAssertTrue(result.annotations.contains { $0.keyword == "title" && $0.value == "Health" })
        // Absent properties carry no annotation.
        let bare = schema.validate(["subject": [:], "service": "support"])
        XCTAssertTrue(bare.annotations(named: "x-refex-category").isEmpty)
    }

    func testDropsAnnotationsFromFailedSubschemas() throws {
        let schema = try Schema(compiling: [
            "anyOf": [
                ["properties": ["a": ["type": "string", "x-refex-category": "wrong-branch"]]],
                ["properties": ["a": ["type": "integer", "x-refex-category": "right-branch"]]],
            ],
            "not": ["properties": ["a": ["x-refex-category": "inside-not"]], "required": ["zz"]],
        ])
        let result = schema.validate(["a": 3])
        XCTAssertTrue(result.isValid)
        XCTAssertEqual(result.annotations(named: "x-refex-category").map(\.1), ["right-branch"])
    }

    func testSelectsOnlyTheAnnotationsAskedFor() throws {
        let schema = try Schema(compiling: referral, options: ValidationOptions(annotations: .keywords(["x-refex-category"])))
        let result = schema.validate(["subject": ["health": "x"], "service": "support"])
        XCTAssertEqual(result.annotations.map(\.keyword), ["x-refex-category"])
        let none = try Schema(compiling: referral, options: ValidationOptions(annotations: .none))
        XCTAssertTrue(none.validate(["subject": ["health": "x"], "service": "support"]).annotations.isEmpty)
    }

    func testNumbersCompareExactly() throws {
        let schema = try Schema(compiling: try JSONValue.parse(#"""
            {"properties": {"price": {"multipleOf": 0.01}, "big": {"minimum": 18446744073709551616}, "one": {"const": 1}}}
            """#))
        XCTAssertTrue(schema.validate(try JSONValue.parse(#"{"price": 0.07}"#)).isValid)
        XCTAssertTrue(schema.validate(try JSONValue.parse(#"{"price": 19.99}"#)).isValid)
        XCTAssertFalse(schema.validate(try JSONValue.parse(#"{"price": 0.075}"#)).isValid)
        XCTAssertTrue(schema.validate(try JSONValue.parse(#"{"big": 18446744073709551616}"#)).isValid)
        XCTAssertFalse(schema.validate(try JSONValue.parse(#"{"big": 18446744073709551615}"#)).isValid)
        XCTAssertTrue(schema.validate(try JSONValue.parse(#"{"one": 1.0}"#)).isValid)
    }

    func testStringsCompareByCodePoints() throws {
        let schema = try Schema(compiling: ["enum": ["caf\u{E9}"]])
        XCTAssertTrue(schema.validate("caf\u{E9}").isValid)
        XCTAssertFalse(schema.validate("cafe\u{301}").isValid, "canonically equivalent is not equal in JSON Schema")
    }

    func testIsValidAgreesWithValidate() throws {
        let schema = try Schema(compiling: referral)
        let instances: [JSONValue] = [[:], ["subject": [:], "service": "support"], ["subject": ["age": 1.5], "service": "support"], "x"]
        for instance in instances {
            XCTAssertEqual(schema.isValid(instance), schema.validate(instance).isValid)
        }
    }

    func testDeepRecursionFailsCleanlyAtTheEvaluationDepthLimit() throws {
        var instance: JSONValue = []
        for _ in 0..<60 { instance = [instance] }
        let recursive: JSONValue = ["type": "array", "items": ["$ref": "#"]]
        XCTAssertTrue(try Schema(compiling: recursive).validate(instance).isValid)
        let shallow = try Schema(compiling: recursive, options: ValidationOptions(maxEvaluationDepth: 20))
        let result = shallow.validate(instance)
        XCTAssertFalse(result.isValid)
        XCTAssertEqual(result.errors.count, 1)
        XCTAssertTrue(result.errors.first?.message.contains("deeper than 20") ?? false)
        XCTAssertFalse(shallow.isValid(instance))
        // `not` must not turn the aborted evaluation into a success.
        let negated = try Schema(compiling: ["not": recursive], options: ValidationOptions(maxEvaluationDepth: 20))
        XCTAssertFalse(negated.validate(instance).isValid)
    }

    func testValidatesConcurrentlyFromManyThreads() throws {
        let schema = try Schema(compiling: referral, options: ValidationOptions(assertFormats: true))
        let valid: JSONValue = ["subject": ["name": "Ann", "email": "ann@example.org", "health": "x"], "service": "support"]
        let invalid: JSONValue = ["subject": ["name": "ann", "email": "nope"], "service": "legal"]
        let expectedErrors = schema.validate(invalid).errors
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 2000) { iteration in
            let result = iteration.isMultiple(of: 2) ? schema.validate(valid) : schema.validate(invalid)
            let ok = iteration.isMultiple(of: 2) ? (result.isValid && result.annotations(named: "x-refex-category").count == 1) : result.errors == expectedErrors
            if !ok { failures.add(1, ordering: .relaxed) }
        }
        XCTAssertEqual(failures.load(ordering: .relaxed), 0)
    }
}

final class EvaluationStackTests: XCTestCase {
    /// The deepest evaluation the default limit allows fits in a 2 MiB thread stack even in
    /// a debug build (release frames are smaller), so hostile nesting cannot overflow it.
    func testDefaultDepthLimitFitsInASmallThreadStack() throws {
        var nested: JSONValue = []
        for _ in 0..<2000 { nested = [nested] }
        let instance = nested
        let schema = try Schema(compiling: ["$defs": ["n": ["items": ["$ref": "#/$defs/n"], "anyOf": [["type": "array"]]]], "$ref": "#/$defs/n"])
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<ValidationResult?>(nil)
        let thread = Thread {
            let result = schema.validate(instance)
            outcome.withLock { $0 = result }
            done.signal()
        }
        thread.stackSize = 2 << 20
        thread.start()
        done.wait()
        let result = try XCTUnwrap(outcome.withLock { $0 })
        XCTAssertFalse(result.isValid)
        XCTAssertTrue(result.errors.first?.message.contains("deeper than") ?? false)
    }
}
