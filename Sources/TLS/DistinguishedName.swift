import Foundation
internal import COpenSSL

/// An X.501 distinguished name: a sequence of relative distinguished names (RDNs), each a set
/// of attribute types and values. Two names are equal when they have the same RDNs in the same
/// order, each with the same attribute types and byte-identical UTF-8 values: no case folding,
/// no whitespace or string-type normalisation (RFC 5280 §7.1 allows those, refex does not need them).
package struct DistinguishedName: Sendable, Hashable, CustomStringConvertible {
    /// One attribute of an RDN: its type as a dotted OID (`2.5.4.3` for CN) and its value in UTF-8.
    package struct Attribute: Sendable, Hashable, Comparable {
        package var type: String
        package var value: [UInt8]

        package static func < (lhs: Attribute, rhs: Attribute) -> Bool {
            lhs.type != rhs.type ? lhs.type < rhs.type : lhs.value.lexicographicallyPrecedes(rhs.value)
        }
    }

    /// In encoding order (the most significant RDN first, as in the certificate's DER, the reverse of
    /// the RFC 4514 string); each RDN's attributes sorted, since an RDN is a set.
    package var rdns: [[Attribute]]

    package init(rdns: [[Attribute]]) {
        self.rdns = rdns.map { $0.sorted() }
    }

    /// Parses an RFC 4514 string, e.g. `CN=Doe\, Jane+UID=jd,O=Police,C=GB`: `,` (or `;`) separates
    /// RDNs, `+` the attributes of a multi-valued RDN; `\` escapes a special character or gives a byte
    /// as two hex digits (`\2C`). Attribute types are keywords (`CN`, `O`, any case) or dotted OIDs.
    /// Spaces around separators are ignored. `#`-hex (BER) values are refused.
    package init(rfc4514 text: String) throws {
        var parser = RFC4514Parser(Array(text.utf8))
        self.init(rdns: try parser.parse().reversed())
    }

    /// The name as RFC 4514 text, with short attribute names where OpenSSL knows one.
    package var description: String {
        rdns.reversed().map { rdn in
            rdn.map { "\(DistinguishedName.keyword(for: $0.type))=\(DistinguishedName.escape($0.value))" }.joined(separator: "+")
        }.joined(separator: ",")
    }

    /// Reads an `X509_NAME`; nil when an entry's value cannot be converted to UTF-8.
    init?(x509Name name: OpaquePointer?) {
        guard let name else { return nil }
        var rdns: [[Attribute]] = []
        var lastSet: Int32 = -1
        for index in 0..<X509_NAME_entry_count(name) {
            guard let entry = X509_NAME_get_entry(name, index),
                  let type = DistinguishedName.dottedOID(X509_NAME_ENTRY_get_object(entry)),
                  let data = X509_NAME_ENTRY_get_data(entry) else { return nil }
            var utf8: UnsafeMutablePointer<UInt8>?
            let length = ASN1_STRING_to_UTF8(&utf8, data)
            guard length >= 0, let utf8 else { return nil }
            let value = Array(UnsafeBufferPointer(start: utf8, count: Int(length)))
            refex_OPENSSL_free(utf8)
            let set = X509_NAME_ENTRY_set(entry)
            if set != lastSet || rdns.isEmpty {
                rdns.append([])
                lastSet = set
            }
            rdns[rdns.count - 1].append(Attribute(type: type, value: value))
        }
        self.init(rdns: rdns)
    }

    static func dottedOID(_ object: OpaquePointer?) -> String? {
        guard let object else { return nil }
        var buffer = [CChar](repeating: 0, count: 128)
        let length = OBJ_obj2txt(&buffer, Int32(buffer.count), object, 1)
        guard length > 0, Int(length) < buffer.count else { return nil }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The keywords of RFC 4514 §3 and the usual RFC 4519 names, lower-cased: looked up before
    /// OpenSSL's names, which are case-sensitive and collide across case (OpenSSL's `uid` is the
    /// pilot uniqueIdentifier, 0.9.2342.19200300.100.1.44, not RFC 4514's `UID`, userId).
    static let standardKeywords: [String: String] = [
        "cn": "2.5.4.3", "commonname": "2.5.4.3", "sn": "2.5.4.4", "surname": "2.5.4.4", "serialnumber": "2.5.4.5",
        "c": "2.5.4.6", "countryname": "2.5.4.6", "l": "2.5.4.7", "localityname": "2.5.4.7",
        "st": "2.5.4.8", "stateorprovincename": "2.5.4.8", "street": "2.5.4.9", "streetaddress": "2.5.4.9",
        "o": "2.5.4.10", "organizationname": "2.5.4.10", "ou": "2.5.4.11", "organizationalunitname": "2.5.4.11",
        "title": "2.5.4.12", "gn": "2.5.4.42", "givenname": "2.5.4.42", "initials": "2.5.4.43",
        "dnqualifier": "2.5.4.46", "pseudonym": "2.5.4.65", "organizationidentifier": "2.5.4.97",
        "dc": "0.9.2342.19200300.100.1.25", "domaincomponent": "0.9.2342.19200300.100.1.25",
        "uid": "0.9.2342.19200300.100.1.1", "userid": "0.9.2342.19200300.100.1.1",
        "emailaddress": "1.2.840.113549.1.9.1",
    ]

    /// `CN`, `cn`, `2.5.4.3`, `commonName` → `2.5.4.3` (RFC 4514 §3; a dotted OID is RFC 4512's
    /// numericoid: two or more arcs, no leading zeros).
    static func oid(forType type: String) -> String? {
        let isDotted = type.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E } && type.first?.isNumber == true
        if isDotted {
            let arcs = type.split(separator: ".", omittingEmptySubsequences: false)
            guard arcs.count >= 2, arcs.allSatisfy({ !$0.isEmpty && ($0 == "0" || !$0.hasPrefix("0")) }) else { return nil }
            guard let object = OBJ_txt2obj(type, 1) else { return nil }
            defer { ASN1_OBJECT_free(object) }
            return dottedOID(object)
        }
        if let standard = standardKeywords[type.lowercased()] { return standard }
        for candidate in [type, type.uppercased(), type.lowercased()] {
            let nid = OBJ_txt2nid(candidate)
            if nid != NID_undef, let object = OBJ_nid2obj(nid) { return dottedOID(object) }
        }
        return nil
    }

    static func keyword(for oid: String) -> String {
        guard let object = OBJ_txt2obj(oid, 1) else { return oid }
        defer { ASN1_OBJECT_free(object) }
        let nid = OBJ_obj2nid(object)
        guard nid != NID_undef, let short = OBJ_nid2sn(nid) else { return oid }
        return String(cString: short)
    }

    /// RFC 4514 §2.4: the characters that must be escaped, and control bytes as `\XX`.
    static func escape(_ value: [UInt8]) -> String {
        var out: [UInt8] = []
        for (index, byte) in value.enumerated() {
            let special = RFC4514.escapable.contains(byte) && byte != 0x20 && byte != 0x23
                || (index == 0 && (byte == 0x20 || byte == 0x23)) || (index == value.count - 1 && byte == 0x20)
            if special {
                out += [0x5C, byte]
            } else if byte < 0x20 || byte == 0x7F {
                out += Array(String(format: "\\%02X", byte).utf8)
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

enum RFC4514 {
    /// Characters a backslash may escape: space " # + , ; < = > \
    static let escapable: Set<UInt8> = [0x20, 0x22, 0x23, 0x2B, 0x2C, 0x3B, 0x3C, 0x3D, 0x3E, 0x5C]
}

/// A distinguished name string that is not RFC 4514.
package struct DistinguishedNameError: Error, Sendable, CustomStringConvertible {
    package var description: String
}

private struct RFC4514Parser {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parse() throws -> [[DistinguishedName.Attribute]] {
        var rdns: [[DistinguishedName.Attribute]] = [[]]
        skipSpaces()
        guard position < bytes.count else { throw DistinguishedNameError(description: "the name is empty") }
        while true {
            let type = try attributeType()
            let value = try attributeValue()
            rdns[rdns.count - 1].append(DistinguishedName.Attribute(type: type, value: value))
            guard position < bytes.count else { break }
            let separator = bytes[position]
            position += 1
            if separator == UInt8(ascii: ",") || separator == UInt8(ascii: ";") { rdns.append([]) }
            skipSpaces()
            guard position < bytes.count else {
                throw DistinguishedNameError(description: "the name ends with a separator")
            }
        }
        for rdn in rdns {
            if Set(rdn.map(\.type)).count != rdn.count {
                throw DistinguishedNameError(description: "a multi-valued RDN repeats an attribute type")
            }
        }
        return rdns
    }

    private mutating func skipSpaces() {
        while position < bytes.count, bytes[position] == 0x20 { position += 1 }
    }

    private mutating func attributeType() throws -> String {
        let start = position
        while position < bytes.count, bytes[position] != UInt8(ascii: "=") {
            let byte = bytes[position]
            if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ";") || byte == UInt8(ascii: "\\") {
                throw DistinguishedNameError(description: "an attribute has no '=' (escape a literal comma as \\,)")
            }
            position += 1
        }
        guard position < bytes.count else { throw DistinguishedNameError(description: "an attribute has no '='") }
        let type = String(decoding: bytes[start..<position], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        position += 1
        guard !type.isEmpty else { throw DistinguishedNameError(description: "an attribute has no type before '='") }
        guard let oid = DistinguishedName.oid(forType: type) else {
            throw DistinguishedNameError(description: "unknown attribute type \(type)")
        }
        return oid
    }

    private mutating func attributeValue() throws -> [UInt8] {
        skipSpaces()
        if position < bytes.count, bytes[position] == UInt8(ascii: "#") {
            throw DistinguishedNameError(description: "#-hex (BER) attribute values are not supported; write the value as text")
        }
        var value: [UInt8] = []
        var escapedLength = 0  // the value up to its last escaped byte: escaped trailing spaces stay
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ";") { break }
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == 0 {
                throw DistinguishedNameError(description: "an unescaped \(byte == 0 ? "NUL" : String(UnicodeScalar(byte))) in a value (escape it with \\)")
            }
            position += 1
            if byte == UInt8(ascii: "\\") {
                guard position < bytes.count else { throw DistinguishedNameError(description: "the name ends with a lone backslash") }
                let next = bytes[position]
                if let high = hexValue(next), position + 1 < bytes.count, let low = hexValue(bytes[position + 1]) {
                    value.append(high << 4 | low)
                    position += 2
                } else if RFC4514.escapable.contains(next) {
                    value.append(next)
                    position += 1
                } else {
                    throw DistinguishedNameError(description: "\\\(String(UnicodeScalar(next))) is not an RFC 4514 escape")
                }
                escapedLength = value.count
            } else {
                value.append(byte)
            }
        }
        while value.count > escapedLength, value.last == 0x20 { value.removeLast() }
        guard !value.isEmpty else { throw DistinguishedNameError(description: "an attribute value is empty") }
        guard String(validating: value, as: UTF8.self) != nil, !value.contains(0) else {
            throw DistinguishedNameError(description: "an attribute value is not UTF-8")
        }
        return value
    }

    private func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }
}
