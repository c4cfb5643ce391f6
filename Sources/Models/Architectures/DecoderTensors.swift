import GGUF
import Tensors

/// Sizes shared by every LLaMA-family decoder.
struct DecoderShape {
    let embedding, layers, heads, kvHeads, headDim, feedForward: Int
}

/// Reads the tensors every LLaMA-family GGUF names the same way (formats.md §2.2).
enum DecoderTensors {
    static func load(_ t: TensorLoader, _ s: DecoderShape, context: Int, epsilon: Float, activation: Activation,
                     attentionScale: Float, ropeForLayer: (Int) -> (Rope, Int?)) throws -> DecoderBlueprint {
        let embedding = try t.file.view("token_embd.weight").map { v -> TensorView in
            guard v.shape.count == 2, v.shape[0] == s.embedding else {
                throw ModelError("\(t.file.path): tensor 'token_embd.weight' has shape \(v.shape), expected [\(s.embedding), n_vocab]")
            }
            return v
        } ?? { throw ModelError("\(t.file.path): missing tensor 'token_embd.weight'") }()
        let vocab = embedding.shape[1]
        let q = s.heads * s.headDim, kv = s.kvHeads * s.headDim
        var layers: [DecoderBlueprint.Layer] = []
        for il in 0 ..< s.layers {
            let p = "blk.\(il)."
            let (rope, window) = ropeForLayer(il)
            layers.append(DecoderBlueprint.Layer(
                attentionNorm: try t.floats(p + "attn_norm.weight", s.embedding),
                query: try t.required(p + "attn_q.weight", [s.embedding, q]),
                key: try t.required(p + "attn_k.weight", [s.embedding, kv]),
                value: try t.required(p + "attn_v.weight", [s.embedding, kv]),
                output: try t.required(p + "attn_output.weight", [q, s.embedding]),
                queryBias: try t.optionalFloats(p + "attn_q.bias", q),
                keyBias: try t.optionalFloats(p + "attn_k.bias", kv),
                valueBias: try t.optionalFloats(p + "attn_v.bias", kv),
                outputBias: try t.optionalFloats(p + "attn_output.bias", s.embedding),
                ffnNorm: try t.floats(p + "ffn_norm.weight", s.embedding),
                gate: try t.required(p + "ffn_gate.weight", [s.embedding, s.feedForward]),
                up: try t.required(p + "ffn_up.weight", [s.embedding, s.feedForward]),
                down: try t.required(p + "ffn_down.weight", [s.feedForward, s.embedding]),
                rope: rope, window: window))
        }
        return DecoderBlueprint(
            embeddingLength: s.embedding, headCount: s.heads, headCountKV: s.kvHeads, headDim: s.headDim,
            feedForwardLength: s.feedForward, contextLength: context, normEpsilon: epsilon, activation: activation,
            attentionScale: attentionScale, tokenEmbedding: embedding,
            outputNorm: try t.floats("output_norm.weight", s.embedding),
            output: try t.optional("output.weight", [s.embedding, vocab]) ?? embedding,
            layers: layers)
    }
}
