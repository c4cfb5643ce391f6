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
        guard kvHeads > 0, headCount % kvHeads == 0 else {
            throw ModelError("\(file.path): \(headCount) attention heads cannot share \(kvHeads) key/value heads")
        }
        if let type = ropeScaling, !["none", "linear"].contains(type) {
            throw ModelError("\(file.path): rope scaling '\(type)' is not supported (none and linear are)")
        }
    }

    var shape: DecoderShape {
        DecoderShape(embedding: embeddingLength, layers: blockCount, heads: headCount, kvHeads: kvHeads,
                     headDim: headDim, feedForward: feedForwardLength)
    }
}
