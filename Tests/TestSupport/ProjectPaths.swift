import Foundation

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

    /// A new empty folder under the system temporary directory.
    package static func temporaryDirectory(_ prefix: String = "refex-test") -> String {
        let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
