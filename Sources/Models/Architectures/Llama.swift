import GGUF
import Tensors

/// `llama`: LLaMA, LLaMA-2 (MiniGPT-4/v2), Vicuna (LLaVA), Mistral, SmolLM2 (formats.md §2.3).
public enum LlamaArchitecture: Architecture {
    public static let name = "llama"

    // MARK: Hyperparameters

    struct Hyperparameters: Decodable {
        let contextLength: Int
        let embeddingLength: Int
        let blockCount: Int
        let feedForwardLength: Int
        let headCount: Int
        let headCountKV: Int?
        let rmsEpsilon: Float
        let keyLength: Int?
        let ropeDimensions: Int?
        let ropeFreqBase: Float?
        let ropeScalingType: String?
        let ropeScalingFactor: Float?
        let ropeScaleLinear: Float?

        enum CodingKeys: String, CodingKey {
            case contextLength = "context_length", embeddingLength = "embedding_length", blockCount = "block_count"
            case feedForwardLength = "feed_forward_length", headCount = "attention.head_count"
            case headCountKV = "attention.head_count_kv", rmsEpsilon = "attention.layer_norm_rms_epsilon"
            case keyLength = "attention.key_length", ropeDimensions = "rope.dimension_count"
            case ropeFreqBase = "rope.freq_base", ropeScalingType = "rope.scaling.type"
            case ropeScalingFactor = "rope.scaling.factor", ropeScaleLinear = "rope.scale_linear"
        }
    }

    // MARK: Loading

    public static func blueprint(file: GGUFFile) throws -> DecoderBlueprint {
        let hp = try file.decode(Hyperparameters.self, prefix: "\(name).")
        let headDim = hp.keyLength ?? hp.embeddingLength / hp.headCount
        let kvHeads = hp.headCountKV ?? hp.headCount
        guard hp.headCount % kvHeads == 0 else {
            throw ModelError("\(file.path): \(hp.headCount) attention heads cannot share \(kvHeads) key/value heads")
        }
        let ropeDims = hp.ropeDimensions ?? headDim
        if let type = hp.ropeScalingType, !["none", "linear"].contains(type) {
            throw ModelError("\(file.path): rope scaling '\(type)' is not supported (none and linear are)")
        }
        let factor = hp.ropeScalingFactor ?? hp.ropeScaleLinear ?? 1
        let loader = TensorLoader(file: file)
        let factors = try loader.optionalFloats("rope_freqs.weight", ropeDims / 2)
        let rope = Rope(dimensions: ropeDims, base: hp.ropeFreqBase ?? 10000, scale: factor > 0 ? 1 / factor : 1,
                        factors: factors, pairing: .adjacent)
        return try DecoderTensors.load(loader, DecoderShape(
            embedding: hp.embeddingLength, layers: hp.blockCount, heads: hp.headCount, kvHeads: kvHeads,
            headDim: headDim, feedForward: hp.feedForwardLength), context: hp.contextLength, epsilon: hp.rmsEpsilon,
            activation: .silu, attentionScale: 1 / Float(headDim).squareRoot()) { _ in (rope, nil) }
    }
}
