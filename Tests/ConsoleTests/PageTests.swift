import Console
import Exchange
import JSON
import XCTest

/// The pages' shared frame, the charts with their tables, and hostile values rendered inert.
final class PageTests: XCTestCase {
    let time = LocalTime.london

    func testEveryPageHasTheFrameAccessibilityNeeds() {
        let html = Layout.page(title: "Overview", section: .overview, body: "<p>x</p>").markup
        XCTAssertTrue(html.hasPrefix("<!doctype html>\n<html lang=\"en-GB\">"))
        XCTAssertTrue(html.contains("<title>Overview – refex console</title>"))
        XCTAssertTrue(html.contains("<a class=\"skip-link\" href=\"#main\">"))
        XCTAssertTrue(html.contains("<nav aria-label=\"Console\">"))
        for link in ["/console/", "/console/log", "/console/overrides", "/console/charts", "/console/partners"] {
            XCTAssertTrue(html.contains("href=\"\(link)\""), link)
        }
        XCTAssertTrue(html.contains("<main id=\"main\""))
        XCTAssertEqual(html.components(separatedBy: "<h1>").count - 1, 1)
        XCTAssertFalse(html.contains("<script"), "no script, inline or not")
        XCTAssertFalse(html.contains("style=\""), "no inline style: the CSP allows only the stylesheet")
    }

    func testAChartHasATableWithTheSameNumbers() {
        let chart = SVGChart(id: "c", title: "By basis <b>", series: ["consent", "vital interests"], bars: [
            .init(label: "2026-03-01", values: [3, 1]), .init(label: "2026-03-02", values: [0, 0]), .init(label: "2026-03-03", values: [5, 2]),
        ])
        let html = chart.html.markup
        XCTAssertTrue(html.contains("<svg"))
        XCTAssertTrue(html.contains("role=\"img\""))
        XCTAssertEqual(html.components(separatedBy: "<rect x=").count - 1, 4, "one bar segment per non-zero value")
        XCTAssertTrue(html.contains("<tr><th scope=\"row\">2026-03-01</th><td>3</td><td>1</td><td>4</td></tr>"))
        XCTAssertTrue(html.contains("<tr><th scope=\"row\">2026-03-02</th><td>0</td><td>0</td><td>0</td></tr>"))
        XCTAssertTrue(html.contains("<tr><th scope=\"row\">2026-03-03</th><td>5</td><td>2</td><td>7</td></tr>"))
        XCTAssertTrue(html.contains("11 in all over 3 day(s)"))
        XCTAssertTrue(html.contains("By basis &lt;b&gt;"))
        XCTAssertFalse(html.contains("By basis <b>"))
        // The tallest bar fills the plot; the others are in proportion.
        XCTAssertTrue(html.contains("y=\"12\""), "7 of 7 reaches the top of the plot")
        XCTAssertTrue(html.contains("height=\"148\""), "5 of 7 of the 208-pixel plot")
    }

    func testAHostileReferralRendersInertAndReadable() throws {
        let document: JSONValue = [
            "referenceId": "javascript:alert(1)",
            "subject": ["name": ["given": "<script>alert(1)</script>", "family": "\"><img src=x onerror=alert(1)>"]],
            "notes": "Alex\u{202E}elpmaxE\u{0}",
        ]
        let referral = RevealedReferral(
            id: "01a22a2c-61f3-7643-a601-f9fff9b0c8ed", subjectID: "01a22a2c-61f3-78a3-a186-37ba5f93edfb", partnerID: "police\"><script>",
            schemaID: "urn:refex:schema:referral:1", receivedAt: Timestamp(milliseconds: 0), document: document
        )
        let html = SubjectPages.revealed(referral, context: SentenceContext(time: time)).markup
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("<img"))
        XCTAssertFalse(html.contains("\u{202E}"))
        XCTAssertFalse(html.contains("\u{0}"))
        XCTAssertFalse(html.contains("href=\"javascript"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertTrue(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"))
        XCTAssertTrue(html.contains("Alex[U+202E]elpmaxE[U+0000]"))
        XCTAssertTrue(html.contains("javascript:alert(1)"), "shown as text, never a link")
    }

    func testTheLogTableNamesEachRowBySeq() throws {
        let entries = (1...3).map { seq in
            LogEntry(sealing: LogEntryDraft(event: .referralReceived, actor: "police", referralID: "r<\(seq)>"), seq: Int64(seq), time: Timestamp(milliseconds: 0), prevHash: LogEntry.genesisHash)
        }
        let html = LogTable.table(entries, SentenceContext(time: time), caption: "Entries").markup
        XCTAssertTrue(html.contains("<table id=\"log-entries\">"))
        for seq in 1...3 { XCTAssertTrue(html.contains("<tr data-seq=\"\(seq)\">")) }
        XCTAssertEqual(html.components(separatedBy: "<th scope=\"col\">").count - 1, 8)
        XCTAssertFalse(html.contains("r<1>"))
        XCTAssertTrue(html.contains("referral=r%3C1%3E"), "the id goes into the link escaped")
    }
}
