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

    func testConsoleURLsJoinSegmentsAndSkipEmptyQueryValues() {
        XCTAssertEqual(ConsoleURL([]).text, "/console/")
        XCTAssertEqual(ConsoleURL(["log"], query: [("subject", ""), ("event", "log.viewed"), ("actor", "a b")]).text, "/console/log?event=log.viewed&actor=a%20b")
        XCTAssertEqual(ConsoleURL(["subjects", "x"], trailingSlash: true).text, "/console/subjects/x/")
        XCTAssertEqual(ConsoleURL(["a", "", "b"]).text, "/console/a//b")
    }

    func testShortIDsCutAtTheLengthWhateverTheyAreMadeOf() {
        XCTAssertEqual(Layout.shortID("01a22a2c-61f3").markup, "<code class=\"id\" title=\"01a22a2c-61f3\">01a22a2c<span class=\"id-rest\">-61f3</span></code>")
        XCTAssertEqual(Layout.shortID("01a22a2c").markup, "<code class=\"id\">01a22a2c</code>")
        XCTAssertEqual(Layout.shortID("ééééééééé<").markup, "<code class=\"id\" title=\"ééééééééé&lt;\">éééééééé<span class=\"id-rest\">é&lt;</span></code>")
        XCTAssertEqual(Layout.shortID("<script>x").markup, "<code class=\"id\" title=\"&lt;script&gt;x\">&lt;script&gt;<span class=\"id-rest\">x</span></code>")
    }

    func testServiceAndReasonCodesReadWithSpaces() {
        XCTAssertEqual(EventSentence.serviceWords("domestic-abuse"), "domestic abuse")
        XCTAssertEqual(EventSentence.serviceWords("translation"), "translation")
        XCTAssertEqual(EventSentence.serviceWords("a--b-"), "a  b ")
        XCTAssertEqual(EventSentence.reasonWords("some-new-code"), "some new code")
        XCTAssertEqual(EventSentence.reasonWords("restricted"), "processing of the subject's data is restricted")
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
