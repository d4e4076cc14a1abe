// schema-bench: validation throughput of the JSONSchema module on the referral-like schema
// and documents in a fixtures directory. Run by scripts/bench-schema.sh, which also runs
// Python's jsonschema and jsonschema-rs on the same files.
//
//   schema-bench FIXTURES_DIR [SECONDS_PER_RUN]
//
// Each measurement is the best of SCHEMA_BENCH_REPEATS (default 5) runs of SECONDS_PER_RUN
// (default 1). Prints one JSON object per measurement.
import Foundation
import JSON
import JSONSchema

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else { fail("usage: schema-bench FIXTURES_DIR [SECONDS]") }
let directory = URL(fileURLWithPath: arguments[1])
let seconds = arguments.count > 2 ? Double(arguments[2]) ?? 1 : 1
let repeats = Int(ProcessInfo.processInfo.environment["SCHEMA_BENCH_REPEATS"] ?? "") ?? 5

func read(_ url: URL) -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: url.path) else { fail("cannot read \(url.path)") }
    return [UInt8](data)
}

let documentURLs: [URL]
do {
    documentURLs = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        .filter { $0.lastPathComponent.hasPrefix("referral-") && $0.pathExtension == "json" }
        .sorted { $0.lastPathComponent < $1.lastPathComponent }
} catch {
    fail("cannot list \(directory.path): \(error)")
}
let documentBytes = documentURLs.map(read)
let documents: [JSONValue]
let schemaValue: JSONValue
do {
    documents = try documentBytes.map { try JSONValue.parse($0) }
    schemaValue = try JSONValue.parse(read(directory.appendingPathComponent("referral.schema.json")))
} catch {
    fail("fixture is not JSON: \(error)")
}

func compile(_ options: ValidationOptions) -> Schema {
    do {
        return try Schema(compiling: schemaValue, options: options)
    } catch {
        fail("schema does not compile: \(error)")
    }
}

let quick = compile(ValidationOptions(assertFormats: true, annotations: .none))
let production = compile(ValidationOptions(assertFormats: true, annotations: .keywords(["x-refex-category"])))
let everything = compile(ValidationOptions(assertFormats: true, annotations: .all))
for (index, document) in documents.enumerated() {
    let result = production.validate(document)
    guard result.isValid, quick.isValid(document) else { fail("\(documentURLs[index].lastPathComponent) is not valid: \(result.errors)") }
}

/// Runs `body` over every document, round-robin, for `seconds`; returns documents per second.
@inline(never)
func measure(_ name: String, _ body: (Int) -> Bool) {
    // SCHEMA_BENCH_ONLY=name runs only that measurement (for profiling).
    if let only = ProcessInfo.processInfo.environment["SCHEMA_BENCH_ONLY"], name != only { return }
    var sink = 0
    // SCHEMA_BENCH_ROUNDS=n runs exactly n rounds over the documents (for instruction counts).
    if let rounds = ProcessInfo.processInfo.environment["SCHEMA_BENCH_ROUNDS"].flatMap(Int.init) {
        for _ in 0..<rounds {
            for document in 0..<documents.count where body(document) { sink &+= 1 }
        }
        print(#"{"mode": "\#(name)", "rounds": \#(rounds), "checksum": \#(sink % 2)}"#)
        return
    }
    let warmup = ContinuousClock.now.advanced(by: .milliseconds(300))
    var index = 0
    while ContinuousClock.now < warmup {
        if body(index % documents.count) { sink &+= 1 }
        index += 1
    }
    // The best of several runs: other work on the machine only ever slows a run down.
    var best = 0.0
    for _ in 0..<repeats {
        var count = 0
        let start = ContinuousClock.now
        let end = start.advanced(by: .milliseconds(Int(seconds * 1000)))
        var now = start
        while now < end {
            for document in 0..<documents.count where body(document) { sink &+= 1 }
            count += documents.count
            now = ContinuousClock.now
        }
        best = max(best, Double(count) / ((now - start) / .seconds(1)))
    }
    print(#"{"implementation": "refex (Swift)", "mode": "\#(name)", "documents_per_second": \#(Int(best)), "microseconds_per_document": \#(String(format: "%.2f", 1e6 / best)), "checksum": \#(sink % 2)}"#)
}

measure("isValid") { quick.isValid(documents[$0]) }
measure("validate, no annotations") { quick.validate(documents[$0]).isValid }
measure("validate, x-refex-category annotations") { production.validate(documents[$0]).isValid }
measure("validate, all annotations") { everything.validate(documents[$0]).isValid }
measure("parse only") { (try? JSONValue.parse(documentBytes[$0])) != nil }
measure("parse + isValid") {
    guard let value = try? JSONValue.parse(documentBytes[$0]) else { return false }
    return quick.isValid(value)
}
measure("parse + validate, x-refex-category annotations") {
    guard let value = try? JSONValue.parse(documentBytes[$0]) else { return false }
    return production.validate(value).isValid
}
