/// IDNA2008 A-label checks (RFC 5890–5892) for the `hostname` format: Punycode (RFC 3492)
/// decoding, the derived property of each code point, and the contextual rules.
///
/// The derived property is computed from the Unicode properties the standard library
/// knows (general category, NFKC case folding, default-ignorable, …). Scripts and joining
/// types, which it does not expose, are approximated by block ranges.
enum IDNALabel {
    /// Whether `encoded` (the part after `xn--`) is a valid A-label.
    static func isValidALabel(_ encoded: String) -> Bool {
        guard let decoded = punycodeDecode(Array(encoded.lowercased().utf8)), !decoded.isEmpty,
              decoded.contains(where: { $0.value >= 0x80 })
        else { return false }
        return isValidULabel(decoded)
    }

    /// RFC 3492 §6.2.
    static func punycodeDecode(_ input: [UInt8]) -> [Unicode.Scalar]? {
        let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
        var output: [Unicode.Scalar] = []
        var position = 0
        if let delimiter = input.lastIndex(of: UInt8(ascii: "-")) {
            for byte in input[..<delimiter] {
                guard byte < 0x80 else { return nil }
                output.append(Unicode.Scalar(byte))
            }
            position = delimiter + 1
        }
        func adapt(_ delta: Int, _ count: Int, _ first: Bool) -> Int {
            var delta = first ? delta / damp : delta / 2
            delta += delta / count
            var k = 0
            while delta > ((base - tMin) * tMax) / 2 {
                delta /= base - tMin
                k += base
            }
            return k + (base - tMin + 1) * delta / (delta + skew)
        }
        var n = 128, i = 0, bias = 72
        while position < input.count {
            let oldI = i
            var weight = 1
            var k = base
            while true {
                guard position < input.count else { return nil }
                let byte = input[position]
                position += 1
                let digit: Int
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"): digit = Int(byte - UInt8(ascii: "a"))
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - UInt8(ascii: "0")) + 26
                default: return nil
                }
                let (product, overflow1) = digit.multipliedReportingOverflow(by: weight)
                let (sum, overflow2) = i.addingReportingOverflow(product)
                guard !overflow1, !overflow2 else { return nil }
                i = sum
                let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                if digit < t { break }
                let (nextWeight, overflow3) = weight.multipliedReportingOverflow(by: base - t)
                guard !overflow3 else { return nil }
                weight = nextWeight
                k += base
            }
            let count = output.count + 1
            bias = adapt(i - oldI, count, oldI == 0)
            let (nextN, overflow) = n.addingReportingOverflow(i / count)
            guard !overflow, nextN <= 0x10FFFF, let scalar = Unicode.Scalar(UInt32(nextN)) else { return nil }
            n = nextN
            i %= count
            output.insert(scalar, at: i)
            i += 1
            guard output.count <= 63 else { return nil }
        }
        return output
    }

    enum Property {
        case pvalid
        case contextJ
        case contextO
        case disallowed
    }

    /// RFC 5892 §3 derived property.
    static func property(_ scalar: Unicode.Scalar) -> Property {
        let value = scalar.value
        switch value {
        case 0x00DF, 0x03C2, 0x06FD, 0x06FE, 0x0F0B, 0x3007: return .pvalid
        case 0x00B7, 0x0375, 0x05F3, 0x05F4, 0x0660...0x0669, 0x06F0...0x06F9, 0x30FB: return .contextO
        case 0x0640, 0x07FA, 0x302E, 0x302F, 0x3031...0x3035, 0x303B: return .disallowed
        case 0x200C, 0x200D: return .contextJ
        case 0x2D, 0x30...0x39, 0x61...0x7A: return .pvalid
        default: break
        }
        let properties = scalar.properties
        if properties.generalCategory == .unassigned { return .disallowed }
        if properties.changesWhenNFKCCaseFolded { return .disallowed }
        if properties.isDefaultIgnorableCodePoint || properties.isWhitespace || properties.isNoncharacterCodePoint { return .disallowed }
        switch value {
        case 0x20D0...0x20FF, 0x1D100...0x1D24F: return .disallowed  // ignorable blocks
        case 0x1100...0x11FF, 0xA960...0xA97F, 0xD7B0...0xD7FF: return .disallowed  // old Hangul jamo
        default: break
        }
        switch properties.generalCategory {
        case .lowercaseLetter, .uppercaseLetter, .otherLetter, .decimalNumber, .modifierLetter, .nonspacingMark, .spacingMark:
            return .pvalid
        default:
            return .disallowed
        }
    }

    private static func isGreek(_ value: UInt32) -> Bool {
        (0x0370...0x03FF).contains(value) || (0x1F00...0x1FFF).contains(value)
    }

    private static func isHebrew(_ value: UInt32) -> Bool {
        (0x0591...0x05F4).contains(value) || (0xFB1D...0xFB4F).contains(value)
    }

    private static func isHiraganaKatakanaOrHan(_ value: UInt32) -> Bool {
        switch value {
        case 0x3040...0x309F, 0x30A0...0x30FA, 0x30FC...0x30FF, 0x31F0...0x31FF, 0x32D0...0x32FE, 0x3300...0x3357,
             0xFF66...0xFF9F, 0x1B000...0x1B16F, 0x2E80...0x2FDF, 0x3005, 0x3007, 0x3021...0x3029, 0x3038...0x303B,
             0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x3134F:
            true
        default:
            false
        }
    }

    /// Letters that join on both sides (Joining_Type D or L/R) in scripts that use ZWNJ:
    /// Arabic, Syriac, N'Ko, Mongolian, Phags-pa. An approximation of the Joining_Type data.
    private static func isJoining(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.properties.generalCategory == .otherLetter else { return false }
        switch scalar.value {
        case 0x0620...0x06FF, 0x0750...0x077F, 0x08A0...0x08FF, 0x0700...0x074F, 0x07C0...0x07FF, 0x1800...0x18AF, 0xA840...0xA877:
            return true
        default:
            return false
        }
    }

    private static func isTransparent(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: scalar.value != 0x200C && scalar.value != 0x200D
        default: false
        }
    }

    private static let virama: UInt8 = 9

    /// RFC 5891 §5.4 / RFC 5892 Appendix A, for a decoded label.
    static func isValidULabel(_ label: [Unicode.Scalar]) -> Bool {
        guard let first = label.first else { return false }
        switch first.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return false
        default: break
        }
        if label.first == "-" || label.last == "-" { return false }
        if label.count >= 4, label[2] == "-", label[3] == "-" { return false }
        // Labels must be in Normalization Form C.
        let text = String(String.UnicodeScalarView(label))
        guard Array(text.precomposedUnicodeScalars) == label else { return false }
        var hasArabicIndic = false
        var hasExtendedArabicIndic = false
        for (index, scalar) in label.enumerated() {
            let before = index > 0 ? label[index - 1] : nil
            let after = index + 1 < label.count ? label[index + 1] : nil
            switch property(scalar) {
            case .pvalid:
                continue
            case .disallowed:
                return false
            case .contextJ:
                if let before, before.properties.canonicalCombiningClass.rawValue == virama { continue }
                guard scalar.value == 0x200C else { return false }
                // (L|D) T* ZWNJ T* (R|D)
                var left = index - 1
                while left >= 0, isTransparent(label[left]) { left -= 1 }
                var right = index + 1
                while right < label.count, isTransparent(label[right]) { right += 1 }
                guard left >= 0, right < label.count, isJoining(label[left]), isJoining(label[right]) else { return false }
            case .contextO:
                switch scalar.value {
                case 0x00B7:
                    guard before == "l", after == "l" else { return false }
                case 0x0375:
                    guard let after, isGreek(after.value) else { return false }
                case 0x05F3, 0x05F4:
                    guard let before, isHebrew(before.value) else { return false }
                case 0x30FB:
                    guard label.contains(where: { isHiraganaKatakanaOrHan($0.value) }) else { return false }
                case 0x0660...0x0669:
                    hasArabicIndic = true
                case 0x06F0...0x06F9:
                    hasExtendedArabicIndic = true
                default:
                    return false
                }
            }
        }
        return !(hasArabicIndic && hasExtendedArabicIndic)
    }
}

extension String {
    /// The scalars of the string in Normalization Form C.
    fileprivate var precomposedUnicodeScalars: String.UnicodeScalarView {
        FoundationNFC.precomposed(self).unicodeScalars
    }
}
