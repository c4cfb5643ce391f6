/// Byte-level BPE (GPT-2 family) as llama.cpp's `llm_tokenizer_bpe` does it: regex pre-split, bytes mapped
/// to printable code points, then the adjacent pair of lowest merge rank is merged first (ties go left).
struct BytePairTokenizer: Sendable {
    let vocabulary: Vocabulary
    let preTokenizer: PreTokenizer
    private let ranks: [String: Int]

    /// GPT-2's reversible map from bytes to code points that are not whitespace or control characters.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var extra: UInt32 = 256
        for b in 0 ..< 256 {
            if (33 ... 126).contains(b) || (161 ... 172).contains(b) || (174 ... 255).contains(b) {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(extra)!
                extra += 1
            }
        }
        return table
    }()

    static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()

    init(vocabulary: Vocabulary) throws {
        self.vocabulary = vocabulary
        preTokenizer = try PreTokenizer(name: vocabulary.preTokenizer)
        var ranks: [String: Int] = [:]
        ranks.reserveCapacity(vocabulary.merges.count)
        for (i, m) in vocabulary.merges.enumerated() where ranks[m] == nil { ranks[m] = i }
        self.ranks = ranks
    }

    func encode(_ text: String, into out: inout [Int32]) {
        for word in preTokenizer.split(text) {
            var mapped = String.UnicodeScalarView()
            for b in word.utf8 { mapped.append(Self.byteToScalar[Int(b)]) }
            let encoded = String(mapped)
            if preTokenizer.ignoresMerges, let id = vocabulary.idOf[encoded] {
                out.append(id)
                continue
            }
            var symbols = encoded.unicodeScalars.map { String($0) }
            while symbols.count > 1 {
                var best: (rank: Int, index: Int)? = nil
                for i in 0 ..< symbols.count - 1 {
                    if let r = ranks[symbols[i] + " " + symbols[i + 1]], r < (best?.rank ?? Int.max) { best = (r, i) }
                }
                guard let best else { break }
                symbols[best.index] += symbols[best.index + 1]
                symbols.remove(at: best.index + 1)
            }
            for s in symbols {
                if let id = vocabulary.idOf[s] {
                    out.append(id)
                } else {
                    for scalar in s.unicodeScalars {
                        if let id = vocabulary.idOf[String(scalar)] { out.append(id) }
                        else if let unk = vocabulary.unknown { out.append(unk) }
                    }
                }
            }
        }
    }
}
