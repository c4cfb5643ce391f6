/// How one image enters the prompt: runs of embedding rows, in order, with the text the model expects between
/// them (SmolVLM's `<fake_token_around_image><row_1_col_1>` before each tile). A single-view image is one run.
public struct ImageLayout: Sendable, Equatable {
    public enum Part: Sendable, Equatable {
        /// Text tokenized with special tokens on (the markers are special tokens).
        case text(String)
        /// This many rows of the image's embeddings, the next ones in order.
        case embeddings(Int)
        /// rows x columns of the image's embeddings, row by row, which the decoder places on a grid (Qwen2-VL's
        /// multimodal rope) where its architecture does.
        case grid(rows: Int, columns: Int)
    }

    public private(set) var parts: [Part] = []

    public init() {}

    public init(embeddings count: Int) { parts = [.embeddings(count)] }

    /// Adjacent texts join into one, so they tokenize as the reference's one string does ("\n" then "\n<fake>"
    /// must become the single "\n\n" token, not two "\n").
    public mutating func append(text: String) {
        guard !text.isEmpty else { return }
        if case .text(let before)? = parts.last {
            parts[parts.count - 1] = .text(before + text)
        } else {
            parts.append(.text(text))
        }
    }

    public mutating func append(embeddings count: Int) { parts.append(.embeddings(count)) }

    public mutating func append(grid rows: Int, columns: Int) { parts.append(.grid(rows: rows, columns: columns)) }

    /// Rows of embeddings in all.
    public var embeddingCount: Int {
        parts.reduce(0) { total, part in
            switch part {
            case .embeddings(let n): return total + n
            case .grid(let rows, let columns): return total + rows * columns
            case .text: return total
            }
        }
    }
}
