import Crypto
import Foundation

/// `refex keys generate FILE`: a new Ed25519 log-signing key, written readable by its owner only;
/// prints the public key for auditors.
enum KeysCommand {
    static let usage = "usage: refex keys generate FILE    (FILE must not exist; the public key is printed)"

    static func run(_ arguments: [String]) -> Int32 {
        guard arguments.count == 2, arguments[0] == "generate" else {
            printError(usage)
            return 2
        }
        let path = arguments[1]
        guard !FileManager.default.fileExists(atPath: path) else {
            printError("refex keys generate: \(path) exists; refex never overwrites a key")
            return 1
        }
        do {
            let key = try Ed25519PrivateKey()
            let pem = try key.pem()
            let previous = umask(0o077)
            defer { umask(previous) }
            guard FileManager.default.createFile(atPath: path, contents: Data(pem), attributes: [.posixPermissions: 0o600]) else {
                printError("refex keys generate: cannot write \(path)")
                return 1
            }
            let publicKey = key.publicKey
            print(String(decoding: try publicKey.pem(), as: UTF8.self), terminator: "")
            print("public key (hex): \(publicKey.raw.hexString)")
            print("key id: \(publicKey.keyID)")
            return 0
        } catch {
            printError("refex keys generate: \(error)")
            return 1
        }
    }
}
