import Foundation
import Postgres

/// A throwaway PostgreSQL cluster for tests: `initdb` into a temporary folder, started with
/// `pg_ctl` as an unprivileged user (`nobody` when the tests run as root, since PostgreSQL
/// refuses to run as root), listening only on a Unix socket in that folder, `fsync` on.
/// `stop()` (also at deinit) stops it and removes the folder. One per test class: each test
/// makes its own databases with `createStore()`.
package final class PostgresCluster: @unchecked Sendable {
    // @unchecked: `running` changes only in start/stop, called from a test's own thread.
    package let folder: String
    private let bin: String
    private var running = false
    /// The port that names the socket file (`.s.PGSQL.<port>`); no TCP is listened on.
    package let port = 5432
    package static let user = "refex"

    /// Starts a new cluster. Throws when PostgreSQL is not installed (`scripts/install-deps.sh test`)
    /// or does not start; the error carries the server's log.
    package init() throws {
        bin = try Self.binFolder()
        folder = ProjectPaths.temporaryDirectory("refex-pg")
        chmod(folder, 0o700)
        Unprivileged.handOver(folder)
        do {
            try Self.copyTemplate(bin: bin, to: "\(folder)/data", as: self)
        } catch {
            remove()
            throw error
        }
        try start()
    }

    deinit { stop() }

    /// A libpq connection string for `database` over the cluster's socket.
    package func connectionString(database: String = "postgres") -> String {
        "host=\(folder) port=\(port) user=\(Self.user) dbname=\(database)"
    }

    /// A new database with a unique name (and its `_keys` database beside it, as a store's
    /// default); returns the data database's name.
    package func createDatabase(prefix: String = "refex") throws -> String {
        let name = "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = try PostgresConnection(connectionString: connectionString())
        try admin.execute("CREATE DATABASE \(name)")
        try admin.execute("CREATE DATABASE \(name)_keys")
        return name
    }

    /// Runs `sql` in the `postgres` database as the superuser.
    package func administer(_ sql: String) throws {
        try PostgresConnection(connectionString: connectionString()).execute(sql)
    }

    /// Starts the server (again, after `stopServer`), waiting until it takes connections.
    package func start() throws {
        let options = [
            "-c listen_addresses=''", "-c unix_socket_directories='\(folder)'", "-c port=\(port)",
            // fsync and synchronous_commit stay at their defaults (on), not set here: a setting on the
            // command line would override ALTER SYSTEM, which the refusal tests use.
            "-c shared_buffers=16MB", "-c max_connections=60",
            "-c max_wal_size=256MB", "-c log_min_messages=warning",
        ].joined(separator: " ")
        let result = try run("\(bin)/pg_ctl", ["-D", "\(folder)/data", "-l", "\(folder)/server.log", "-w", "-t", "60", "-o", options, "start"])
        guard result.status == 0 else {
            let log = (try? String(contentsOfFile: "\(folder)/server.log", encoding: .utf8)) ?? ""
            throw SubprocessError(description: "pg_ctl start failed: \(result.errorOutput)\(result.output)\n\(log.suffix(2000))")
        }
        running = true
    }

    /// Stops the server, keeping its files (to test a database that went away); `start()` again.
    package func stopServer(mode: String = "fast") {
        guard running else { return }
        _ = try? run("\(bin)/pg_ctl", ["-D", "\(folder)/data", "-w", "-t", "60", "-m", mode, "stop"])
        running = false
    }

    /// Stops the server and removes its folder. Calling it again does nothing.
    package func stop() {
        stopServer()
        remove()
    }

    private func remove() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Runs a server program as the unprivileged user in the cluster's folder and waits for it.
    /// Not through `Process`: `pg_ctl start` leaves the server running in the background, and
    /// Foundation's `Process` was seen never to notice pg_ctl's exit then (a zombie, and a hang).
    private func run(_ executable: String, _ arguments: [String]) throws -> SubprocessResult {
        let name = (executable as NSString).lastPathComponent
        let outputPath = "\(folder)/\(name).out"
        let command = Unprivileged.command(["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", folder, executable] + arguments)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawnp(&pid, command[0], &actions, nil, argv, environ)
        guard spawned == 0 else { throw SubprocessError(description: "cannot run \(name): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? Data(contentsOf: URL(fileURLWithPath: outputPath))) ?? Data()
        let exitStatus: Int32 = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return SubprocessResult(status: exitStatus, stdout: output, stderr: Data(), timedOut: false)
    }

    /// A cluster's files, made once by initdb (1.8 s here) and copied for each cluster (tests run
    /// in a process each under `swift test --parallel`): `<tmp>/refex-pg-template-<version>`,
    /// a cache made under a file lock, remade when unfinished, holding no data of any test.
    private static func copyTemplate(bin: String, to data: String, as cluster: PostgresCluster) throws {
        let template = NSTemporaryDirectory() + "refex-pg-template-" + (bin.split(separator: "/").dropLast().last.map(String.init) ?? "pg")
        let lock = open(template + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw SubprocessError(description: "cannot open \(template).lock: \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 && errno == EINTR {}
        let ready = "\(template)/ready"
        if !FileManager.default.fileExists(atPath: ready) {
            try? FileManager.default.removeItem(atPath: template)
            try FileManager.default.createDirectory(atPath: template, withIntermediateDirectories: true)
            chmod(template, 0o755)
            Unprivileged.handOver(template)
            let initdb = try cluster.run(
                "\(bin)/initdb",
                ["-D", "\(template)/data", "-U", user, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"]
            )
            guard initdb.status == 0 else { throw SubprocessError(description: "initdb failed: \(initdb.output)") }
            FileManager.default.createFile(atPath: ready, contents: Data())
        }
        let copy = try cluster.run("/bin/cp", ["-a", "\(template)/data", data])
        guard copy.status == 0 else { throw SubprocessError(description: "copying the cluster template failed: \(copy.output)") }
    }

    /// Debian's server programs: /usr/lib/postgresql/<version>/bin, the newest installed
    /// (`$REFEX_POSTGRES_BIN` overrides).
    private static func binFolder() throws -> String {
        if let override = ProcessInfo.processInfo.environment["REFEX_POSTGRES_BIN"], !override.isEmpty { return override }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap { Int($0) }
            .filter { FileManager.default.isExecutableFile(atPath: "\(root)/\($0)/bin/initdb") }
            .sorted()
        guard let newest = versions.last else {
            throw SubprocessError(description: "PostgreSQL's initdb is not installed under \(root) (scripts/install-deps.sh test installs it)")
        }
        return "\(root)/\(newest)/bin"
    }
}
