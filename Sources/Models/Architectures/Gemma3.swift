import GGUF
import Tensors

/// `gemma3`: Gemma 3 text decoders (formats.md §2.5): q/k norms, post-attention and post-FFN norms,
/// GELU gates, embeddings scaled by sqrt(n_embd), and sliding-window layers (five local, one global)
/// with their own rope base.
public enum Gemma3Architecture: Architecture {
    public static let name = "gemma3"

    // MARK: Hyperparameters

    /// Keys of its own, beside `DecoderHyperparameters`.
    struct Extras: Decodable {
        let slidingWindow: Int?
        let finalLogitSoftcapping: Float?

        enum CodingKeys: String, CodingKey {
            case slidingWindow = "attention.sliding_window", finalLogitSoftcapping = "final_logit_softcapping"
        }
    }

    /// Every sixth layer (5, 11, 17, ...) attends globally; the others are local.
    static let slidingWindowPattern = 6
    /// Local layers' rope base is fixed by the architecture, not stored in files.
    static let localRopeBase: Float = 10000

    // MARK: Loading

    public static func blueprint(file: GGUFFile) throws -> DecoderBlueprint {
        let hp = try file.decode(DecoderHyperparameters.self, prefix: "\(name).")
        let extras = try file.decode(Extras.self, prefix: "\(name).")
        try hp.check(file, ropeScaling: nil)
        let headDim = hp.headDim
        let factor = hp.ropeScalingFactor ?? 1
        let global = Rope(dimensions: headDim, base: hp.ropeFreqBase ?? 1_000_000, scale: factor > 0 ? 1 / factor : 1,
                          pairing: .halves)
        let local = Rope(dimensions: headDim, base: localRopeBase, pairing: .halves)
        let window = (extras.slidingWindow ?? 0) > 0 ? extras.slidingWindow : nil
        // The 27B model (62 layers) scales queries by n_embd/n_head instead of head_dim.
        let scaleDim = hp.blockCount == 62 ? hp.embeddingLength / hp.headCount : headDim
        let loader = TensorLoader(file: file)
        var bp = try DecoderTensors.load(loader, hp.shape, context: hp.contextLength, epsilon: hp.rmsEpsilon ?? 1e-6,
                                         activation: .geluTanh, attentionScale: 1 / Float(scaleDim).squareRoot()) { il in
            let isLocal = window != nil && il % slidingWindowPattern < slidingWindowPattern - 1
            return isLocal ? (local, window) : (global, nil)
        }
        bp.embeddingScale = Float(hp.embeddingLength).squareRoot()
        if let c = extras.finalLogitSoftcapping, c > 0 { bp.finalLogitSoftcap = c }
        for il in 0 ..< hp.blockCount {
            let p = "blk.\(il)."
            bp.layers[il].queryNorm = try loader.floats(p + "attn_q_norm.weight", headDim)
            bp.layers[il].keyNorm = try loader.floats(p + "attn_k_norm.weight", headDim)
            bp.layers[il].postAttentionNorm = try loader.floats(p + "post_attention_norm.weight", hp.embeddingLength)
            bp.layers[il].postFFNNorm = try loader.floats(p + "post_ffw_norm.weight", hp.embeddingLength)
        }
        return bp
    }
}
