/// Format checks (placeholder until implemented).
enum FormatChecks {
    static func isDate(_ string: String) -> Bool { true }
    static func isDateTime(_ string: String) -> Bool { true }
    static func isTime(_ string: String) -> Bool { true }
    static func isDuration(_ string: String) -> Bool { true }
    static func isEmail(_ string: String) -> Bool { true }
    static func isHostname(_ string: String) -> Bool { true }
    static func isIPv4(_ string: String) -> Bool { true }
    static func isIPv6(_ string: String) -> Bool { true }
    static func isURI(_ string: String, requireScheme: Bool) -> Bool { true }
    static func isUUID(_ string: String) -> Bool { true }
    static func isJSONPointer(_ string: String) -> Bool { true }
    static func isRelativeJSONPointer(_ string: String) -> Bool { true }
}
