import GGUF
import Tensors

/// `llama`: LLaMA, LLaMA-2 (MiniGPT-4/v2), Vicuna (LLaVA), Mistral, SmolLM2 (formats.md §2.3).
public enum LlamaArchitecture: Architecture {
    public static let name = "llama"

    // MARK: Hyperparameters

    /// Keys of its own, beside `DecoderHyperparameters`.
    struct Extras: Decodable {
        let ropeDimensions: Int?
        let ropeScalingType: String?
        let ropeScaleLinear: Float?

        enum CodingKeys: String, CodingKey {
            case ropeDimensions = "rope.dimension_count", ropeScalingType = "rope.scaling.type"
            case ropeScaleLinear = "rope.scale_linear"
        }
    }

    // MARK: Loading

    public static func blueprint(file: GGUFFile) throws -> DecoderBlueprint {
        let hp = try file.decode(DecoderHyperparameters.self, prefix: "\(name).")
        let extras = try file.decode(Extras.self, prefix: "\(name).")
        try hp.check(file, ropeScaling: extras.ropeScalingType)
        let ropeDims = extras.ropeDimensions ?? hp.headDim
        try hp.checkRope(dimensions: ropeDims, file)
        let factor = hp.ropeScalingFactor ?? extras.ropeScaleLinear ?? 1
        let loader = TensorLoader(file: file)
        let factors = try loader.optionalFloats("rope_freqs.weight", ropeDims / 2)
        let rope = Rope(dimensions: ropeDims, base: hp.ropeFreqBase ?? 10000, scale: factor > 0 ? 1 / factor : 1,
                        factors: factors, pairing: .adjacent)
        return try DecoderTensors.load(loader, hp.shape, context: hp.contextLength, epsilon: hp.rmsEpsilon ?? 1e-5,
                                       activation: .silu, attentionScale: 1 / Float(hp.headDim).squareRoot()) { _ in (rope, nil) }
    }
}
