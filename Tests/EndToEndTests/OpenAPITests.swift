import Foundation
import JSON
import TestSupport
import XCTest

/// The OpenAPI document: valid OpenAPI 3.1 by an outside validator (openapi-spec-validator from
/// PyPI, in the venv scripts/test-tools.sh makes), and served by refex to any partner.
final class OpenAPITests: XCTestCase {
    private var document: String { "\(ProjectPaths.root)/schemas/openapi.v1.json" }

    /// Runs Tests/scripts/validate_openapi.py on `path` with the venv's Python.
    private func validate(_ path: String) throws -> SubprocessResult {
        let python = "\(ProjectPaths.root)/.dev/tools/venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            XCTFail("no \(python): run scripts/test-tools.sh (make test does)")
            throw XCTSkip("the OpenAPI validator is not installed")
        }
        return try Subprocess.run(python, ["\(ProjectPaths.root)/Tests/scripts/validate_openapi.py", path], timeout: 120)
    }

    func testDocumentIsValidOpenAPI31() throws {
        let result = try validate(document)
        XCTAssertEqual(result.status, 0, result.output + result.errorOutput)
        XCTAssertTrue(result.output.contains("valid OpenAPI 3.1"), result.output)
    }

    func testValidatorRefusesABrokenDocument() throws {
        // The check can fail: a response without its required description, and a dangling $ref.
        let original = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: document))))
        guard case .object(var root) = original, case .object(var paths)? = root["paths"],
              case .object(var whoami)? = paths["/v1/whoami"], case .object(var get)? = whoami["get"],
              case .object(var responses)? = get["responses"], case .object(let ok)? = responses["200"] else {
            return XCTFail("the document has no GET /v1/whoami 200")
        }
        let folder = ProjectPaths.temporaryDirectory("refex-openapi")
        for broken in ["description", "ref"] {
            var answer = ok
            if broken == "description" {
                answer["description"] = nil
            } else {
                answer["content"] = ["application/json": ["schema": ["$ref": "#/components/schemas/NoSuchSchema"]]]
            }
            responses["200"] = .object(answer)
            get["responses"] = .object(responses)
            whoami["get"] = .object(get)
            paths["/v1/whoami"] = .object(whoami)
            root["paths"] = .object(paths)
            let path = "\(folder)/\(broken).json"
            try Data(JSONValue.object(root).serialized()).write(to: URL(fileURLWithPath: path))
            let result = try validate(path)
            XCTAssertEqual(result.status, 1, "a document with a broken \(broken) passed: \(result.output)")
        }
    }

    func testServedToEveryPartnerAsInstalled() throws {
        let refex = try RefexProcess()
        let file = try String(contentsOfFile: document, encoding: .utf8)
        for partner in ["police", "sink", "hub-admin"] {
            let (result, response) = try Curl.request(["\(refex.baseURL)/v1/openapi.json"], as: partner)
            let answer = try XCTUnwrap(response, result.errorOutput)
            XCTAssertEqual(answer.status, 200, "\(partner): \(answer.body)")
            XCTAssertEqual(answer.header("content-type"), "application/json")
            XCTAssertEqual(answer.body, file, "GET /v1/openapi.json is not schemas/openapi.v1.json")
            XCTAssertEqual(answer.json?["openapi"]?.stringValue, "3.1.0")
        }
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/openapi.json"], as: "unknown").response?.status, 403)

        // A schemas folder without the document (an older install) still serves; the route says what is missing.
        let schemas = ProjectPaths.temporaryDirectory("refex-schemas-without-openapi")
        for name in try FileManager.default.contentsOfDirectory(atPath: "\(ProjectPaths.root)/schemas")
        where name.hasSuffix(".schema.json") {
            try FileManager.default.copyItem(atPath: "\(ProjectPaths.root)/schemas/\(name)", toPath: "\(schemas)/\(name)")
        }
        let older = try RefexProcess(config: RefexProcess.config(["schemas": .string(schemas)]))
        let (_, missing) = try Curl.request(["\(older.baseURL)/v1/openapi.json"], as: "police")
        XCTAssertEqual(missing?.status, 404)
        XCTAssertEqual(missing?.json?["type"]?.stringValue, "urn:refex:problem:not-found")
        XCTAssertTrue(missing?.json?["detail"]?.stringValue?.contains("openapi.v1.json") == true, missing?.body ?? "")
    }
}
