import Console
import XCTest

/// One escaping function per context the console writes data into, each tried with the values
/// an attacker would send: markup, an attribute break-out, a `javascript:` URL, an RTL override,
/// NUL.
final class EscapeTests: XCTestCase {
    static let hostile = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "javascript:alert(document.cookie)",
        "Alex\u{202E}elpmaxE",
        "nul\u{0}byte",
        "it's & <b>",
    ]

    func testElementTextHoldsNoMarkupAndShowsInvisibleCharacters() {
        XCTAssertEqual(Escape.text("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;")
        XCTAssertEqual(Escape.text("\"><img src=x onerror=alert(1)>"), "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;")
        XCTAssertEqual(Escape.text("Alex\u{202E}elpmaxE"), "Alex[U+202E]elpmaxE")
        XCTAssertEqual(Escape.text("nul\u{0}byte"), "nul[U+0000]byte")
        XCTAssertEqual(Escape.text("a\u{2066}b\u{2069}c\u{200F}"), "a[U+2066]b[U+2069]c[U+200F]")
        XCTAssertEqual(Escape.text("it's & <b>"), "it&#39;s &amp; &lt;b&gt;")
        // Text that needs nothing is left as it is, line breaks and all.
        XCTAssertEqual(Escape.text("Line one\nLine two – naïve"), "Line one\nLine two – naïve")
        for value in Self.hostile {
            let escaped = Escape.text(value)
            XCTAssertFalse(escaped.contains("<") || escaped.contains(">") || escaped.contains("\"") || escaped.contains("\u{0}") || escaped.contains("\u{202E}"), value)
        }
    }

    func testAttributeValuesCannotBeLeft() {
        XCTAssertEqual(Escape.attribute("\"><img src=x onerror=alert(1)>"), "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;")
        XCTAssertEqual(Escape.attribute("a'b"), "a&#39;b")
        XCTAssertEqual(Escape.attribute("tab\there\nnew"), "tab&#9;here&#10;new")
        for value in Self.hostile {
            let escaped = Escape.attribute(value)
            XCTAssertFalse(escaped.contains("\"") || escaped.contains("'") || escaped.contains("<") || escaped.contains("\u{0}"), value)
        }
    }

    func testURLComponentsCannotNameASchemeOrLeaveTheirSegment() {
        XCTAssertEqual(Escape.urlComponent("javascript:alert(1)"), "javascript%3Aalert%281%29")
        XCTAssertEqual(Escape.urlComponent("../../v1/subjects?x=1#y"), "..%2F..%2Fv1%2Fsubjects%3Fx%3D1%23y")
        XCTAssertEqual(Escape.urlComponent("a b\u{202E}"), "a%20b%E2%80%AE")
        XCTAssertEqual(Escape.urlComponent("01a22a2c-61f3-78a3"), "01a22a2c-61f3-78a3")
        // A console URL always starts with /console/, whatever it is made of.
        let url = ConsoleURL(["subjects", "javascript:alert(1)"], query: [("note", "\"><script>")])
        XCTAssertEqual(url.text, "/console/subjects/javascript%3Aalert%281%29?note=%22%3E%3Cscript%3E")
    }

    func testInterpolationEscapesByDefault() {
        let value = "<script>alert(1)</script>"
        let html: HTML = "<p title=\"\(attribute: "\"onmouseover=x")\">\(value)</p>"
        XCTAssertEqual(html.markup, "<p title=\"&quot;onmouseover=x\">&lt;script&gt;alert(1)&lt;/script&gt;</p>")
        let inner: HTML = "<b>bold</b>"
        XCTAssertEqual(("<p>\(inner)</p>" as HTML).markup, "<p><b>bold</b></p>", "markup already built goes in as it is")
        let optional: String? = nil
        XCTAssertEqual(("<p>\(optional)</p>" as HTML).markup, "<p></p>")
    }
}
