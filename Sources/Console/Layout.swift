import Exchange

/// The console's pages, for the navigation and each page's title.
package enum ConsoleSection: String, Sendable, CaseIterable {
    case overview, log, overrides, charts, partners, subject

    var title: String {
        switch self {
        case .overview: "Overview"
        case .log: "Disclosure log"
        case .overrides: "Overrides"
        case .charts: "Charts"
        case .partners: "Partners and recipients"
        case .subject: "Subject"
        }
    }

    var url: ConsoleURL? {
        switch self {
        case .overview: .overview
        case .log: .log
        case .overrides: .overrides
        case .charts: .charts
        case .partners: .partners
        case .subject: nil
        }
    }
}

/// The frame every console page shares: `<!doctype html>`, `lang="en-GB"`, a title, a skip link,
/// the navigation, one `<main id="main">` with one `<h1>`.
package enum Layout {
    package static func page(title: String, section: ConsoleSection, heading: String? = nil, body: HTML) -> HTML {
        let links: [HTML] = ConsoleSection.allCases.compactMap { item in
            guard let url = item.url else { return nil }
            let current: HTML = item == section ? " aria-current=\"page\"" : ""
            return "<li><a href=\"\(url)\"\(current)>\(item.title)</a></li>"
        }
        let document: HTML = """
            <!doctype html>
            <html lang="en-GB">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <title>\(title) – refex console</title>
            <link rel="stylesheet" href="\(ConsoleURL.stylesheet)">
            </head>
            <body>
            <a class="skip-link" href="#main">Skip to main content</a>
            <header class="site-header"><p class="site-name">refex console</p>
            <nav aria-label="Console"><ul>\(links)</ul></nav>
            </header>
            <main id="main" tabindex="-1">
            <h1>\(heading ?? title)</h1>
            \(body)
            </main>
            </body>
            </html>

            """
        return document
    }

    /// A shortened id (its first 8 characters, or as many as `length`), the whole id in `title`
    /// and, hidden from sight but there to copy, in the text itself.
    package static func shortID(_ id: String, length: Int = 8) -> HTML {
        let shown: String
        let rest: String
        if id.utf8.allSatisfy({ $0 < 0x80 }) {
            // ASCII, as ids are: a character is a byte.
            guard id.utf8.count > length else { return "<code class=\"id\">\(id)</code>" }
            let cut = id.utf8.index(id.utf8.startIndex, offsetBy: length)
            shown = String(id[..<cut])
            rest = String(id[cut...])
        } else {
            guard id.count > length else { return "<code class=\"id\">\(id)</code>" }
            shown = String(id.prefix(length))
            rest = String(id.dropFirst(length))
        }
        return "<code class=\"id\" title=\"\(attribute: id)\">\(shown)<span class=\"id-rest\">\(rest)</span></code>"
    }

    /// A short id linking to `url`.
    package static func linkedID(_ id: String, _ url: ConsoleURL) -> HTML {
        "<a href=\"\(url)\">\(shortID(id))</a>"
    }

    /// A form that changes state: POST to `action` with its CSRF token, and a submit button.
    package static func postForm(action: ConsoleURL, token: String, button: String, fields: HTML = .empty, buttonClass: String = "button") -> HTML {
        """
        <form method="post" action="\(action)">
        <input type="hidden" name="csrf" value="\(attribute: token)">
        \(fields)<button type="submit" class="\(attribute: buttonClass)">\(button)</button>
        </form>
        """
    }

    /// A definition list of label and value pairs.
    package static func facts(_ rows: [(String, HTML)]) -> HTML {
        let items: [HTML] = rows.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>\n" }
        return "<dl class=\"facts\">\n\(items)</dl>"
    }

    /// A warning or notice box.
    package static func notice(_ text: HTML, kind: String = "warning") -> HTML {
        "<div class=\"notice notice-\(attribute: kind)\" role=\"status\">\(text)</div>"
    }

    /// An error page (a refused form, a bad filter): the message and a way back.
    package static func errorPage(title: String, message: String) -> HTML {
        page(title: title, section: .overview, body: "<p>\(message)</p>\n<p><a href=\"\(ConsoleURL.overview)\">Back to the overview</a></p>")
    }
}
