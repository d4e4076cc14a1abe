import Foundation
import Synchronization

/// Where things are when tests run.
package enum ProjectPaths {
    /// The package root (the folder holding Package.swift).
    package static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The built `refex` binary: `$REFEX_BINARY`, else the debug build.
    package static var refexBinary: String {
        if let path = ProcessInfo.processInfo.environment["REFEX_BINARY"], !path.isEmpty { return path }
        return "\(root)/.build/debug/refex"
    }

    /// The shared conformance suites: `$REFEX_CONFORMANCE_DIR`, else `../shared/conformance`.
    package static var conformance: String {
        if let path = ProcessInfo.processInfo.environment["REFEX_CONFORMANCE_DIR"], !path.isEmpty { return path }
        return URL(fileURLWithPath: root).deletingLastPathComponent().appendingPathComponent("shared/conformance").path
    }

    /// A new empty folder under the system temporary directory, removed with everything in it
    /// when the test process exits (a run made thousands, stores of up to 120 MB among them, and
    /// filled the disk); `REFEX_KEEP_TEST_FOLDERS=1` keeps them to look at after a failure.
    package static func temporaryDirectory(_ prefix: String = "refex-test") -> String {
        let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        TemporaryFolders.created.withLock { folders in
            if folders.isEmpty { atexit { TemporaryFolders.removeAll() } }
            folders.append(path)
        }
        return path
    }
}

/// The folders `ProjectPaths.temporaryDirectory` made in this process.
enum TemporaryFolders {
    static let created = Mutex<[String]>([])

    static func removeAll() {
        guard ProcessInfo.processInfo.environment["REFEX_KEEP_TEST_FOLDERS"] != "1" else { return }
        let folders = created.withLock { folders in
            defer { folders.removeAll() }
            return folders
        }
        for folder in folders { try? FileManager.default.removeItem(atPath: folder) }
    }
}
