/// Finds special-token texts (control, user-defined and unknown tokens) inside raw text so they become
/// single tokens. A byte trie gives the longest match at each position in one pass.
struct SpecialTokenMatcher: Sendable {
    private struct Node: Sendable {
        var children: [UInt8: Int32] = [:]
        var token: Int32 = -1
    }

    private var nodes: [Node] = [Node()]

    init(vocabulary: Vocabulary, includeControl: Bool) {
        for (i, kind) in vocabulary.kinds.enumerated() {
            let wanted = kind == .userDefined || (includeControl && (kind == .control || kind == .unknown))
            guard wanted, !vocabulary.tokens[i].isEmpty else { continue }
            insert(Array(vocabulary.tokens[i].utf8), Int32(i))
        }
    }

    private mutating func insert(_ bytes: [UInt8], _ token: Int32) {
        var n = 0
        for b in bytes {
            if let next = nodes[n].children[b] {
                n = Int(next)
            } else {
                nodes.append(Node())
                let next = Int32(nodes.count - 1)
                nodes[n].children[b] = next
                n = Int(next)
            }
        }
        if nodes[n].token < 0 { nodes[n].token = token }
    }

    var isEmpty: Bool { nodes[0].children.isEmpty }

    enum Piece { case text(ArraySlice<UInt8>), token(Int32) }

    /// Splits `bytes` into raw-text pieces and special tokens, taking the longest match at each position.
    func split(_ bytes: [UInt8]) -> [Piece] {
        if isEmpty { return bytes.isEmpty ? [] : [.text(bytes[...])] }
        var pieces: [Piece] = []
        var textStart = 0
        var i = 0
        while i < bytes.count {
            var n = 0, j = i
            var best: (end: Int, token: Int32)? = nil
            while j < bytes.count, let next = nodes[n].children[bytes[j]] {
                n = Int(next)
                j += 1
                if nodes[n].token >= 0 { best = (j, nodes[n].token) }
            }
            if let best {
                if textStart < i { pieces.append(.text(bytes[textStart ..< i])) }
                pieces.append(.token(best.token))
                i = best.end
                textStart = i
            } else {
                i += 1
            }
        }
        if textStart < bytes.count { pieces.append(.text(bytes[textStart...])) }
        return pieces
    }
}
