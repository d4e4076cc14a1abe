import Foundation
import JSON
import JSONSchema

/// What free text that reaches the disclosure log may say: override justifications, and the
/// reasons given for an erasure, a restriction or a withdrawal.
///
/// The text is sealed under the subject's key, but it is written by an officer about a person
/// and read by auditors for years: it must explain a decision without identifying anyone.
/// A refusal names the rule broken, never the value that broke it.
package enum FreeTextPolicy {
    /// Where a refusal's `absoluteKeywordLocation` starts; the rule follows.
    package static let ruleBase = "urn:refex:policy:free-text#"

    /// The longest free text kept (the override schema's `maxLength`).
    package static let maxCharacters = 2000

    /// A kind of personal value found in a referral, as a refusal names it.
    package enum Kind: String, Sendable, CaseIterable {
        case name
        case dateOfBirth = "date-of-birth"
        case phone
        case email
        case address
        case postcode

        var phrase: String {
            switch self {
            case .name: "a name"
            case .dateOfBirth: "a date of birth"
            case .phone: "a phone number"
            case .email: "an email address"
            case .address: "an address"
            case .postcode: "a postcode"
            }
        }
    }

    /// The personal values of one or more referrals that free text about them must not repeat.
    package struct PersonalValues: Sendable {
        package var values: [(kind: Kind, text: String)] = []

        package init() {}

        /// Where each kind lives in a referral (schemas/referral.v1.schema.json).
        static let pointers: [(Kind, [String])] = [
            (.name, ["subject", "name", "given"]), (.name, ["subject", "name", "family"]), (.name, ["subject", "name", "preferred"]),
            (.name, ["referringOfficer", "name"]), (.name, ["consent", "obtainedBy"]),
            (.dateOfBirth, ["subject", "dateOfBirth"]),
            (.phone, ["subject", "contact", "phone", "number"]), (.phone, ["referringOfficer", "phone"]),
            (.email, ["subject", "contact", "email", "address"]), (.email, ["referringOfficer", "email"]),
            (.postcode, ["subject", "contact", "address", "postcode"]),
        ]

        /// Adds the personal values of a referral document.
        package mutating func add(referral document: JSONValue) {
            for (kind, path) in Self.pointers {
                var value: JSONValue? = document
                for token in path { value = value?[token] }
                if let text = value?.stringValue { values.append((kind, text)) }
            }
            for line in document["subject"]?["contact"]?["address"]?["lines"]?.arrayValue ?? [] {
                if let text = line.stringValue { values.append((.address, text)) }
            }
        }
    }

    /// Checks `text` (already trimmed) for the member `field`; throws a 422 naming the rule.
    /// `shapeOnly` checks length and words alone (before the referral is opened, so that a
    /// personal value is reported as one rather than as the pattern it also matches).
    package static func check(_ text: String, field: String, personal: PersonalValues, shapeOnly: Bool = false) throws {
        func refuse(_ rule: String, _ message: String, _ explanation: String) -> ExchangeError {
            ExchangeError(
                .invalid,
                "The \(field) \(explanation) (rule \(rule)). State the reason without identifying anyone: it is kept for as long as the disclosure log.",
                validationErrors: [
                    ValidationError(instanceLocation: JSONPointer(tokens: [field]), keywordLocation: "/properties/\(field)",
                                    absoluteKeywordLocation: ruleBase + rule, message: message),
                ]
            )
        }
        let words = text.split(whereSeparator: { $0.isWhitespace }).filter { $0.contains(where: \.isLetter) }
        guard text.count >= 20, words.count >= 3 else {
            throw refuse("too-short", "too short to explain a decision", "must explain the decision: at least 20 characters and three words")
        }
        guard text.count <= maxCharacters else {
            throw refuse("too-long", "longer than \(maxCharacters) characters", "must be at most \(maxCharacters) characters")
        }
        if shapeOnly { return }
        let folded = normalise(text)
        // The most specific kind first: an email address holding a name is reported as an email address.
        let ordered = personal.values.sorted { priority($0.kind) < priority($1.kind) }
        for (kind, value) in ordered where contains(folded, value: value, kind: kind) {
            throw refuse(
                "personal-value/\(kind.rawValue)", "contains \(kind.phrase) from the referral",
                "contains \(kind.phrase) from the referral it is about"
            )
        }
        // On the folded text: a no-break space, a tab or two spaces between the parts hide nothing.
        // Dates and times ("2026-11-20 14:30") are not phone numbers.
        let shaped = datesAndTimes?.stringByReplacingMatches(in: folded, range: NSRange(folded.startIndex..., in: folded), withTemplate: " ") ?? folded
        for (rule, phrase, pattern) in patterns where pattern.firstMatch(in: shaped, range: NSRange(shaped.startIndex..., in: shaped)) != nil {
            throw refuse("pattern/\(rule)", "looks like \(phrase)", "contains what looks like \(phrase)")
        }
    }

    // MARK: Matching

    static func priority(_ kind: Kind) -> Int {
        switch kind {
        case .email: 0
        case .phone: 1
        case .postcode: 2
        case .dateOfBirth: 3
        case .address: 4
        case .name: 5
        }
    }

    /// Lower case, compatibility forms, without diacritics ("Zoë" is "zoe") or invisible format
    /// characters (a soft hyphen or zero-width space pasted inside a name), typographic
    /// apostrophes as "'", whitespace collapsed to one space.
    static func normalise(_ text: String) -> String {
        var visible = String.UnicodeScalarView()
        visible.append(contentsOf: text.unicodeScalars.filter { $0.properties.generalCategory != .format })
        return String(visible).precomposedStringWithCompatibilityMapping.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
            .precomposedStringWithCompatibilityMapping.lowercased()
            .replacingOccurrences(of: "\u{2019}", with: "'").replacingOccurrences(of: "\u{2018}", with: "'")
            .split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    static func digits(_ text: String) -> String { String(text.unicodeScalars.filter { $0.properties.numericType == .decimal }.map(Character.init)) }

    static func contains(_ folded: String, value: String, kind: Kind) -> Bool {
        switch kind {
        case .phone:
            // Compared on digits alone: "+44 7700 900123", "07700 900123" and "7700900123" are one number.
            let number = digits(value)
            guard number.count >= 6 else { return containsWord(folded, normalise(value)) }
            let national = number.hasPrefix("44") ? "0" + number.dropFirst(2) : number
            let runs = digitRuns(folded)
            let tail = String(number.suffix(9))
            return runs.contains { $0.contains(tail) || $0.contains(national) }
        case .dateOfBirth:
            let written = dateText(folded)
            return dateForms(value).contains { containsWord(written, $0) }
        case .postcode:
            let compact = normalise(value).replacingOccurrences(of: " ", with: "")
            guard compact.count >= 5 else { return containsWord(folded, normalise(value)) }
            let outward = String(compact.dropLast(3))
            let inward = String(compact.suffix(3))
            return containsWord(folded, "\(outward) \(inward)") || containsWord(folded, "\(outward)-\(inward)") || containsWord(folded, compact)
        case .name:
            // The whole value, and each part of it: "PC Sam Sample" is refused as "Sample" too,
            // "O'Brien-Smith" as "Brien" and "Smith".
            let whole = normalise(value)
            if whole.count >= 2, containsWord(folded, whole) { return true }
            return whole.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).contains { part in
                part.count >= 3 && !titles.contains(String(part)) && containsWord(folded, String(part))
            }
        case .email, .address:
            let whole = normalise(value)
            return whole.count >= 3 && containsWord(folded, whole)
        }
    }

    /// Honorifics and ranks that appear in names but identify no one.
    static let titles: Set<String> = ["mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "pc", "dc", "ds", "di", "dci", "psc", "sgt", "insp", "pcso"]

    /// `value` in `text` with no letter or digit directly before or after it.
    static func containsWord(_ text: String, _ value: String) -> Bool {
        guard !value.isEmpty else { return false }
        var searchRange = text.startIndex..<text.endIndex
        while let found = text.range(of: value, range: searchRange) {
            let before = found.lowerBound == text.startIndex ? nil : text[text.index(before: found.lowerBound)]
            let after = found.upperBound == text.endIndex ? nil : text[found.upperBound]
            let isBoundary = { (character: Character?) in character.map { !$0.isLetter && !$0.isNumber } ?? true }
            if isBoundary(before) && isBoundary(after) { return true }
            searchRange = text.index(after: found.lowerBound)..<text.endIndex
        }
        return false
    }

    /// Runs of digits, joined across the separators phone numbers are written with (up to two
    /// in a row: "(0161) 496 0000").
    static func digitRuns(_ text: String) -> [String] {
        var runs: [String] = []
        var current = ""
        var separators = 0
        for character in text {
            if character.isASCII, character.isNumber {
                current.append(character)
                separators = 0
            } else if !current.isEmpty, separators < 2, " -().+/".contains(character) {
                separators += 1
            } else {
                if !current.isEmpty { runs.append(current) }
                current = ""
                separators = 0
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    static let months = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]

    /// Folded text with dates reduced to one spelling, for `dateForms`: the separators `/ - . ,`
    /// as spaces, ordinal suffixes and "of" dropped ("02-Apr-1990" is "02 apr 1990", "2nd of
    /// April, 1990" is "2 april 1990").
    static func dateText(_ folded: String) -> String {
        var text = String(folded.map { "/-.,".contains($0) ? " " : $0 })
        for (pattern, template) in [(#"(\d)(?:st|nd|rd|th)\b"#, "$1"), (#"\bof\b"#, " ")] {
            text = text.replacingOccurrences(of: pattern, with: template, options: .regularExpression)
        }
        return text.split(separator: " ").joined(separator: " ")
    }

    /// The ways a date of birth (`YYYY-MM-DD`) is written in the UK (and the US), as `dateText`
    /// spells them: day, month and year in any common order, day and month with or without a
    /// leading zero, the month as a number, a name or an abbreviation, the year in four digits
    /// or two (always two: "2.1.5" is a section number, "2.1.05" a date), or all undivided.
    static func dateForms(_ iso: String) -> [String] {
        let parts = iso.split(separator: "-").map(String.init)
        guard parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]), (1...12).contains(month) else {
            return [dateText(normalise(iso))]
        }
        let name = months[month - 1]
        var monthNames = [name, String(name.prefix(3))]
        if month == 9 { monthNames.append("sept") }
        let paddedMonth = month < 10 ? "0\(month)" : "\(month)"
        let paddedDay = day < 10 ? "0\(day)" : "\(day)"
        let dayForms = Set(["\(day)", paddedDay])
        let monthForms = Set(["\(month)", paddedMonth])
        let shortYear = year % 100 < 10 ? "0\(year % 100)" : "\(year % 100)"
        var forms = ["\(year)\(paddedMonth)\(paddedDay)", "\(paddedDay)\(paddedMonth)\(year)"]
        for d in dayForms {
            for m in monthForms { forms.append("\(year) \(m) \(d)") }
        }
        for yearForm in ["\(year)", shortYear] {
            for d in dayForms {
                for m in monthForms {
                    forms.append("\(d) \(m) \(yearForm)")
                    forms.append("\(m) \(d) \(yearForm)")
                }
                for monthName in monthNames {
                    forms.append("\(d) \(monthName) \(yearForm)")
                    forms.append("\(monthName) \(d) \(yearForm)")
                }
            }
        }
        return forms
    }

    /// An ISO 8601 date, with or without a time, or a time of day: read before the patterns, so
    /// that "2026-11-20 14:30" is not taken for ten digits of a phone number.
    static let datesAndTimes = try? NSRegularExpression(
        pattern: #"\b\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2})?)?\b|\b\d{1,2}:\d{2}(?::\d{2})?\b"#
    )

    /// Shapes that identify someone whatever referral they come from.
    static let patterns: [(String, String, NSRegularExpression)] = [
        ("email", "an email address", #"[^\s@]+@[^\s@]+\.[A-Za-z]{2,}"#),
        // UK National Insurance number: two letters, six digits, A–D (any two letters: a real one must not slip through).
        ("ni-number", "a National Insurance number", #"\b[A-Z]{2}[ -]?\d{2}[ -]?\d{2}[ -]?\d{2}[ -]?[A-D]\b"#),
        // UK postcode: outward code (area, district) and inward code (sector, unit).
        ("postcode", "a UK postcode", #"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b"#),
        // Ten or more digits, however grouped, or an international number.
        ("phone", "a phone number", #"(?:\+\d[\d \-().]{7,}\d)|(?:\b\d(?:[ \-().]{0,2}\d){9,}\b)"#),
    ].compactMap { rule, phrase, pattern in
        (try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive])).map { (rule, phrase, $0) }
    }
}
