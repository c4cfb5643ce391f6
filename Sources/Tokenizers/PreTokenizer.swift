/// Regex pre-splitting of byte-level BPE tokenizers, by `tokenizer.ggml.pre` (formats.md §3.4).
/// Each regex splits every piece the previous one produced; text between matches is kept as a piece.
struct PreTokenizer: @unchecked Sendable {
    let name: String
    private let regexes: [Regex<AnyRegexOutput>]
    /// llama-3 style vocabularies emit a whole pre-token when it is a token, before any merge.
    let ignoresMerges: Bool

    static let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3 = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2 = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The pre-tokenizer names Glimpse knows, with their regex chains.
    static let known: [String: (patterns: [String], ignoresMerges: Bool)] = [
        "llama-bpe": ([llama3], true), "llama3": ([llama3], true), "llama-v3": ([llama3], true),
        "qwen2": ([qwen2], false),
        "smollm": ([#"\p{N}"#, gpt2], false), "starcoder": ([#"\p{N}"#, gpt2], false),
        "refact": ([#"\p{N}"#, gpt2], false), "command-r": ([#"\p{N}"#, gpt2], false),
        "gpt-2": ([gpt2], false), "gpt2": ([gpt2], false),
        "default": ([#"[\p{P}\$\+<=>\^~\|]+"#, gpt2, #"\p{N}+"#, "[0-9][0-9][0-9]"], false),
    ]

    init(name: String) throws {
        guard let spec = Self.known[name] else {
            let names = Self.known.keys.sorted().joined(separator: ", ")
            throw TokenizerError("unsupported BPE pre-tokenizer '\(name)' (supported: \(names))")
        }
        self.name = name
        regexes = try spec.patterns.map { try Regex($0).matchingSemantics(.unicodeScalar) }
        ignoresMerges = spec.ignoresMerges
    }

    func split(_ text: String) -> [Substring] {
        var pieces: [Substring] = [text[...]]
        for regex in regexes {
            var next: [Substring] = []
            for piece in pieces {
                var cursor = piece.startIndex
                for match in piece.matches(of: regex) where !match.range.isEmpty {
                    if cursor < match.range.lowerBound { next.append(piece[cursor ..< match.range.lowerBound]) }
                    next.append(piece[match.range])
                    cursor = match.range.upperBound
                }
                if cursor < piece.endIndex { next.append(piece[cursor...]) }
            }
            pieces = next
        }
        return pieces
    }
}
