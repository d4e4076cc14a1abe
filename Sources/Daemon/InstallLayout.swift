import Foundation

/// Where the running binary's companion files are, as `make install` lays them out
/// (`$PREFIX/bin/refex` beside `$PREFIX/share/refex/schemas`).
package enum InstallLayout {
    /// The installation prefix of the running binary (`/usr/local` for `/usr/local/bin/refex`),
    /// or `/usr` (where a Debian package puts it) when the binary is not installed, e.g. a build
    /// under `.build/`.
    package static let prefix: String = {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return "/usr" }
        let bin = (executable as NSString).deletingLastPathComponent
        guard (bin as NSString).lastPathComponent == "bin" else { return "/usr" }
        let prefix = (bin as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: "\(prefix)/share/refex/schemas", isDirectory: &isDirectory), isDirectory.boolValue else {
            return "/usr"
        }
        return prefix.isEmpty ? "/" : prefix
    }()

    /// The folder of JSON Schemas installed with the binary: the config's default `schemas`.
    package static var schemas: String { "\(prefix == "/" ? "" : prefix)/share/refex/schemas" }
}
