import Crypto
import JSON

/// A signed statement that the log's entry `seq` has hash `hash`: an auditor who keeps one can
/// later prove that nothing up to `seq` has changed since.
package struct Checkpoint: Sendable, Hashable {
    package var seq: Int64
    package var hash: String
    package var time: Timestamp
    package var signature: [UInt8]
    /// Which key signed (`Ed25519PublicKey.keyID`).
    package var keyID: String

    package init(seq: Int64, hash: String, time: Timestamp, signature: [UInt8], keyID: String) {
        self.seq = seq
        self.hash = hash
        self.time = time
        self.signature = signature
        self.keyID = keyID
    }

    /// Signs `(seq, hash, time)` with `key`.
    package init(seq: Int64, hash: String, time: Timestamp, key: Ed25519PrivateKey) throws {
        let signature = try key.sign(Checkpoint.message(seq: seq, hash: hash, time: time))
        self.init(seq: seq, hash: hash, time: time, signature: signature, keyID: key.publicKey.keyID)
    }

    /// What is signed: the RFC 8785 form of `{type, seq, hash, time}`.
    package static func message(seq: Int64, hash: String, time: Timestamp) -> [UInt8] {
        let value: JSONValue = [
            "type": "refex.log.checkpoint.v1", "seq": .number(JSONNumber(seq)), "hash": .string(hash), "time": .string(time.description),
        ]
        return value.canonicalized()
    }

    package func isSigned(by key: Ed25519PublicKey) -> Bool {
        key.isValidSignature(signature, for: Checkpoint.message(seq: seq, hash: hash, time: time))
    }

    /// The checkpoint as an auditor keeps it (with the public key, for convenience: check it against one you trust).
    package func json(publicKey: Ed25519PublicKey?) -> JSONValue {
        var object: JSONObject = [
            "type": "refex.log.checkpoint.v1", "seq": .number(JSONNumber(seq)), "hash": .string(hash),
            "time": .string(time.description), "signature": .string(signature.hexString), "keyId": .string(keyID),
        ]
        if let publicKey { object["publicKey"] = .string(publicKey.raw.hexString) }
        return .object(object)
    }

    package init?(json: JSONValue) {
        guard json["type"]?.stringValue == "refex.log.checkpoint.v1", let seq = json["seq"]?.int64Value,
              let hash = json["hash"]?.stringValue, let timeText = json["time"]?.stringValue, let time = Timestamp(rfc3339: timeText),
              let signatureText = json["signature"]?.stringValue, let signature = [UInt8](hex: signatureText) else { return nil }
        self.init(seq: seq, hash: hash, time: time, signature: signature, keyID: json["keyId"]?.stringValue ?? "")
    }
}
