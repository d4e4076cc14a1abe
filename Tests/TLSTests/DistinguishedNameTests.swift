import Foundation
import XCTest
@testable import TLS

/// RFC 4514 strings at their edges, parsed into the names a certificate is compared with.
final class DistinguishedNameTests: XCTestCase {
    private func name(_ text: String) throws -> DistinguishedName { try DistinguishedName(rfc4514: text) }

    private func value(_ text: String) throws -> String {
        let rdn = try XCTUnwrap(try name(text).rdns.first?.first, text)
        return String(decoding: rdn.value, as: UTF8.self)
    }

    func testEscapedSpacesAndNumberSignsAreKeptAndUnescapedOuterSpacesAreNot() throws {
        XCTAssertEqual(try value(#"CN=\ lead"#), " lead")
        XCTAssertEqual(try value(#"CN=\20lead"#), " lead")
        XCTAssertEqual(try value(#"CN=trail\ "#), "trail ")
        XCTAssertEqual(try value(#"CN=trail\20"#), "trail ")
        XCTAssertEqual(try value(#"CN=trail\  "#), "trail ", "an unescaped space after an escaped one is not part of the value")
        XCTAssertEqual(try value("CN=  x  "), "x")
        XCTAssertEqual(try value(##"CN=\#x"##), "#x")
        XCTAssertEqual(try value(#"CN=\23x"#), "#x")
        XCTAssertEqual(try value("CN=a#b"), "a#b")
        XCTAssertEqual(try value("CN=a=b"), "a=b")
        XCTAssertThrowsError(try name("CN=#04024869"), "a #-hex value is BER, not text")
    }

    func testABackslashIsTheSameWrittenEitherWay() throws {
        XCTAssertEqual(try value(#"CN=a\\b"#), #"a\b"#)
        XCTAssertEqual(try name(#"CN=a\\b"#), try name(#"CN=a\5Cb"#))
        XCTAssertEqual(try name(#"CN=a\\b"#), try name(#"CN=a\5cb"#))
        XCTAssertNotEqual(try name(#"CN=a\\5Cb"#), try name(#"CN=a\5Cb"#), #"\\5C is a backslash then "5C""#)
        XCTAssertEqual(try value(#"CN=a\\5Cb"#), #"a\5Cb"#)
        for bad in [#"CN=a\"#, #"CN=a\5"#, #"CN=a\q"#, #"CN=a\é"#] { XCTAssertThrowsError(try name(bad), bad) }
    }

    func testMultibyteUTF8IsComparedAsBytesWrittenRawOrEscaped() throws {
        XCTAssertEqual(try name("CN=Zoë Ñúñez"), try name(#"CN=Zo\C3\AB \C3\91\C3\BA\C3\B1ez"#))
        XCTAssertEqual(try name("CN=Zoë"), try name(#"CN=Zo\c3\ab"#))
        XCTAssertNotEqual(try name("CN=Zoë"), try name("CN=ZOË"), "no case folding")
        XCTAssertNotEqual(try name("CN=Zoë"), try name("CN=Zoe\u{308}"), "no Unicode normalisation: another byte sequence is another name")
        XCTAssertThrowsError(try name(#"CN=Zo\C3"#), "half a UTF-8 sequence")
    }

    func testAttributeTypesAreCaseInsensitiveKeywordsOrDottedOIDs() throws {
        let expected = try name("CN=x,O=y,C=GB")
        for spelling in [
            "cn=x,o=y,c=GB", "Cn=x,O=y,c=GB", "2.5.4.3=x,2.5.4.10=y,2.5.4.6=GB", "commonName=x,organizationName=y,countryName=GB",
            "COMMONNAME=x,ORGANIZATIONNAME=y,COUNTRYNAME=GB", "commonname=x,organizationname=y,countryname=GB", " CN = x , O = y , C = GB ",
        ] {
            XCTAssertEqual(try name(spelling), expected, spelling)
        }
        XCTAssertEqual(try name("dc=example,DC=org"), try name("0.9.2342.19200300.100.1.25=example,domainComponent=org"))
        XCTAssertEqual(try name("uid=jd,ou=People"), try name("UID=jd,organizationalUnitName=People"))
        XCTAssertEqual(try name("1.3.6.1.4.1.55555.7=x"), try name("1.3.6.1.4.1.55555.7=x"))
        for bad in ["XX=y", "2.5..4=x", "2.5.4.3.=x", "=x", "C N=x"] { XCTAssertThrowsError(try name(bad), bad) }
    }
}
