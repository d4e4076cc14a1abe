import Crypto
import JSON

/// Recomputes the disclosure log's hash chain entry by entry and names the first entry that
/// fails, and why: altered, missing, reordered, or cut off after a signed checkpoint.
package struct LogVerifier: Sendable {
    private var expectedSeq: Int64 = 1
    private var previousHash = LogEntry.genesisHash
    private let expected: [Int64: Checkpoint]
    package private(set) var count: Int64 = 0
    package private(set) var failure: LogVerificationFailure?

    /// `checkpoints` are checked against the entries they name (their signatures are checked apart).
    /// A pruned log starts after `anchor`, which must be one of the signed checkpoints.
    package init(checkpoints: [Checkpoint], anchor: (seq: Int64, hash: String)? = nil) {
        expected = Dictionary(checkpoints.map { ($0.seq, $0) }, uniquingKeysWith: { first, _ in first })
        if let anchor {
            expectedSeq = anchor.seq + 1
            previousHash = anchor.hash
            if checkpoints.first(where: { $0.seq == anchor.seq })?.hash != anchor.hash {
                failure = LogVerificationFailure(
                    seq: anchor.seq, reason: "the log was pruned at entry \(anchor.seq) without a matching signed checkpoint"
                )
            }
        }
    }

    /// Checks the next entry; false once the first failure is found.
    package mutating func check(_ entry: StoredLogEntry) -> Bool {
        guard failure == nil else { return false }
        if let reason = problem(entry) {
            failure = LogVerificationFailure(seq: min(entry.seq, expectedSeq), reason: reason)
            return false
        }
        count += 1
        expectedSeq = entry.seq + 1
        previousHash = entry.hash
        return true
    }

    private func problem(_ entry: StoredLogEntry) -> String? {
        if entry.seq != expectedSeq {
            return "entry \(expectedSeq) is missing: the log goes from entry \(expectedSeq - 1) to entry \(entry.seq)"
        }
        let seq = entry.seq
        guard SHA256.hash(entry.canonical).hexString == entry.hash else {
            return "entry \(seq) was altered: its content does not match its hash"
        }
        guard let parsed = try? JSONValue.parse(entry.canonical) else {
            return "entry \(seq) was altered: it is not a log entry"
        }
        guard parsed["seq"]?.int64Value == seq else {
            let other = parsed["seq"]?.int64Value.map(String.init) ?? "?"
            return "entry \(seq) holds the content of entry \(other): entries were reordered or replaced"
        }
        guard parsed.canonicalized() == entry.canonical else {
            return "entry \(seq) was altered: it is not in canonical form"
        }
        guard parsed["prevHash"]?.stringValue == previousHash else {
            return "entry \(seq) does not follow entry \(seq - 1): the chain is broken there (an entry was altered, removed or inserted)"
        }
        guard parsed["event"]?.stringValue == entry.event, parsed["actor"]?.stringValue == entry.actor else {
            return "entry \(seq) was altered: its indexed columns disagree with its content"
        }
        if let checkpoint = expected[seq], checkpoint.hash != entry.hash {
            return "entry \(seq) is not the entry signed at checkpoint \(seq): the log up to it was changed"
        }
        return nil
    }

    /// After the last entry: a checkpoint beyond the end means the tail was cut off.
    package mutating func finish() {
        guard failure == nil else { return }
        let last = expectedSeq - 1
        if let beyond = expected.keys.filter({ $0 > last }).min() {
            failure = LogVerificationFailure(
                seq: last + 1,
                reason: "the log ends at entry \(last), but a signed checkpoint covers entry \(beyond): entries \(last + 1)…\(beyond) were removed"
            )
        }
    }

    package var lastSeq: Int64 { expectedSeq - 1 }
    package var lastHash: String { previousHash }
}

/// The first entry that failed verification, and why.
package struct LogVerificationFailure: Sendable, Hashable, CustomStringConvertible {
    package var seq: Int64
    package var reason: String
    package var description: String { reason }
}

/// What `refex log verify` and `GET /v1/disclosures/verify` report.
package struct LogVerificationReport: Sendable {
    package var entries: Int64
    package var lastSeq: Int64
    package var lastHash: String
    package var checkpointsChecked: Int
    /// Whether checkpoint signatures were checked (false when no public key was available).
    package var signaturesChecked: Bool
    package var lastCheckpoint: Checkpoint?
    package var failure: LogVerificationFailure?

    package var isValid: Bool { failure == nil }

    package var json: JSONValue {
        var object: JSONObject = [
            "valid": .bool(isValid),
            "entries": .number(JSONNumber(entries)),
            "lastSeq": .number(JSONNumber(lastSeq)),
            "lastHash": .string(lastHash),
            "checkpointsChecked": .number(JSONNumber(checkpointsChecked)),
            "signaturesChecked": .bool(signaturesChecked),
        ]
        object["lastCheckpoint"] = lastCheckpoint.map { $0.json(publicKey: nil) } ?? .null
        if let failure {
            object["failure"] = ["seq": .number(JSONNumber(failure.seq)), "reason": .string(failure.reason)]
        }
        return .object(object)
    }
}
