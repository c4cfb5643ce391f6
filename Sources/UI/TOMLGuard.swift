/// Checks TOML text for what the TOML parser under TOMLKit (toml++ 3, built with its assertions on) would
/// abort on instead of reporting, so a typo in config.toml or a theme is a message, not a crash. Found by the
/// `config` fuzzer; each rule here is one such input, replayed by the fuzz regression tests.
enum TOMLGuard {
    /// The first line that would crash the parser, with why; nil when the text is safe to hand over.
    static func problem(_ text: String) -> (line: Int, message: String)? {
        var inMultilineString: String? = nil
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = Substring(raw)
            if let delimiter = inMultilineString {
                if occurrences(of: delimiter, in: line) % 2 == 1 { inMultilineString = nil }
                continue
            }
            for delimiter in ["\"\"\"", "'''"] where occurrences(of: delimiter, in: line) % 2 == 1 {
                inMultilineString = delimiter
            }
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard trimmed.first == "[" else { continue }
            // A table header: `[name]` or `[[name]]`, where the name starts with a bare-key character or a quote.
            var rest = trimmed.dropFirst()
            if rest.first == "[" { rest = rest.dropFirst() }
            rest = rest.drop { $0 == " " || $0 == "\t" }
            guard let first = rest.first else { continue }
            if first == "]" { continue }   // "blank key": toml++ reports that one itself
            if !isBareKeyCharacter(first) && first != "\"" && first != "'" {
                return (index + 1, "a table header's name cannot start with '\(first)'")
            }
        }
        return nil
    }

    static func isBareKeyCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-")
    }

    static func occurrences(of delimiter: String, in line: Substring) -> Int {
        line.components(separatedBy: delimiter).count - 1
    }
}
