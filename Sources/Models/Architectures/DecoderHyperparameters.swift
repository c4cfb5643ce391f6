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

    var shape: DecoderShape {
        DecoderShape(embedding: embeddingLength, layers: blockCount, heads: headCount, kvHeads: kvHeads,
                     headDim: headDim, feedForward: feedForwardLength)
    }
}
