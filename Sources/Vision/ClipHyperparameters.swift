import GGUF

/// The `clip.vision.*` keys of an mmproj file (formats.md §4.1), plus Glimpse's extension keys
/// (docs/mmproj-extensions.md).
struct ClipHyperparameters: Decodable {
    let imageSize: Int
    let patchSize: Int
    let embeddingLength: Int
    let feedForwardLength: Int
    let blockCount: Int
    let headCount: Int
    let layerNormEpsilon: Float
    let projectionDim: Int?
    let imageMean: [Float]
    let imageStd: [Float]
    let featureLayer: [Int]?
    /// Extension: the FFN activation by name (gelu, gelu_erf, quick_gelu, silu); overrides use_gelu/use_silu.
    let activation: String?
    /// Extension: epsilon of `v.post_ln` when it differs from the blocks' (MiniGPT's ln_vision: 1e-5).
    let postNormEpsilon: Float?

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size", patchSize = "patch_size", embeddingLength = "embedding_length"
        case feedForwardLength = "feed_forward_length", blockCount = "block_count"
        case headCount = "attention.head_count", layerNormEpsilon = "attention.layer_norm_epsilon"
        case projectionDim = "projection_dim", imageMean = "image_mean", imageStd = "image_std"
        case featureLayer = "feature_layer", activation = "feed_forward_activation"
        case postNormEpsilon = "post_ln_epsilon"
    }

    /// Top-level `clip.*` keys.
    struct Flags: Decodable {
        let projectorType: String?
        let useGelu: Bool?
        let useSilu: Bool?
        let hasVisionEncoder: Bool?

        enum CodingKeys: String, CodingKey {
            case projectorType = "projector_type", useGelu = "use_gelu", useSilu = "use_silu"
            case hasVisionEncoder = "has_vision_encoder"
        }
    }
}
