/// SentencePiece (BPE-by-score) tokenization as llama.cpp's `llm_tokenizer_spm` does it (formats.md §3.3):
/// spaces become U+2581, the highest-scoring adjacent pair that forms a token is merged first
/// (ties go left), and characters with no token fall back to `<0xXX>` byte tokens.
struct SentencePieceTokenizer: Sendable {
    let vocabulary: Vocabulary
    private let byteTokens: [Int32]

    init(vocabulary: Vocabulary) {
        self.vocabulary = vocabulary
        byteTokens = (0 ..< 256).map { b in
            let hex = String(b, radix: 16, uppercase: true)
            return vocabulary.idOf["<0x\(hex.count == 1 ? "0" + hex : hex)>"] ?? vocabulary.unknown ?? 0
        }
    }

    private struct Symbol {
        var start: Int
        var length: Int
        var prev: Int
        var next: Int
    }

    private struct Bigram: Comparable {
        let score: Float
        let left: Int
        let length: Int
        static func < (a: Bigram, b: Bigram) -> Bool {
            a.score != b.score ? a.score < b.score : a.left > b.left
        }
    }

    /// Tokenizes one raw-text fragment (spaces already meaningful; no special tokens inside).
    func encode(_ text: ArraySlice<UInt8>, prefixSpace: Bool, into out: inout [Int32]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count * 2 + 3)
        if prefixSpace { bytes += [0xE2, 0x96, 0x81] }
        for b in text {
            if b == 0x20 { bytes += [0xE2, 0x96, 0x81] } else { bytes.append(b) }
        }
        if bytes.isEmpty { return }

        var symbols: [Symbol] = []
        var i = 0
        while i < bytes.count {
            let len = min(utf8Length(bytes[i]), bytes.count - i)
            symbols.append(Symbol(start: i, length: len, prev: symbols.count - 1, next: symbols.count + 1))
            i += len
        }
        symbols[symbols.count - 1].next = -1

        var heap = MaxHeap<Bigram>()
        func tryAdd(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let start = symbols[left].start
            let length = symbols[left].length + symbols[right].length
            guard let id = vocabulary.idOf[String(decoding: bytes[start ..< start + length], as: UTF8.self)] else { return }
            heap.push(Bigram(score: vocabulary.scores[Int(id)], left: left, length: length))
        }
        for s in 1 ..< symbols.count { tryAdd(s - 1, s) }

        while let top = heap.pop() {
            let left = top.left
            let right = symbols[left].next
            // Stale entries: one side was merged away since this pair was queued.
            guard symbols[left].length > 0, right >= 0, symbols[right].length > 0,
                  symbols[left].length + symbols[right].length == top.length else { continue }
            symbols[left].length += symbols[right].length
            symbols[right].length = 0
            symbols[left].next = symbols[right].next
            if symbols[right].next >= 0 { symbols[symbols[right].next].prev = left }
            tryAdd(symbols[left].prev, left)
            tryAdd(left, symbols[left].next)
        }

        var s = 0
        while s >= 0 {
            let sym = symbols[s]
            let piece = bytes[sym.start ..< sym.start + sym.length]
            if let id = vocabulary.idOf[String(decoding: piece, as: UTF8.self)] {
                out.append(id)
            } else {
                for b in piece { out.append(byteTokens[Int(b)]) }
            }
            s = sym.next
        }
    }
}

@inline(__always) func utf8Length(_ lead: UInt8) -> Int {
    switch lead {
    case 0xF0...: return 4
    case 0xE0...: return 3
    case 0xC0...: return 2
    default: return 1
    }
}

/// A small binary max-heap.
struct MaxHeap<T: Comparable> {
    private var items: [T] = []

    mutating func push(_ x: T) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard items[p] < items[i] else { break }
            items.swapAt(p, i)
            i = p
        }
    }

    mutating func pop() -> T? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && items[m] < items[l] { m = l }
            if r < items.count && items[m] < items[r] { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
}
