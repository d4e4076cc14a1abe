import Crypto
import JSON

/// Recomputes the disclosure log's hash chain entry by entry and names the first entry that
/// fails, and why: altered, missing, reordered, or cut off after a signed checkpoint.
package struct LogVerifier: Sendable {
    private var expectedSeq: Int64 = 1
    /// nil: a batch that starts mid-log, whose link to what precedes it is checked by the caller.
    private var previousHash: String? = LogEntry.genesisHash
    /// For a batch started mid-log: the first entry's prevHash, to link it to the batch before.
    package private(set) var firstPrevHash: String?
    package let expected: [Int64: Checkpoint]
    /// A checkpoint an auditor kept, checked on its own: a stored checkpoint at the same entry
    /// (which whoever can write the store could replace) never stands in for it.
    package let kept: Checkpoint?
    package private(set) var count: Int64 = 0
    package private(set) var failure: LogVerificationFailure?

    /// `checkpoints` (the stored ones) and `kept` are checked against the entries they name
    /// (their signatures are checked apart). A pruned log starts after `anchor`, which must be
    /// one of the signed checkpoints; a kept checkpoint older than it can no longer be checked,
    /// one at it must match it.
    package init(checkpoints: [Checkpoint], kept: Checkpoint? = nil, anchor: (seq: Int64, hash: String)? = nil) {
        expected = Dictionary(checkpoints.map { ($0.seq, $0) }, uniquingKeysWith: { first, _ in first })
        self.kept = kept
        if let anchor {
            expectedSeq = anchor.seq + 1
            previousHash = anchor.hash
            if checkpoints.first(where: { $0.seq == anchor.seq })?.hash != anchor.hash {
                failure = LogVerificationFailure(
                    seq: anchor.seq, reason: "the log was pruned at entry \(anchor.seq) without a matching signed checkpoint"
                )
            } else if let kept, kept.seq == anchor.seq, kept.hash != anchor.hash {
                failure = LogVerificationFailure(
                    seq: anchor.seq, reason: "the log was pruned at entry \(anchor.seq), which is not the entry in the checkpoint you kept"
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

    /// A verifier for the entries after `seq`, whose hash is not known here (a batch verified in parallel).
    package init(batchAfter seq: Int64, checkpoints: [Int64: Checkpoint], kept: Checkpoint?) {
        expected = checkpoints
        self.kept = kept
        expectedSeq = seq + 1
        previousHash = nil
    }

    private mutating func problem(_ entry: StoredLogEntry) -> String? {
        if entry.seq != expectedSeq {
            return "entry \(expectedSeq) is missing: the log goes from entry \(expectedSeq - 1) to entry \(entry.seq)"
        }
        let seq = entry.seq
        guard SHA256.hash(entry.canonical).hexString == entry.hash else {
            return "entry \(seq) was altered: its content does not match its hash"
        }
        let fields: (seq: Int64?, prevHash: String?, event: String?, actor: String?)
        let indexedAgree: Bool
        let (scanned, verdict) = CanonicalEntryScanner.scan(entry.canonical)
        switch verdict {
        case .notCanonical:
            // Not canonical, or not JSON at all: either way not what refex wrote.
            if (try? JSONValue.parse(entry.canonical)) == nil { return "entry \(seq) was altered: it is not a log entry" }
            return "entry \(seq) was altered: it is not in canonical form"
        case .canonical:
            func text(_ range: Range<Int>?) -> String? {
                range.map { String(decoding: entry.canonical[$0], as: UTF8.self) }
            }
            fields = (scanned?.seq, text(scanned?.prevHash), text(scanned?.event), text(scanned?.actor))
            indexedAgree = scanned.map { Self.agree(entry, $0) } ?? false
        case .unsure:
            guard let parsed = try? JSONValue.parse(entry.canonical) else {
                return "entry \(seq) was altered: it is not a log entry"
            }
            guard CanonicalForm.isCanonical(entry.canonical) else {
                return "entry \(seq) was altered: it is not in canonical form"
            }
            fields = (parsed["seq"]?.int64Value, parsed["prevHash"]?.stringValue, parsed["event"]?.stringValue, parsed["actor"]?.stringValue)
            let columns = entry.indexed
            indexedAgree = parsed["time"]?.stringValue == Timestamp(milliseconds: columns.timeMilliseconds).description
                && parsed["referralId"]?.stringValue == columns.referralID && parsed["subjectId"]?.stringValue == columns.subjectID
                && parsed["disclosureId"]?.stringValue == columns.disclosureID && parsed["recipient"]?.stringValue == columns.recipientID
                && parsed["lawfulBasis"]?.stringValue == columns.lawfulBasis
        }
        guard fields.seq == seq else {
            let other = fields.seq.map(String.init) ?? "?"
            return "entry \(seq) holds the content of entry \(other): entries were reordered or replaced"
        }
        if let expectedPrevious = previousHash {
            guard fields.prevHash == expectedPrevious else {
                return "entry \(seq) does not follow entry \(seq - 1): the chain is broken there (an entry was altered, removed or inserted)"
            }
        } else {
            firstPrevHash = fields.prevHash
        }
        guard fields.event == entry.event, fields.actor == entry.actor, indexedAgree else {
            return "entry \(seq) was altered: its indexed columns disagree with its content (a filter would show it wrongly or hide it)"
        }
        if let checkpoint = expected[seq], checkpoint.hash != entry.hash {
            return "entry \(seq) is not the entry signed at checkpoint \(seq): the log up to it was changed"
        }
        if let kept, kept.seq == seq, kept.hash != entry.hash {
            return "entry \(seq) is not the entry in the checkpoint you kept: the log up to it was changed"
        }
        return nil
    }

    /// Whether the columns filters select on say what the content says.
    private static func agree(_ entry: StoredLogEntry, _ fields: CanonicalEntryScanner.Fields) -> Bool {
        let bytes = entry.canonical
        func same(_ range: Range<Int>?, _ column: String?) -> Bool {
            guard let range else { return column == nil }
            guard let column else { return false }
            return bytes[range].elementsEqual(column.utf8)
        }
        let columns = entry.indexed
        return same(fields.referralID, columns.referralID) && same(fields.subjectID, columns.subjectID)
            && same(fields.disclosureID, columns.disclosureID) && same(fields.recipientID, columns.recipientID)
            && same(fields.lawfulBasis, columns.lawfulBasis)
            && fields.time.flatMap { millisecondsSince1970(bytes[$0]) } == columns.timeMilliseconds
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, the form entries are written in, as milliseconds since 1970;
    /// nil for anything else. (Formatting the column instead costs more than the rest of the check.)
    static func millisecondsSince1970(_ text: ArraySlice<UInt8>) -> Int64? {
        guard text.count == 24 else { return nil }
        let base = text.startIndex
        func digits(_ offset: Int, _ count: Int) -> Int64? {
            var value: Int64 = 0
            for index in base + offset..<base + offset + count {
                let byte = text[index]
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            return value
        }
        guard text[base + 4] == 0x2D, text[base + 7] == 0x2D, text[base + 10] == 0x54, text[base + 13] == 0x3A,
              text[base + 16] == 0x3A, text[base + 19] == 0x2E, text[base + 23] == 0x5A,
              let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2), let hour = digits(11, 2),
              let minute = digits(14, 2), let second = digits(17, 2), let millis = digits(20, 3),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm).
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return ((days * 86_400 + hour * 3600 + minute * 60 + second) * 1000) + millis
    }

    /// Continues from the end of `batch`, which followed this verifier's last entry.
    mutating func absorb(_ batch: LogVerifier) {
        count += batch.count
        expectedSeq = batch.expectedSeq
        previousHash = batch.previousHash
        failure = batch.failure
    }

    /// After the last entry: a checkpoint beyond the end means the tail was cut off.
    package mutating func finish() {
        guard failure == nil else { return }
        let last = expectedSeq - 1
        if let kept, kept.seq > last {
            failure = LogVerificationFailure(
                seq: last + 1,
                reason: "the log ends at entry \(last), but the checkpoint you kept covers entry \(kept.seq): entries \(last + 1)…\(kept.seq) were removed"
            )
            return
        }
        if let beyond = expected.keys.filter({ $0 > last }).min() {
            failure = LogVerificationFailure(
                seq: last + 1,
                reason: "the log ends at entry \(last), but a signed checkpoint covers entry \(beyond): entries \(last + 1)…\(beyond) were removed"
            )
        }
    }

    /// The chain verified, but the store holds rows the log has no entry for (or the reverse).
    mutating func failIncomplete(_ reason: String) {
        guard failure == nil else { return }
        failure = LogVerificationFailure(seq: expectedSeq, reason: reason)
    }

    package var lastSeq: Int64 { expectedSeq - 1 }
    package var lastHash: String { previousHash ?? "" }
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
    /// The log was pruned by retention through this entry (it verifies from the checkpoint there).
    package var prunedThrough: Int64?
    /// The kept checkpoint names an entry retention has since pruned: it could not be checked.
    package var keptCheckpointPruned: Bool = false
    package var failure: LogVerificationFailure?

    package var isValid: Bool { failure == nil }
}

extension LogVerifier {
    /// Takes on a batch verified on its own: its first entry must follow this verifier's last.
    mutating func adopt(_ batch: LogVerifier, firstEntry: StoredLogEntry) {
        guard failure == nil else { return }
        if firstEntry.seq != lastSeq + 1 {
            failure = LogVerificationFailure(
                seq: lastSeq + 1, reason: "entry \(lastSeq + 1) is missing: the log goes from entry \(lastSeq) to entry \(firstEntry.seq)"
            )
            return
        }
        if let batchFailure = batch.failure, batch.count == 0 {
            failure = batchFailure
            return
        }
        if batch.firstPrevHash != lastHash {
            failure = LogVerificationFailure(
                seq: firstEntry.seq,
                reason: "entry \(firstEntry.seq) does not follow entry \(firstEntry.seq - 1): the chain is broken there (an entry was altered, removed or inserted)"
            )
            return
        }
        absorb(batch)
    }
}
