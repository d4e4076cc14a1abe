import JSON
import TestSupport
import XCTest

/// Start-up fails fast, one clear line per problem and exit status 1, never a crash trace: run as
/// an ordinary user (nobody, when the tests run as root), so that permissions are real.
final class StartupFailureTests: XCTestCase {
    /// Runs `refex serve` on `config` unprivileged and returns its stderr lines, checking that it
    /// exited 1 by itself without crashing.
    private func serveFails(_ config: JSONObject, in folder: String, environment: [String: String]? = nil,
                            file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let path = "\(folder)/refex-\(UUID().uuidString.prefix(6)).json"
        try RefexProcess.write(config, to: path)
        chmod(path, 0o644)
        let result = try Unprivileged.runRefex(["serve", "--config", path], environment: environment, timeout: 30)
        XCTAssertFalse(result.timedOut, "refex served instead of failing", file: file, line: line)
        XCTAssertEqual(result.status, 1, result.errorOutput, file: file, line: line)
        for crash in ["Fatal error", "Stack dump", "Backtrace", "Current stack trace", "Segmentation fault", "💣"] {
            XCTAssertFalse(result.errorOutput.contains(crash), "a crash trace:\n\(result.errorOutput)", file: file, line: line)
        }
        return result.errorOutput.split(separator: "\n").map(String.init)
    }

    func testTheUnprivilegedSetupItselfServes() throws {
        // The baseline for the tests below: with every file readable, the same user starts refex.
        let setup = try Unprivileged.setUp()
        let path = "\(setup.folder)/refex.json"
        try RefexProcess.write(setup.config, to: path)
        chmod(path, 0o644)
        let result = try Unprivileged.runRefex(["config", "check", "--config", path])
        XCTAssertEqual(result.status, 0, result.errorOutput)
    }

    func testUnreadableKeysAreEachNamedOnOneLine() throws {
        let setup = try Unprivileged.setUp()
        let tlsKey = try XCTUnwrap(setup.files["server.key"])
        let masterKey = try XCTUnwrap(setup.files["master.key"])
        chmod(tlsKey, 0o000)
        chmod(masterKey, 0o000)
        let lines = try serveFails(setup.config, in: setup.folder)
        XCTAssertEqual(lines.count, 2, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.contains("tls.privateKey: cannot read \(tlsKey)") }, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.contains("masterKey: cannot read \(masterKey)") }, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("<3>refex: config ") }, lines.joined(separator: "\n"))
    }

    func testUnreadableCredentialIsNamed() throws {
        let setup = try Unprivileged.setUp()
        let credentials = "\(setup.folder)/credentials"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        chmod(credentials, 0o755)
        try FileManager.default.copyItem(atPath: try XCTUnwrap(setup.files["server.key"]), toPath: "\(credentials)/tls-key")
        chmod("\(credentials)/tls-key", 0o000)
        let lines = try serveFails(setup.config, in: setup.folder, environment: ["CREDENTIALS_DIRECTORY": credentials])
        XCTAssertEqual(lines.count, 1, lines.joined(separator: "\n"))
        XCTAssertTrue(lines[0].contains("credential tls-key: cannot read \(credentials)/tls-key"), lines[0])
    }

    func testStoreFolderThatIsNotWritableIsNamed() throws {
        try sqliteOnly()
        let setup = try Unprivileged.setUp()
        let readOnly = "\(setup.folder)/read-only-state"
        try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: true)
        chmod(readOnly, 0o555)
        var config = setup.config
        config["store"] = ["path": .string("\(readOnly)/refex.db")]
        let lines = try serveFails(config, in: setup.folder)
        XCTAssertEqual(lines.count, 2, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.contains("store.path: the folder \(readOnly) is not writable") }, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.contains("store.keysPath: the folder \(readOnly) is not writable") }, lines.joined(separator: "\n"))
    }

    func testStoreFileThatIsNotWritableIsNamed() throws {
        try sqliteOnly()
        let setup = try Unprivileged.setUp()
        let state = "\(setup.folder)/state"
        try Data().write(to: URL(fileURLWithPath: "\(state)/refex.db"))
        chmod("\(state)/refex.db", 0o444)
        Unprivileged.handOver("\(state)/refex.db")
        let lines = try serveFails(setup.config, in: setup.folder)
        XCTAssertEqual(lines.count, 1, lines.joined(separator: "\n"))
        XCTAssertTrue(lines[0].contains("store.path: \(state)/refex.db is not writable"), lines[0])
    }

    func testStoreThatIsNotADatabaseFailsInOneLine() throws {
        try sqliteOnly()
        let setup = try Unprivileged.setUp()
        let store = "\(setup.folder)/state/refex.db"
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: store))
        Unprivileged.handOver(store)
        let lines = try serveFails(setup.config, in: setup.folder)
        XCTAssertEqual(lines.count, 1, lines.joined(separator: "\n"))
        XCTAssertTrue(lines[0].hasPrefix("<3>refex: cannot open the store \(store)"), lines[0])
        XCTAssertTrue(lines[0].contains("not a database"), lines[0])
    }

    func testOpsPortInUseIsNamed() throws {
        let first = try RefexProcess()
        var config = try Unprivileged.setUp().config
        config["ops"] = .string("127.0.0.1:\(first.opsPort)")
        let folder = ProjectPaths.temporaryDirectory()
        chmod(folder, 0o755)
        let lines = try serveFails(config, in: folder)
        XCTAssertEqual(lines.count, 1, lines.joined(separator: "\n"))
        XCTAssertTrue(lines[0].contains("cannot listen on 127.0.0.1:\(first.opsPort) (ops)"), lines[0])
        XCTAssertTrue(lines[0].contains("Address already in use"), lines[0])
    }

    func testPrivilegedPortWithoutSocketActivationSaysWhatToDo() throws {
        let threshold = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_unprivileged_port_start", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 1024
        try XCTSkipIf(threshold <= 1, "this host lets anyone bind low ports (net.ipv4.ip_unprivileged_port_start=\(threshold))")
        let setup = try Unprivileged.setUp()
        var config = setup.config
        config["listen"] = "127.0.0.1:1"
        let lines = try serveFails(config, in: setup.folder)
        XCTAssertEqual(lines.count, 1, lines.joined(separator: "\n"))
        XCTAssertTrue(lines[0].contains("cannot listen on 127.0.0.1:1 (listen)"), lines[0])
        XCTAssertTrue(lines[0].contains("Permission denied"), lines[0])
        XCTAssertTrue(lines[0].contains("socket activation"), lines[0])
    }
}
