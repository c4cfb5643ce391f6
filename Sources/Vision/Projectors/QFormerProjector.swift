import Foundation
import GGUF
import Tensors

/// `qformer` (Glimpse's extension, docs/mmproj-extensions.md): MiniGPT-4's projector as published, BLIP-2's
/// Q-Former plus `llama_proj`. 32 learned queries go through post-LN BERT layers: self-attention among the
/// queries, cross-attention to all of EVA's tokens (class token included) every `cross_attention_freq` layers,
/// and the queries' own FFN; then one linear layer maps each query to the language model's width. Written from
/// LAVIS's `Qformer.py` (the query-only path MiniGPT-4 runs: no text tokens, masks all ones).
struct QFormerProjector: Projector {
    static let name = "qformer"

    // MARK: Weights

    struct Attention {
        let query: TensorView                // [H, H]
        let key, value: TensorView           // [C, H]: C is H for self-attention, the encoder width for cross
        let queryBias, keyBias, valueBias: [Float]
        let output: TensorView               // [H, H]
        let outputBias: [Float]
        let norm: (w: [Float], b: [Float])   // post-LN over output + residual
    }

    struct Layer {
        let selfAttention: Attention
        /// Only in layers i with i % cross_attention_freq == 0.
        let crossAttention: Attention?
        let up: TensorView                   // [H, F] intermediate_query
        let upBias: [Float]
        let down: TensorView                 // [F, H] output_query
        let downBias: [Float]
        let norm: (w: [Float], b: [Float])
    }

    // MARK: Hyperparameters (clip.vision.qformer.*)

    struct Hyperparameters: Decodable {
        let blockCount: Int
        let headCount: Int
        let layerNormEpsilon: Float
        let crossAttentionFreq: Int

        enum CodingKeys: String, CodingKey {
            case blockCount = "block_count", headCount = "head_count"
            case layerNormEpsilon = "layer_norm_epsilon", crossAttentionFreq = "cross_attention_freq"
        }
    }

    let queries: [Float]                     // [Q·H]
    let queryCount: Int                      // Q
    let width: Int                           // H
    let heads: Int
    let epsilon: Float
    let embeddingNorm: (w: [Float], b: [Float])
    let layers: [Layer]
    let projection: TensorView               // [H, n_embd] llama_proj
    let projectionBias: [Float]?

    init(file: GGUFFile, encoderWidth: Int) throws {
        let t = VisionTensors(file: file)
        let hp = try file.decode(Hyperparameters.self, prefix: "clip.vision.qformer.")
        let rawQueries = try t.anyShape("mm.qformer.query")
        guard rawQueries.shape.count == 2 || (rawQueries.shape.count == 3 && rawQueries.shape[2] == 1) else {
            throw VisionError("\(file.path): mm.qformer.query has shape \(rawQueries.shape), expected [width, queries]")
        }
        let h = rawQueries.shape[0]
        width = h
        queryCount = rawQueries.shape[1]
        queries = rawQueries.floats()
        guard hp.headCount > 0, h % hp.headCount == 0 else {
            throw VisionError("\(file.path): the Q-Former's width \(h) is not divisible into \(hp.headCount) heads")
        }
        guard hp.blockCount > 0, hp.crossAttentionFreq > 0 else {
            throw VisionError("\(file.path): Q-Former block_count \(hp.blockCount) and cross_attention_freq \(hp.crossAttentionFreq) must be positive")
        }
        heads = hp.headCount
        epsilon = hp.layerNormEpsilon
        embeddingNorm = try t.norm("mm.qformer.ln", h)

        func attention(_ p: String, contextWidth c: Int) throws -> Attention {
            func bias(_ name: String) throws -> [Float] {
                try t.optionalFloats(p + name + ".bias", h) ?? { throw VisionError("\(file.path): missing tensor '\(p + name).bias'") }()
            }
            return Attention(query: try t.required(p + "q.weight", [h, h]), key: try t.required(p + "k.weight", [c, h]),
                             value: try t.required(p + "v.weight", [c, h]),
                             queryBias: try bias("q"), keyBias: try bias("k"), valueBias: try bias("v"),
                             output: try t.required(p + "out.weight", [h, h]), outputBias: try bias("out"),
                             norm: try t.norm(p + "ln", h))
        }

        let up0 = try t.anyShape("mm.qformer.blk.0.ffn_up.weight")
        guard up0.shape.count == 2, up0.shape[0] == h else {
            throw VisionError("\(file.path): mm.qformer.blk.0.ffn_up.weight has shape \(up0.shape), expected [\(h), n_ff]")
        }
        let ff = up0.shape[1]
        layers = try (0 ..< hp.blockCount).map { i in
            let b = "mm.qformer.blk.\(i)."
            let crosses = i % hp.crossAttentionFreq == 0
            guard crosses == (file.view(b + "cross_q.weight") != nil) else {
                throw VisionError("\(file.path): Q-Former layer \(i) \(crosses ? "lacks" : "has") cross-attention tensors, "
                                  + "but cross_attention_freq \(hp.crossAttentionFreq) says it \(crosses ? "cross-attends" : "does not")")
            }
            return Layer(selfAttention: try attention(b + "attn_", contextWidth: h),
                         crossAttention: crosses ? try attention(b + "cross_", contextWidth: encoderWidth) : nil,
                         up: try t.required(b + "ffn_up.weight", [h, ff]),
                         upBias: try t.optionalFloats(b + "ffn_up.bias", ff) ?? [Float](repeating: 0, count: ff),
                         down: try t.required(b + "ffn_down.weight", [ff, h]),
                         downBias: try t.optionalFloats(b + "ffn_down.bias", h) ?? [Float](repeating: 0, count: h),
                         norm: try t.norm(b + "ffn_ln", h))
        }
        guard file.view("mm.qformer.blk.\(hp.blockCount).ffn_up.weight") == nil else {
            throw VisionError("\(file.path): the file holds more Q-Former layers than clip.vision.qformer.block_count (\(hp.blockCount))")
        }
        projection = try t.anyShape("mm.0.weight")
        guard projection.shape.count == 2, projection.shape[0] == h else {
            throw VisionError("\(file.path): projector mm.0 has shape \(projection.shape), expected [\(h), n_embd]")
        }
        projectionBias = try t.optionalFloats("mm.0.bias", projection.shape[1])
    }

    /// BLIP-2's processor resizes to the square ignoring the aspect ratio (bicubic).
    static func fit(mean: [Float]) -> ImagePreprocessor.Fit { .stretch }

    var outputWidth: Int { projection.shape[1] }
    func outputTokens(patches: Int) -> Int { queryCount }
    /// MiniGPT-4 hands the Q-Former all of `ln_vision`'s output, the class token first.
    var usesClassToken: Bool { true }

    // MARK: Forward

    /// `count` encoder tokens of the encoder's width -> `queryCount` rows of LLM embeddings.
    func project(_ tokens: [Float], count: Int, pool: ThreadPool) -> [Float] {
        var x = queries
        x.withUnsafeMutableBufferPointer { layerNormRows($0.baseAddress!, queryCount, embeddingNorm) }
        for layer in layers {
            attend(layer.selfAttention, &x, context: x, contextCount: queryCount, pool: pool)
            if let cross = layer.crossAttention { attend(cross, &x, context: tokens, contextCount: count, pool: pool) }
            var hidden = linearRows(layer.up, layer.upBias, x, count: queryCount, pool: pool)
            hidden.withUnsafeMutableBufferPointer { Ops.activate($0.baseAddress!, $0.count, .geluErf, pool: pool) }
            let out = linearRows(layer.down, layer.downBias, hidden, count: queryCount, pool: pool)
            addAndNorm(&x, out, layer.norm)
        }
        return linearRows(projection, projectionBias, x, count: queryCount, pool: pool)
    }

    /// x = LayerNorm(x + W_o·attention(x W_q, context W_k, context W_v) + b_o): BERT's attention block.
    private func attend(_ a: Attention, _ x: inout [Float], context: [Float], contextCount m: Int, pool: ThreadPool) {
        let n = queryCount, h = width, hd = width / heads
        let q = linearRows(a.query, a.queryBias, x, count: n, pool: pool)
        let k = linearRows(a.key, a.keyBias, context, count: m, pool: pool)
        let v = linearRows(a.value, a.valueBias, context, count: m, pool: pool)
        let mixed = FloatBuffer(count: n * h)
        let scale = 1 / Float(hd).squareRoot()
        q.withUnsafeBufferPointer { qb in
            k.withUnsafeBufferPointer { kb in
                v.withUnsafeBufferPointer { vb in
                    let qp = qb.baseAddress!, kp = kb.baseAddress!, vp = vb.baseAddress!, out = mixed.pointer
                    pool.parallelFor(heads) { head in
                        let scores = UnsafeMutablePointer<Float>.allocate(capacity: m)
                        defer { scores.deallocate() }
                        let c0 = head * hd
                        for i in 0 ..< n {
                            for j in 0 ..< m { scores[j] = Ops.dot(qp + i * h + c0, kp + j * h + c0, hd) * scale }
                            Ops.softmax(scores, m)
                            let o = out + i * h + c0
                            for j in 0 ..< m { Ops.axpy(o, scores[j], vp + j * h + c0, hd) }
                        }
                    }
                }
            }
        }
        let attended = Array(UnsafeBufferPointer(start: mixed.pointer, count: n * h))
        addAndNorm(&x, linearRows(a.output, a.outputBias, attended, count: n, pool: pool), a.norm)
    }

    private func addAndNorm(_ x: inout [Float], _ y: [Float], _ norm: (w: [Float], b: [Float])) {
        x.withUnsafeMutableBufferPointer { xb in
            y.withUnsafeBufferPointer { Ops.add(xb.baseAddress!, $0.baseAddress!, xb.count) }
            layerNormRows(xb.baseAddress!, queryCount, norm)
        }
    }

    private func layerNormRows(_ x: UnsafeMutablePointer<Float>, _ rows: Int, _ norm: (w: [Float], b: [Float])) {
        norm.w.withUnsafeBufferPointer { w in
            norm.b.withUnsafeBufferPointer { b in
                for r in 0 ..< rows { Ops.layerNorm(x + r * width, w.baseAddress, b.baseAddress, x + r * width, width, eps: epsilon) }
            }
        }
    }
}
