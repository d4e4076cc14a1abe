import Foundation

/// Locates the conformance suites, which live outside the repository.
///
/// The directory is `$REFEX_CONFORMANCE_DIR` if set, else `../shared/conformance` relative
/// to the package root. A missing suite is an error, so conformance tests fail rather than
/// pass vacuously.
package enum ConformanceSuite {
    /// Why the suite could not be found.
    package struct MissingSuiteError: Error, CustomStringConvertible {
        /// The directory that was expected to hold the suite.
        package var path: String

        /// An error for the suite expected at `path`.
        package init(path: String) {
            self.path = path
        }

        package var description: String {
            "conformance suite not found at \(path): clone it there or set REFEX_CONFORMANCE_DIR"
        }
    }

    /// The package root, derived from this file's location (Tests/TestSupport/…).
    package static var packageRoot: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// The conformance directory, holding `JSONTestSuite` and `JSON-Schema-Test-Suite`.
    package static func directory() -> URL {
        if let override = ProcessInfo.processInfo.environment["REFEX_CONFORMANCE_DIR"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance").standardizedFileURL
    }

    /// The named suite's directory (e.g. `JSONTestSuite/test_parsing`), which must exist.
    package static func suite(_ relativePath: String) throws -> URL {
        let url = directory().appendingPathComponent(relativePath)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MissingSuiteError(path: url.path)
        }
        return url
    }

    /// The regular files directly in `directory` with the given extension, sorted by name.
    package static func files(in directory: URL, extension pathExtension: String) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == pathExtension }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}
