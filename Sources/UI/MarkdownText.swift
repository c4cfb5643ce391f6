/// The Markdown chat models write (Gemma, Qwen, LLaMA instruct), shown as a terminal can: `**strong**` in bold,
/// `` `code` `` and fenced blocks in the code colour, headings in the accent, list bullets as `•`, rules as a line.
/// The markers of what is styled are dropped; anything else (single `*`, tables, links) stays as written, and
/// an answer still streaming shows an unclosed marker as typed until its end arrives.
public enum MarkdownText {
    public struct Styles: Sendable {
        public var text: Style
        public var code: Style
        public var heading: Style
        /// Fences, bullets and rules.
        public var marker: Style
        /// Where code has no colour of its own (the mono theme), its backticks stay to mark it.
        public var keepsBackticks: Bool

        public init(text: Style, code: Style, heading: Style, marker: Style, keepsBackticks: Bool = false) {
            (self.text, self.code, self.heading, self.marker, self.keepsBackticks) = (text, code, heading, marker, keepsBackticks)
        }
    }

    /// Runs of styled text, lines joined by "\n" (for `wrapRuns`).
    public static func runs(_ text: String, styles: Styles) -> [(String, Style)] {
        var out: [(String, Style)] = []
        var inFence = false
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if i > 0 { out.append(("\n", styles.text)) }
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("```") {
                inFence.toggle()
                out.append((String(line), styles.marker))
            } else if inFence {
                out.append((String(line), styles.code))
            } else if let heading = heading(trimmed) {
                out += inline(heading, styles: styles, base: styles.heading)
            } else if isRule(trimmed) {
                out.append(("───", styles.marker))
            } else if let (indent, item) = bullet(line) {
                out.append((indent + "• ", styles.marker))
                out += inline(item, styles: styles, base: styles.text)
            } else {
                out += inline(Substring(line), styles: styles, base: styles.text)
            }
        }
        return out
    }

    /// `# Title` .. `###### Title` -> "Title".
    static func heading(_ line: Substring) -> Substring? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1 ... 6).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
        return line.dropFirst(hashes + 1)
    }

    static func isRule(_ line: Substring) -> Bool {
        let s = line.filter { $0 != " " }
        return s.count >= 3 && (s.allSatisfy { $0 == "-" } || s.allSatisfy { $0 == "*" } || s.allSatisfy { $0 == "_" })
    }

    /// "  - item" / "* item" / "+ item" -> ("  ", "item").
    static func bullet(_ line: Substring) -> (String, Substring)? {
        let indent = line.prefix { $0 == " " }
        let rest = line.dropFirst(indent.count)
        guard let first = rest.first, "-*+".contains(first), rest.dropFirst().first == " " else { return nil }
        return (String(indent), rest.dropFirst(2))
    }

    /// `**strong**` (bold in the line's style) and `` `code` `` within a line; a marker without its closing twin is
    /// plain text.
    static func inline(_ line: Substring, styles: Styles, base: Style) -> [(String, Style)] {
        var out: [(String, Style)] = []
        var plain = ""
        var rest = line
        func flush() { if !plain.isEmpty { out.append((plain, base)); plain = "" } }
        while let c = rest.first {
            if c == "`", let end = rest.dropFirst().firstIndex(of: "`"), end > rest.index(after: rest.startIndex) {
                flush()
                let code = String(rest[rest.index(after: rest.startIndex) ..< end])
                out.append((styles.keepsBackticks ? "`\(code)`" : code, styles.code))
                rest = rest[rest.index(after: end)...]
            } else if rest.hasPrefix("**"), let end = rest.dropFirst(2).range(of: "**"), end.lowerBound > rest.index(rest.startIndex, offsetBy: 2) {
                flush()
                var strong = base
                strong.bold = true
                out.append((String(rest[rest.index(rest.startIndex, offsetBy: 2) ..< end.lowerBound]), strong))
                rest = rest[end.upperBound...]
            } else {
                plain.append(c)
                rest = rest.dropFirst()
            }
        }
        flush()
        return out
    }
}
