import GGUF

/// The `{arch}.*` keys every LLaMA-family decoder has (formats.md §2.1); architectures decode this plus
/// their own keys from the same prefix.
struct DecoderHyperparameters: Decodable {
    let contextLength: Int
    let embeddingLength: Int
    let blockCount: Int
    let feedForwardLength: Int
    let headCount: Int
    let headCountKV: Int?
    let rmsEpsilon: Float?
    let keyLength: Int?
    let ropeFreqBase: Float?
    let ropeScalingFactor: Float?

    enum CodingKeys: String, CodingKey {
        case contextLength = "context_length", embeddingLength = "embedding_length", blockCount = "block_count"
        case feedForwardLength = "feed_forward_length", headCount = "attention.head_count"
        case headCountKV = "attention.head_count_kv", rmsEpsilon = "attention.layer_norm_rms_epsilon"
        case keyLength = "attention.key_length", ropeFreqBase = "rope.freq_base"
        case ropeScalingFactor = "rope.scaling.factor"
    }

    var headDim: Int { keyLength ?? embeddingLength / headCount }
    var kvHeads: Int { headCountKV ?? headCount }

    /// Refuses what no LLaMA-family decoder can run: query heads that do not share the key/value heads evenly,
    /// and rope scaling other than none or linear (YaRN, LongRoPE) rather than run it differently from llama.cpp.
    func check(_ file: GGUFFile, ropeScaling: String?) throws {
        // Sizes a crafted file could set to anything: each must be one a real decoder has (the largest today are
        // well inside these), or the arithmetic below divides by zero or the load allocates without end.
        let limits: [(String, Int, ClosedRange<Int>)] = [
            ("embedding_length", embeddingLength, 1 ... 1 << 17), ("block_count", blockCount, 1 ... 4096),
            ("feed_forward_length", feedForwardLength, 1 ... 1 << 20), ("attention.head_count", headCount, 1 ... 4096),
            ("context_length", contextLength, 1 ... 1 << 24), ("attention.head_count_kv", kvHeads, 1 ... 4096),
        ]
        for (key, value, range) in limits where !range.contains(value) {
            throw ModelError("\(file.path): \(key) = \(value) is not a size a decoder can have (\(range.lowerBound)...\(range.upperBound))")
        }
        guard (1 ... 4096).contains(headDim) else {
            throw ModelError("\(file.path): a head width of \(headDim) is not one a decoder can have (1...4096)")
        }
        guard kvHeads > 0, headCount % kvHeads == 0 else {
            throw ModelError("\(file.path): \(headCount) attention heads cannot share \(kvHeads) key/value heads")
        }
        if let type = ropeScaling, !["none", "linear"].contains(type) {
            throw ModelError("\(file.path): rope scaling '\(type)' is not supported (none and linear are)")
        }
    }

    /// A rope over `dimensions` of each head: even, and no wider than the head.
    func checkRope(dimensions: Int, _ file: GGUFFile) throws {
        guard dimensions > 0, dimensions % 2 == 0, dimensions <= headDim else {
            throw ModelError("\(file.path): rope.dimension_count = \(dimensions) does not fit heads \(headDim) wide")
        }
    }

    var shape: DecoderShape {
        DecoderShape(embedding: embeddingLength, layers: blockCount, heads: headCount, kvHeads: kvHeads,
                     headDim: headDim, feedForward: feedForwardLength)
    }
}
