import GGUF

/// Text <-> token ids for one model, built from its GGUF metadata.
public struct Tokenizer: Sendable {
    public let vocabulary: Vocabulary
    private enum Algorithm: Sendable { case sentencePiece(SentencePieceTokenizer), bytePairs(BytePairTokenizer) }
    private let algorithm: Algorithm
    private let specialMatcher: SpecialTokenMatcher
    private let userDefinedMatcher: SpecialTokenMatcher

    public init(file: GGUFFile) throws {
        try self.init(vocabulary: Vocabulary(file: file))
    }

    public init(vocabulary: Vocabulary) throws {
        self.vocabulary = vocabulary
        switch vocabulary.model {
        case .sentencePiece: algorithm = .sentencePiece(SentencePieceTokenizer(vocabulary: vocabulary))
        case .bytePairs: algorithm = .bytePairs(try BytePairTokenizer(vocabulary: vocabulary))
        }
        specialMatcher = SpecialTokenMatcher(vocabulary: vocabulary, includeControl: true)
        userDefinedMatcher = SpecialTokenMatcher(vocabulary: vocabulary, includeControl: false)
    }

    /// Tokenizes `text`. With `parseSpecial`, texts of control tokens (`<start_of_turn>`) become those tokens;
    /// without it, only user-defined tokens do (as llama.cpp). `addSpecial` adds BOS/EOS as the vocabulary asks.
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = true) -> [Int32] {
        var out: [Int32] = []
        if addSpecial, vocabulary.addBOS, let bos = vocabulary.bos { out.append(bos) }
        let matcher = parseSpecial ? specialMatcher : userDefinedMatcher
        var previousWasSpecial = true
        for piece in matcher.split(Array(text.utf8)) {
            switch piece {
            case .token(let id):
                out.append(id)
                previousWasSpecial = true
            case .text(let bytes):
                switch algorithm {
                case .sentencePiece(let spm):
                    spm.encode(bytes, prefixSpace: vocabulary.addSpacePrefix && previousWasSpecial, into: &out)
                case .bytePairs(let bpe):
                    bpe.encode(String(decoding: bytes, as: UTF8.self), into: &out)
                }
                previousWasSpecial = false
            }
        }
        if addSpecial, vocabulary.addEOS, let eos = vocabulary.eos { out.append(eos) }
        return out
    }

    /// The bytes a token stands for. Control tokens are empty unless `showSpecial`.
    public func bytes(of id: Int32, showSpecial: Bool = false) -> [UInt8] {
        guard vocabulary.isValid(id) else { return [] }
        let text = vocabulary.tokens[Int(id)]
        switch vocabulary.kind(id) {
        case .control, .unknown, .unused:
            return showSpecial ? Array(text.utf8) : []
        case .userDefined:
            return Array(text.utf8)
        case .byte where vocabulary.model == .sentencePiece:
            // "<0xAB>"
            let hex = text.dropFirst(3).dropLast()
            return UInt8(hex, radix: 16).map { [$0] } ?? []
        default:
            switch vocabulary.model {
            case .sentencePiece:
                var out: [UInt8] = []
                for b in text.utf8 { out.append(b) }
                return replaceSentencePieceSpaces(out)
            case .bytePairs:
                return text.unicodeScalars.compactMap { BytePairTokenizer.scalarToByte[$0.value] }
            }
        }
    }

    /// Decodes a whole sequence (invalid UTF-8 repaired with U+FFFD).
    public func decode(_ ids: [Int32], showSpecial: Bool = false) -> String {
        var detok = StreamingDetokenizer(tokenizer: self, showSpecial: showSpecial)
        var s = ""
        for id in ids { s += detok.append(id) }
        return s + detok.flush()
    }
}

/// U+2581 (E2 96 81) -> space.
func replaceSentencePieceSpaces(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var i = 0
    while i < bytes.count {
        if i + 2 < bytes.count, bytes[i] == 0xE2, bytes[i + 1] == 0x96, bytes[i + 2] == 0x81 {
            out.append(0x20)
            i += 3
        } else {
            out.append(bytes[i])
            i += 1
        }
    }
    return out
}

/// Turns a stream of token ids into text without ever emitting half a UTF-8 character: bytes of an
/// incomplete character wait for the next token.
public struct StreamingDetokenizer: Sendable {
    let tokenizer: Tokenizer
    let showSpecial: Bool
    private var pending: [UInt8] = []
    private var atStart = true

    public init(tokenizer: Tokenizer, showSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.showSpecial = showSpecial
    }

    /// Adds one token; returns the text that is now complete (possibly empty).
    public mutating func append(_ id: Int32) -> String {
        var b = tokenizer.bytes(of: id, showSpecial: showSpecial)
        // SentencePiece with a space prefix: the first piece's leading space is an artifact of encoding.
        if atStart, !b.isEmpty {
            if tokenizer.vocabulary.addSpacePrefix, tokenizer.vocabulary.model == .sentencePiece, b.first == 0x20 {
                b.removeFirst()
            }
            atStart = false
        }
        pending += b
        let complete = completePrefixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Whatever is left (an incomplete character becomes U+FFFD).
    public mutating func flush() -> String {
        defer { pending = [] }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Length of the longest prefix that does not end inside a UTF-8 sequence.
    private func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        // Look back at most 3 bytes for a lead byte whose sequence is not yet complete.
        var i = n - 1
        var back = 0
        while i >= 0 && back < 4 {
            let b = bytes[i]
            if b & 0xC0 != 0x80 {
                let need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                return n - i >= need ? n : i
            }
            i -= 1
            back += 1
        }
        return n
    }
}
