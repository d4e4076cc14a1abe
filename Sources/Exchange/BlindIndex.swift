import Crypto
import Foundation
import JSON

/// What a subject access request can name a person by, each searchable through its own blind index.
package enum SubjectKeyKind: String, Sendable, Hashable, CaseIterable, Comparable {
    /// The referring partner's `referenceId`.
    case reference
    /// The crime reference (`/offence/crimeReference`).
    case crimeReference = "crime-reference"
    /// The name (given or preferred, and family) with the date of birth.
    case nameAndDateOfBirth = "name-dob"

    package static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// One blind-index entry: a keyed digest of a normalised value, the subject and the referral it came from.
package struct SubjectIndexEntry: Sendable, Hashable {
    package var kind: SubjectKeyKind
    package var digest: [UInt8]
    package var subjectID: String
    package var referralID: String

    package init(kind: SubjectKeyKind, digest: [UInt8], subjectID: String, referralID: String) {
        self.kind = kind
        self.digest = digest
        self.subjectID = subjectID
        self.referralID = referralID
    }
}

/// Keyed blind indexes: HMAC-SHA256, under a key derived from the master key with its own label,
/// of a normalised value. Equal values give equal digests, so a subject can be found by what a
/// request names; without the master key a digest tells nothing, not even which values are equal
/// across two stores. The digests are personal data of a kind (they single a person out), so they
/// live beside the subject keys and are deleted with the subject.
///
/// Normalisation, so that what an officer types finds what a partner sent:
/// - references (`referenceId`, crime reference): white space removed, upper case;
/// - names: compatibility decomposition (NFKD), accents and other combining marks dropped, lower
///   case, only letters and digits kept ("Zoë O'Brien-Smith" → `zoe` and `obriensmith`); the given
///   name and the family name are kept apart; the preferred name is indexed as a second given name;
/// - the date of birth as `YYYY-MM-DD`. Without a date of birth a referral has no name index.
package struct BlindIndex: Sendable {
    private let key: [UInt8]

    package init(keyring: Keyring) {
        key = keyring.derivedKey(label: "refex subject blind index v1")
    }

    /// The digest of `parts` (already normalised) under `kind`.
    package func digest(_ kind: SubjectKeyKind, _ parts: [String]) -> [UInt8] {
        var message = Array(kind.rawValue.utf8)
        for part in parts {
            message.append(0)
            message.append(contentsOf: part.utf8)
        }
        return HMACSHA256.authenticationCode(for: message, key: key)
    }

    /// The entries for one referral document (the intake's and rectification's hook).
    package func entries(for document: JSONValue, subjectID: String, referralID: String) -> [SubjectIndexEntry] {
        var out: [SubjectIndexEntry] = []
        func add(_ kind: SubjectKeyKind, _ parts: [String]) {
            let entry = SubjectIndexEntry(kind: kind, digest: digest(kind, parts), subjectID: subjectID, referralID: referralID)
            if !out.contains(entry) { out.append(entry) }
        }
        if let reference = document["referenceId"]?.stringValue.map(BlindIndex.normalisedReference), !reference.isEmpty {
            add(.reference, [reference])
        }
        if let crime = document["offence"]?["crimeReference"]?.stringValue.map(BlindIndex.normalisedReference), !crime.isEmpty {
            add(.crimeReference, [crime])
        }
        let name = document["subject"]?["name"]
        if let birth = document["subject"]?["dateOfBirth"]?.stringValue.flatMap(BlindIndex.normalisedDate),
           let family = name?["family"]?.stringValue.map(BlindIndex.normalisedName), !family.isEmpty {
            for given in [name?["given"]?.stringValue, name?["preferred"]?.stringValue] {
                guard let given else { continue }
                add(.nameAndDateOfBirth, [BlindIndex.normalisedName(given), family, birth])
            }
            if name?["given"]?.stringValue == nil && name?["preferred"]?.stringValue == nil {
                add(.nameAndDateOfBirth, ["", family, birth])
            }
        }
        return out
    }

    /// White space removed, upper case.
    package static func normalisedReference(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { !$0.properties.isWhitespace })).uppercased()
    }

    /// NFKD, combining marks dropped, lower case, letters and digits only.
    package static func normalisedName(_ text: String) -> String {
        // ASCII (most names here): compatibility decomposition changes nothing, and the letters
        // and digits are exactly A–Z (lowercased), a–z and 0–9; no Foundation round trip.
        let ascii: String? = text.utf8.withContiguousStorageIfAvailable { bytes in
            guard !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
            var kept: [UInt8] = []
            kept.reserveCapacity(bytes.count)
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): kept.append(byte + 0x20)
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): kept.append(byte)
                default: continue
                }
            }
            return String(decoding: kept, as: UTF8.self)
        } ?? nil
        return ascii ?? normalisedNameByUnicode(text)
    }

    /// `normalisedName` by Unicode's rules, for any text.
    static func normalisedNameByUnicode(_ text: String) -> String {
        let decomposed = text.decomposedStringWithCompatibilityMapping.lowercased()
        var scalars = String.UnicodeScalarView()
        for scalar in decomposed.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .otherLetter, .modifierLetter, .decimalNumber:
                scalars.append(scalar)
            default:
                continue
            }
        }
        return String(scalars)
    }

    /// A calendar date as `YYYY-MM-DD`, or nil when `text` is not one.
    package static func normalisedDate(_ text: String) -> String? {
        let trimmed = text.trimmingWhitespace()
        let parts = trimmed.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), day >= 1 else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard day <= days else { return nil }
        return trimmed
    }
}
