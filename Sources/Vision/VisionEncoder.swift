import COpenBLAS
import Foundation
import GGUF
import Tensors

/// A ViT as llama.cpp's mmproj files describe it (formats.md §4.3): patch embedding, optional class token,
/// learned positions, optional pre-norm, pre-norm blocks with separate or fused q/k/v, optional post-norm.
/// All tokens are processed at once; products go through sgemm.
final class VisionEncoder: @unchecked Sendable {
    struct Block {
        let norm1: (w: [Float], b: [Float])
        /// Either separate q/k/v ([D, D] each) or one fused [D, 3D].
        let query, key, value: TensorView?
        let queryBias, keyBias, valueBias: [Float]?
        let fused: TensorView?
        let fusedBias: [Float]?
        let output: TensorView              // [D, D]
        let outputBias: [Float]?
        let norm2: (w: [Float], b: [Float])
        let up: TensorView                  // [D, n_ff]
        let upBias: [Float]?
        let down: TensorView                // [n_ff, D]
        let downBias: [Float]?
    }

    let width: Int                          // D
    let heads: Int
    let feedForward: Int
    let patchSize: Int
    let gridSide: Int
    let epsilon: Float
    let postEpsilon: Float
    let activation: Activation
    let patchWeight: TensorView             // [3·P·P, D]
    let patchBias: [Float]?
    let classEmbedding: [Float]?            // [D]
    let positions: [Float]                  // [n_pos·D]
    let preNorm: (w: [Float], b: [Float])?
    let postNorm: (w: [Float], b: [Float])?
    let blocks: [Block]
    /// Blocks to run (fewer than stored when a feature layer is named).
    let layersToRun: Int

    var tokenCount: Int { gridSide * gridSide + (classEmbedding == nil ? 0 : 1) }
    var hasClassToken: Bool { classEmbedding != nil }

    init(file: GGUFFile, hp: ClipHyperparameters, activation: Activation) throws {
        let t = VisionTensors(file: file)
        width = hp.embeddingLength
        heads = hp.headCount
        feedForward = hp.feedForwardLength
        patchSize = hp.patchSize
        gridSide = hp.imageSize / hp.patchSize
        epsilon = hp.layerNormEpsilon
        postEpsilon = hp.postNormEpsilon ?? hp.layerNormEpsilon
        self.activation = activation
        guard width % heads == 0 else { throw VisionError("\(file.path): \(width) is not divisible into \(heads) heads") }
        let p = patchSize, d = width
        let rawPatch = try t.required("v.patch_embd.weight", [p, p, 3, d])
        patchWeight = TensorView(name: rawPatch.name, type: rawPatch.type, shape: [3 * p * p, d], data: rawPatch.data, owner: file)
        patchBias = try t.optionalFloats("v.patch_embd.bias", d)
        classEmbedding = try t.optionalFloats("v.class_embd", d)
        let nPos = gridSide * gridSide + (classEmbedding == nil ? 0 : 1)
        positions = try t.required("v.position_embd.weight", [d, nPos]).floats()
        preNorm = try t.optionalNorm("v.pre_ln", d)
        postNorm = try t.optionalNorm("v.post_ln", d)
        var blocks: [Block] = []
        for il in 0 ..< hp.blockCount {
            let b = "v.blk.\(il)."
            let fused = try t.optional(b + "attn_qkv.weight", [d, 3 * d])
            // Old converters swapped the FFN names; the tensor that maps D -> n_ff is "up" whatever its name.
            var up = try t.anyShape(b + "ffn_up.weight"), down = try t.anyShape(b + "ffn_down.weight")
            var upBias = try t.optionalFloats(b + "ffn_up.bias", nil), downBias = try t.optionalFloats(b + "ffn_down.bias", nil)
            if up.shape == [hp.feedForwardLength, d] && down.shape == [d, hp.feedForwardLength] {
                swap(&up, &down)
                swap(&upBias, &downBias)
            }
            guard up.shape == [d, hp.feedForwardLength], down.shape == [hp.feedForwardLength, d] else {
                throw VisionError("\(file.path): FFN tensors of block \(il) have shapes \(up.shape) and \(down.shape)")
            }
            blocks.append(Block(
                norm1: try t.norm(b + "ln1", d),
                query: fused == nil ? try t.required(b + "attn_q.weight", [d, d]) : nil,
                key: fused == nil ? try t.required(b + "attn_k.weight", [d, d]) : nil,
                value: fused == nil ? try t.required(b + "attn_v.weight", [d, d]) : nil,
                queryBias: try t.optionalFloats(b + "attn_q.bias", d),
                keyBias: try t.optionalFloats(b + "attn_k.bias", d),
                valueBias: try t.optionalFloats(b + "attn_v.bias", d),
                fused: fused, fusedBias: try t.optionalFloats(b + "attn_qkv.bias", 3 * d),
                output: try t.required(b + "attn_out.weight", [d, d]),
                outputBias: try t.optionalFloats(b + "attn_out.bias", d),
                norm2: try t.norm(b + "ln2", d),
                up: up, upBias: upBias, down: down, downBias: downBias))
        }
        self.blocks = blocks
        // feature_layer k means "the hidden state after k blocks" (0 = the embeddings).
        let wanted = hp.featureLayer?.filter { $0 > 0 }.max() ?? hp.blockCount
        layersToRun = min(wanted, hp.blockCount)
    }

    // MARK: Forward

    /// [3][S][S] normalized pixels -> [tokens][D] hidden states (class token first, when the model has one).
    func encode(_ pixels: [Float], pool: ThreadPool, progress: ((Double) -> Void)? = nil) -> [Float] {
        let d = width, p = patchSize, g = gridSide, n = tokenCount, nPatch = g * g
        let side = g * p
        let scratch = BatchScratch()
        // Patches unfolded in the weight's (channel, row, column) order: conv as one product.
        var unfolded = [Float](repeating: 0, count: nPatch * 3 * p * p)
        for py in 0 ..< g {
            for px in 0 ..< g {
                let base = (py * g + px) * 3 * p * p
                for c in 0 ..< 3 {
                    for ky in 0 ..< p {
                        let src = c * side * side + (py * p + ky) * side + px * p
                        let dst = base + (c * p + ky) * p
                        for kx in 0 ..< p { unfolded[dst + kx] = pixels[src + kx] }
                    }
                }
            }
        }
        var x = [Float](repeating: 0, count: n * d)
        let first = hasClassToken ? 1 : 0
        x.withUnsafeMutableBufferPointer { xb in
            unfolded.withUnsafeBufferPointer { u in
                MatMul.batch(patchWeight, u.baseAddress!, count: nPatch, xb.baseAddress! + first * d, scratch: scratch, pool: pool)
            }
            if let bias = patchBias { for t in first ..< n { for i in 0 ..< d { xb[t * d + i] += bias[i] } } }
            if let cls = classEmbedding { for i in 0 ..< d { xb[i] = cls[i] } }
            for i in 0 ..< n * d { xb[i] += positions[i] }
            if let pre = preNorm { layerNormRows(xb.baseAddress!, n, pre, epsilon) }
        }
        var work = Workspace(tokens: n, width: d, feedForward: feedForward, heads: heads)
        for il in 0 ..< layersToRun {
            runBlock(blocks[il], &x, &work, scratch: scratch, pool: pool)
            progress?(Double(il + 1) / Double(layersToRun))
        }
        if let post = postNorm, layersToRun == blocks.count {
            x.withUnsafeMutableBufferPointer { layerNormRows($0.baseAddress!, n, post, postEpsilon) }
        }
        return x
    }

    struct Workspace {
        var normed, q, k, v, attended, projected, hidden: [Float]
        var qkv: [Float]
        /// Attention scores, one [n][n] matrix per head, reused by every block.
        let scores: [FloatBuffer]
        init(tokens n: Int, width d: Int, feedForward f: Int, heads: Int) {
            normed = .init(repeating: 0, count: n * d)
            q = normed; k = normed; v = normed; attended = normed; projected = normed
            hidden = .init(repeating: 0, count: n * f)
            qkv = []
            scores = attentionScores(heads: heads, tokens: n)
        }
    }

    private func layerNormRows(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ norm: (w: [Float], b: [Float]), _ eps: Float) {
        norm.w.withUnsafeBufferPointer { w in
            norm.b.withUnsafeBufferPointer { b in
                for t in 0 ..< n { Ops.layerNorm(x + t * width, w.baseAddress, b.baseAddress, x + t * width, width, eps: eps) }
            }
        }
    }

    private func linear(_ w: TensorView, _ bias: [Float]?, _ input: UnsafePointer<Float>, _ n: Int,
                        _ out: UnsafeMutablePointer<Float>, _ scratch: BatchScratch, _ pool: ThreadPool) {
        MatMul.batch(w, input, count: n, out, scratch: scratch, pool: pool)
        if let bias {
            let m = w.rowCount
            bias.withUnsafeBufferPointer { b in for t in 0 ..< n { Ops.add(out + t * m, b.baseAddress!, m) } }
        }
    }

    private func runBlock(_ blk: Block, _ x: inout [Float], _ ws: inout Workspace, scratch: BatchScratch, pool: ThreadPool) {
        let n = tokenCount, d = width
        x.withUnsafeMutableBufferPointer { xb in
            let xp = xb.baseAddress!
            ws.normed.withUnsafeMutableBufferPointer { nb in
                nb.baseAddress!.update(from: xp, count: n * d)
                layerNormRows(nb.baseAddress!, n, blk.norm1, epsilon)
            }
            let normed = ws.normed
            normed.withUnsafeBufferPointer { nb in
                if let fused = blk.fused {
                    if ws.qkv.count != n * 3 * d { ws.qkv = .init(repeating: 0, count: n * 3 * d) }
                    ws.qkv.withUnsafeMutableBufferPointer { linear(fused, blk.fusedBias, nb.baseAddress!, n, $0.baseAddress!, scratch, pool) }
                    for t in 0 ..< n {
                        for i in 0 ..< d {
                            ws.q[t * d + i] = ws.qkv[t * 3 * d + i]
                            ws.k[t * d + i] = ws.qkv[t * 3 * d + d + i]
                            ws.v[t * d + i] = ws.qkv[t * 3 * d + 2 * d + i]
                        }
                    }
                } else {
                    ws.q.withUnsafeMutableBufferPointer { linear(blk.query!, blk.queryBias, nb.baseAddress!, n, $0.baseAddress!, scratch, pool) }
                    ws.k.withUnsafeMutableBufferPointer { linear(blk.key!, blk.keyBias, nb.baseAddress!, n, $0.baseAddress!, scratch, pool) }
                    ws.v.withUnsafeMutableBufferPointer { linear(blk.value!, blk.valueBias, nb.baseAddress!, n, $0.baseAddress!, scratch, pool) }
                }
            }
            attend(&ws, pool: pool)
            let attended = ws.attended
            attended.withUnsafeBufferPointer { ab in
                ws.projected.withUnsafeMutableBufferPointer { linear(blk.output, blk.outputBias, ab.baseAddress!, n, $0.baseAddress!, scratch, pool) }
            }
            ws.projected.withUnsafeBufferPointer { Ops.add(xp, $0.baseAddress!, n * d) }

            ws.normed.withUnsafeMutableBufferPointer { nb in
                nb.baseAddress!.update(from: xp, count: n * d)
                layerNormRows(nb.baseAddress!, n, blk.norm2, epsilon)
            }
            let normed2 = ws.normed
            normed2.withUnsafeBufferPointer { nb in
                ws.hidden.withUnsafeMutableBufferPointer { linear(blk.up, blk.upBias, nb.baseAddress!, n, $0.baseAddress!, scratch, pool) }
            }
            ws.hidden.withUnsafeMutableBufferPointer { hb in
                Ops.activate(hb.baseAddress!, n * feedForward, activation, pool: pool)
            }
            let hidden = ws.hidden
            hidden.withUnsafeBufferPointer { hb in
                ws.projected.withUnsafeMutableBufferPointer { linear(blk.down, blk.downBias, hb.baseAddress!, n, $0.baseAddress!, scratch, pool) }
            }
            ws.projected.withUnsafeBufferPointer { Ops.add(xp, $0.baseAddress!, n * d) }
        }
    }

    /// Full (non-causal) multi-head attention over all tokens (`fullAttention`, with this workspace's scores).
    private func attend(_ ws: inout Workspace, pool: ThreadPool) {
        let n = tokenCount, scores = ws.scores
        ws.q.withUnsafeBufferPointer { qb in
            ws.k.withUnsafeBufferPointer { kb in
                ws.v.withUnsafeBufferPointer { vb in
                    ws.attended.withUnsafeMutableBufferPointer { ob in
                        fullAttention(q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!, out: ob.baseAddress!,
                                      tokens: n, width: width, heads: heads, scores: scores, pool: pool)
                    }
                }
            }
        }
    }
}

/// Non-causal multi-head attention over `tokens` rows of q, k, v ([tokens][width], row stride `width`) into `out`,
/// one head per task through sgemm, in blocks of `attentionQueryBlock` queries so the scores stay small (Gemma 3's
/// SigLIP sees 4096 patches: whole 4096² matrices for 16 heads would take 1 GB, blocks of 256 rows 64 MB).
/// `scores`: one buffer per head of at least min(tokens, attentionQueryBlock) · tokens floats.
func fullAttention(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                   tokens n: Int, width d: Int, heads: Int, scores: [FloatBuffer], pool: ThreadPool) {
    let hd = d / heads, block = attentionQueryBlock
    let scale = 1 / Float(hd).squareRoot()
    pool.parallelFor(heads) { h in
        let s = scores[h].pointer
        for r0 in stride(from: 0, to: n, by: block) {
            let rows = min(block, n - r0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(n), Int32(hd), scale,
                        q + r0 * d + h * hd, Int32(d), k + h * hd, Int32(d), 0, s, Int32(n))
            for t in 0 ..< rows { Ops.softmax(s + t * n, n) }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(hd), Int32(n), 1,
                        s, Int32(n), v + h * hd, Int32(d), 0, out + r0 * d + h * hd, Int32(d))
        }
    }
}

let attentionQueryBlock = 256

/// Score buffers for `fullAttention` over up to `tokens` tokens.
func attentionScores(heads: Int, tokens: Int) -> [FloatBuffer] {
    (0 ..< heads).map { _ in FloatBuffer(count: min(tokens, attentionQueryBlock) * tokens) }
}
