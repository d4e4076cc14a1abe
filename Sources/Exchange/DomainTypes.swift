import Foundation
import Timekeeping

/// Who asks: a partner id and whether it holds the admin role.
package struct Actor: Sendable, Hashable {
    package var id: String
    package var isAdmin: Bool

    package init(id: String, isAdmin: Bool = false) {
        self.id = id
        self.isAdmin = isAdmin
    }

    /// refex itself (delivery, retention).
    package static let system = Actor(id: "system")
}

/// The lawful basis of a disclosure (UK GDPR Art. 6(1)).
package enum LawfulBasis: String, Sendable, Hashable, CaseIterable {
    case consent
    case vitalInterests = "vital-interests"
    case legalObligation = "legal-obligation"
    case publicTask = "public-task"
    case legitimateInterests = "legitimate-interests"
}

/// Where a disclosure stands.
package enum DisclosureState: String, Sendable, Hashable, CaseIterable {
    /// Authorised and waiting in the outbox.
    case queued
    /// Withheld until consent covers it (or an override authorises it).
    case awaitingConsent = "awaiting-consent"
    /// Not made: no recipient provides the service, or the subject's processing is restricted.
    case refused
    /// Authorised or waiting, then stopped before delivery (consent withdrawn, subject erased or withdrew).
    case cancelled
    /// Received by the recipient; `reason` set once the recipient was sent an erasure notice for it.
    case delivered
    /// Given up on; `reason` says what the recipient or the transport answered.
    case failed
}

/// How a recipient gets its disclosures.
package enum DeliveryMode: Sendable, Hashable {
    /// refex POSTs to `endpoint` over mutual TLS, checking the server against `caPath`.
    case push(endpoint: String, caPath: String)
    /// The recipient pulls from its mailbox, authenticated as partner `partnerID`.
    case pull(partnerID: String)
}

/// A specialist provider or translation service, as configured.
package struct Recipient: Sendable, Hashable {
    package var id: String
    package var name: String
    /// Services it provides (the referral's `supportNeeds[].service`).
    package var services: Set<String>
    /// JSON Pointers it may receive; `*` matches any array index or member name.
    package var fields: [String]
    /// Special categories it may receive (the schema's `x-refex-category` values).
    package var categories: Set<String>
    package var delivery: DeliveryMode

    package init(id: String, name: String, services: Set<String>, fields: [String], categories: Set<String>, delivery: DeliveryMode) {
        self.id = id
        self.name = name
        self.services = services
        self.fields = fields
        self.categories = categories
        self.delivery = delivery
    }
}

/// Milliseconds since 1970, the exchange's unit of time.
package struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    package var milliseconds: Int64

    package init(milliseconds: Int64) { self.milliseconds = milliseconds }

    package init(_ date: Date) { milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    package static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    package var date: Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// RFC 3339 in UTC with milliseconds: `2026-11-29T07:16:37.123Z`.
    package var description: String {
        RFC3339.string(millisecondsSinceEpoch: milliseconds)
    }

    /// Parses RFC 3339 (`format: date-time`, already validated): any offset, optional fraction.
    package init?(rfc3339 text: String) {
        let scalars = Array(text.utf8)
        guard scalars.count >= 20 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= scalars.count else { return nil }
            var value = 0
            for byte in scalars[from..<from + count] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2) else { return nil }
        var index = 19
        var millis = 0
        if index < scalars.count, scalars[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < scalars.count, scalars[index] >= 0x30, scalars[index] <= 0x39 {
                if digits < 3 { millis = millis * 10 + Int(scalars[index] - 0x30) }
                digits += 1
                index += 1
            }
            if digits < 3 { for _ in digits..<3 { millis *= 10 } }
        }
        guard index < scalars.count else { return nil }
        var offsetSeconds = 0
        switch scalars[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"): break
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard let oh = number(index + 1, 2), let om = number(index + 4, 2) else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (scalars[index] == UInt8(ascii: "+") ? 1 : -1)
        default: return nil
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(min(second, 59))
        let epoch = Int64(timegm(&parts)) - Int64(offsetSeconds)
        milliseconds = epoch * 1000 + Int64(millis)
    }
}
