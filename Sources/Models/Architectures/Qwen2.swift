import GGUF
import Tensors

/// `qwen2`: Qwen2 and Qwen2.5 decoders (formats.md §2.4), the language model of many LLaVA-style checkpoints:
/// LLaMA's layers with biases on the query, key and value projections, NEOX rope (the converter does not permute
/// Qwen's q/k rows as it does LLaMA's), and usually the output tied to the token embeddings.
public enum Qwen2Architecture: Architecture {
    public static let name = "qwen2"

    // MARK: Hyperparameters

    /// Keys of its own, beside `DecoderHyperparameters`.
    struct Extras: Decodable {
        let ropeScalingType: String?

        enum CodingKeys: String, CodingKey {
            case ropeScalingType = "rope.scaling.type"
        }
    }

    // MARK: Loading

    public static func blueprint(file: GGUFFile) throws -> DecoderBlueprint {
        try blueprint(file: file, prefix: name, sections: nil)
    }

    /// Qwen2's layers under the keys of `prefix` (qwen2, or qwen2vl with rope `sections`).
    static func blueprint(file: GGUFFile, prefix: String, sections: [Int]?) throws -> DecoderBlueprint {
        let hp = try file.decode(DecoderHyperparameters.self, prefix: "\(prefix).")
        let extras = try file.decode(Extras.self, prefix: "\(prefix).")
        // Qwen2.5's long-context variants ask for YaRN, which is refused (their first 32k positions would run as
        // trained without it, but differently from llama.cpp past them).
        try hp.check(file, ropeScaling: extras.ropeScalingType)
        let factor = hp.ropeScalingFactor ?? 1
        let rope = Rope(dimensions: hp.headDim, base: hp.ropeFreqBase ?? 10000, scale: factor > 0 ? 1 / factor : 1,
                        pairing: .halves, sections: sections)
        let loader = TensorLoader(file: file)
        let bp = try DecoderTensors.load(loader, hp.shape, context: hp.contextLength, epsilon: hp.rmsEpsilon ?? 1e-6,
                                         activation: .silu, attentionScale: 1 / Float(hp.headDim).squareRoot()) { _ in (rope, nil) }
        // The biases are part of the architecture (llama.cpp requires them): a file without them is broken.
        for (il, layer) in bp.layers.enumerated() where layer.queryBias == nil || layer.keyBias == nil || layer.valueBias == nil {
            throw ModelError("\(file.path): \(prefix) layer \(il) lacks its attn_q/k/v.bias tensors")
        }
        return bp
    }
}
