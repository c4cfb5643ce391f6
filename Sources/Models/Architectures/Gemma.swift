import GGUF
import Tensors

/// `gemma`: Gemma 1 (Mini-Gemini's MGM-2B decoder is gemma-2b-it): GELU gates, NEOX rope, RMS norms whose
/// weights llama.cpp's converter stores already `+1`, tied embeddings. Its input embeddings are multiplied
/// by sqrt(n_embd) whatever they are: Hugging Face's `GemmaModel.forward` scales `inputs_embeds` after MGM has
/// spliced the image rows in, and llama.cpp's gemma graph scales its input the same way. (Gemma 3 scales
/// token embeddings only.)
public enum GemmaArchitecture: Architecture {
    public static let name = "gemma"

    // MARK: Loading

    public static func blueprint(file: GGUFFile) throws -> DecoderBlueprint {
        let hp = try file.decode(DecoderHyperparameters.self, prefix: "\(name).")
        try hp.check(file, ropeScaling: nil)
        let rope = Rope(dimensions: hp.headDim, base: hp.ropeFreqBase ?? 10000, pairing: .halves)
        var bp = try DecoderTensors.load(TensorLoader(file: file), hp.shape, context: hp.contextLength,
                                         epsilon: hp.rmsEpsilon ?? 1e-6, activation: .geluTanh,
                                         attentionScale: 1 / Float(hp.headDim).squareRoot()) { _ in (rope, nil) }
        bp.embeddingScale = Float(hp.embeddingLength).squareRoot()
        bp.scalesInjectedEmbeddings = true
        return bp
    }
}
