/// The formats refex can assert; other format names are annotations only.
enum FormatKind: String, Sendable, CaseIterable {
    case date
    case dateTime = "date-time"
    case time
    case duration
    case email
    case hostname
    case ipv4
    case ipv6
    case uri
    case uriReference = "uri-reference"
    case uuid
    case jsonPointer = "json-pointer"
    case relativeJSONPointer = "relative-json-pointer"
    case regex

    /// A noun phrase for messages: "string is not a valid \(noun)".
    var noun: String {
        switch self {
        case .date: "date (YYYY-MM-DD)"
        case .dateTime: "RFC 3339 date-time"
        case .time: "RFC 3339 time with offset"
        case .duration: "ISO 8601 duration"
        case .email: "email address"
        case .hostname: "host name"
        case .ipv4: "IPv4 address"
        case .ipv6: "IPv6 address"
        case .uri: "absolute URI"
        case .uriReference: "URI reference"
        case .uuid: "UUID"
        case .jsonPointer: "JSON Pointer"
        case .relativeJSONPointer: "relative JSON Pointer"
        case .regex: "ECMA-262 regular expression"
        }
    }

    /// A valid value, shown in messages for the formats whose noun does not already show one.
    var example: String? {
        switch self {
        case .dateTime: "2026-11-29T14:05:00Z or 2026-11-29T14:05:00+01:00"
        case .time: "14:05:00Z"
        case .duration: "P3D or PT2H30M"
        case .email: "name@example.org"
        case .uuid: "0190f7a2-52a8-7c1e-9a35-6f2b1d0c4e81"
        default: nil
        }
    }

    /// Whether `string` is valid in this format.
    func isValid(_ string: String) -> Bool {
        switch self {
        case .date: FormatChecks.isDate(string)
        case .dateTime: FormatChecks.isDateTime(string)
        case .time: FormatChecks.isTime(string)
        case .duration: FormatChecks.isDuration(string)
        case .email: FormatChecks.isEmail(string)
        case .hostname: FormatChecks.isHostname(string)
        case .ipv4: FormatChecks.isIPv4(string)
        case .ipv6: FormatChecks.isIPv6(string)
        case .uri: FormatChecks.isURI(string, requireScheme: true)
        case .uriReference: FormatChecks.isURI(string, requireScheme: false)
        case .uuid: FormatChecks.isUUID(string)
        case .jsonPointer: FormatChecks.isJSONPointer(string)
        case .relativeJSONPointer: FormatChecks.isRelativeJSONPointer(string)
        case .regex: ECMARegex.isValid(string)
        }
    }
}
