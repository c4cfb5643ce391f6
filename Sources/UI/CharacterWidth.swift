/// Terminal columns of a character: 0 for combining marks and zero-width characters, 2 for East Asian wide
/// and fullwidth characters and emoji, 1 otherwise. (The UI measures text itself so tests need no locale.)
public enum CharacterWidth {
    public static func columns(_ ch: Character) -> Int {
        guard let first = ch.unicodeScalars.first else { return 0 }
        if ch.unicodeScalars.count > 1, ch.unicodeScalars.contains(where: { $0.properties.isEmojiPresentation || $0.value == 0xFE0F }) {
            return 2
        }
        return columns(first)
    }

    public static func columns(_ s: Unicode.Scalar) -> Int {
        let v = s.value
        if v == 0 { return 0 }
        if v < 0x20 || (v >= 0x7F && v < 0xA0) { return 0 }
        switch s.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if v == 0x200B { return 0 }
        if s.properties.isEmojiPresentation { return 2 }
        switch v {
        case 0x1100 ... 0x115F, 0x2E80 ... 0x303E, 0x3041 ... 0x33FF, 0x3400 ... 0x4DBF, 0x4E00 ... 0x9FFF,
             0xA000 ... 0xA4CF, 0xAC00 ... 0xD7A3, 0xF900 ... 0xFAFF, 0xFE30 ... 0xFE4F, 0xFF00 ... 0xFF60,
             0xFFE0 ... 0xFFE6, 0x20000 ... 0x2FFFD, 0x30000 ... 0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    public static func columns(_ text: String) -> Int { text.reduce(0) { $0 + columns($1) } }
}

/// Word wrapping by display columns.
public enum TextWrap {
    /// Splits `text` into lines of at most `width` columns, breaking at spaces where possible; newlines are kept.
    public static func lines(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var out: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = "", lineWidth = 0
            var word = "", wordWidth = 0
            func flushWord() {
                if lineWidth + wordWidth <= width {
                    line += word; lineWidth += wordWidth
                } else if wordWidth <= width {
                    out.append(line.trailingSpacesTrimmed)
                    let trimmed = String(word.drop { $0 == " " })
                    line = trimmed; lineWidth = CharacterWidth.columns(trimmed)
                } else {
                    // A word longer than the line: hard-break it.
                    for ch in word {
                        let w = CharacterWidth.columns(ch)
                        if lineWidth + w > width { out.append(line); line = ""; lineWidth = 0 }
                        line.append(ch); lineWidth += w
                    }
                }
                word = ""; wordWidth = 0
            }
            for ch in paragraph {
                if ch == " " && !word.isEmpty && word.last != " " { flushWord() }
                word.append(ch)
                wordWidth += CharacterWidth.columns(ch)
            }
            flushWord()
            out.append(line.trailingSpacesTrimmed)
        }
        return out
    }
}

extension String {
    var trailingSpacesTrimmed: String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
