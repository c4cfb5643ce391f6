import Foundation
import GGUF
import Tensors

/// `qwen2vl_merger`: Qwen2-VL's own ViT, which reads each image at (about) its own resolution, and its 2x2 patch
/// merger (small-vlms.md §3; transformers `Qwen2VisionTransformerPretrainedModel`, llama.cpp `models/qwen2vl.cpp`).
///
/// - Sizing: `smart_resize` of Hugging Face's processor: each side rounded to a multiple of 28 (half to even, as
///   Python rounds), then scaled into [min, max] pixels; Pillow's bicubic resize to that size, no padding.
///   Images under 28 px on a side, or over 200:1, which the reference refuses, are taken with their short side
///   raised to 28 px. The GGUF holds no pixel limits: the minimum is the processor's (56x56 px), the maximum
///   llama.cpp's 4,096 image tokens (3.2 MP), where the processor allows 16,384 (12.8 MP), far past what a CPU
///   encodes in reasonable time.
/// - Patches: 14 px, in 2x2-merge-block order (each block's four patches consecutive). The Conv3D over two copies
///   of the image (stored as two 2D kernels) is one kernel, their sum.
/// - Blocks: pre-norm LayerNorm, attention with biases and 2D rope (the first quarter of each head's rotated pairs
///   turn by the patch's row, the second by its column), QuickGELU FFN with biases; full attention over the image.
/// - Merger: LayerNorm (`v.post_ln`), every four consecutive tokens as one 4D vector, mm.0 -> GELU (exact, as
///   transformers' nn.GELU; llama.cpp uses the tanh form) -> mm.2.
/// - Prompt: `<|vision_start|>` + one token per 28x28 px + `<|vision_end|>`, laid out as a grid for the decoder's
///   multimodal rope.
struct Qwen2VLProjector: NativeResolutionProjector {
    static let name = "qwen2vl_merger"

    struct Block {
        /// LayerNorm (Qwen2-VL) or RMSNorm (Qwen2.5-VL: no bias).
        let norm1, norm2: (w: [Float], b: [Float]?)
        let query, key, value, output: TensorView      // [D, D]
        let queryBias, keyBias, valueBias, outputBias: [Float]?
        let gate: TensorView?                          // [D, n_ff], Qwen2.5-VL's SwiGLU
        let gateBias: [Float]?
        let up: TensorView                             // [D, n_ff]
        let upBias: [Float]?
        let down: TensorView                           // [n_ff, D]
        let downBias: [Float]?
        /// Attention within windows of merged tokens rather than over the whole image (Qwen2.5-VL).
        let windowed: Bool
    }

    let width: Int                                     // D
    let heads: Int
    let patchSize = 14
    let merge = 2
    let epsilon: Float
    let patchWeight: TensorView                        // [3·14·14, D], the two temporal kernels summed
    let blocks: [Block]
    let mergerNorm: (w: [Float], b: [Float]?)
    /// Qwen2.5-VL's windows, in merged tokens per side (112 px / 28); nil for Qwen2-VL's full attention.
    let window: Int?
    let first: TensorView                              // [4D, 4D]
    let firstBias: [Float]?
    let second: TensorView                             // [4D, n_embd]
    let secondBias: [Float]?
    let minPixels = 56 * 56
    let maxPixels = 4096 * 28 * 28
    private let storage: FloatBuffer

    init(file: GGUFFile, encoderWidth d: Int) throws {
        try self.init(file: file, encoderWidth: d, qwen25: false)
    }

    /// `qwen25`: Qwen2.5-VL's tower: RMSNorm, SwiGLU FFN, window attention but in every `n_wa_pattern`-th block.
    init(file: GGUFFile, encoderWidth d: Int, qwen25: Bool) throws {
        let t = VisionTensors(file: file)
        let pattern = file["clip.vision.n_wa_pattern"]?.int
        if qwen25 {
            guard let pattern, pattern > 0 else { throw VisionError("\(file.path): Qwen2.5-VL's projector needs clip.vision.n_wa_pattern") }
        }
        window = qwen25 ? 4 : nil
        width = d
        heads = file["clip.vision.attention.head_count"]?.int ?? 0
        guard heads > 0, d % heads == 0, (d / heads) % 4 == 0 else {
            throw VisionError("\(file.path): width \(d) does not split into \(heads) heads for 2D rope")
        }
        guard file["clip.vision.patch_size"]?.int == patchSize else {
            throw VisionError("\(file.path): Qwen2-VL's merger expects 14 px patches")
        }
        epsilon = file["clip.vision.attention.layer_norm_epsilon"]?.double.map { Float($0) } ?? 1e-6
        let p = patchSize, k = 3 * p * p
        let w0 = try t.required("v.patch_embd.weight", [p, p, 3, d])
        let w1 = try t.optional("v.patch_embd.weight.1", [p, p, 3, d])
        storage = FloatBuffer(count: k * d)
        var row = [Float](repeating: 0, count: k)
        let flat0 = TensorView(name: w0.name, type: w0.type, shape: [k, d], data: w0.data, owner: file)
        let flat1 = w1.map { TensorView(name: $0.name, type: $0.type, shape: [k, d], data: $0.data, owner: file) }
        for o in 0 ..< d {
            flat0.dequantizeRow(o, into: storage.pointer + o * k)
            if let flat1 {
                row.withUnsafeMutableBufferPointer { flat1.dequantizeRow(o, into: $0.baseAddress!) }
                for i in 0 ..< k { storage.pointer[o * k + i] += row[i] }
            }
        }
        patchWeight = TensorView(name: "v.patch_embd (summed)", type: .f32, shape: [k, d], data: UnsafeRawPointer(storage.pointer), owner: storage)
        // The FFN width comes from the tensors: the converter writes the LLM's width as feed_forward_length.
        var blocks: [Block] = []
        let count = file["clip.vision.block_count"]?.int ?? 0
        for il in 0 ..< count {
            let b = "v.blk.\(il)."
            let up = try t.anyShape(b + "ffn_up.weight"), down = try t.anyShape(b + "ffn_down.weight")
            guard up.shape.count == 2, up.shape[0] == d, down.shape == [up.shape[1], d] else {
                throw VisionError("\(file.path): FFN tensors of block \(il) have shapes \(up.shape) and \(down.shape)")
            }
            func norm(_ name: String) throws -> (w: [Float], b: [Float]?) {
                guard qwen25 else { return try t.norm(name, d) }
                guard let w = try t.optionalFloats(name + ".weight", d) else { throw VisionError("\(file.path): missing tensor '\(name).weight'") }
                return (w, nil)
            }
            let gate = qwen25 ? try t.anyShape(b + "ffn_gate.weight") : nil
            if let gate, gate.shape != up.shape {
                throw VisionError("\(file.path): ffn_gate of block \(il) has shape \(gate.shape), ffn_up \(up.shape)")
            }
            blocks.append(Block(
                norm1: try norm(b + "ln1"), norm2: try norm(b + "ln2"),
                query: try t.required(b + "attn_q.weight", [d, d]), key: try t.required(b + "attn_k.weight", [d, d]),
                value: try t.required(b + "attn_v.weight", [d, d]), output: try t.required(b + "attn_out.weight", [d, d]),
                queryBias: try t.optionalFloats(b + "attn_q.bias", d), keyBias: try t.optionalFloats(b + "attn_k.bias", d),
                valueBias: try t.optionalFloats(b + "attn_v.bias", d), outputBias: try t.optionalFloats(b + "attn_out.bias", d),
                gate: gate, gateBias: try t.optionalFloats(b + "ffn_gate.bias", up.shape[1]),
                up: up, upBias: try t.optionalFloats(b + "ffn_up.bias", up.shape[1]),
                down: down, downBias: try t.optionalFloats(b + "ffn_down.bias", d),
                windowed: qwen25 && (il + 1) % (pattern ?? 1) != 0))
        }
        guard !blocks.isEmpty else { throw VisionError("\(file.path): no vision blocks") }
        self.blocks = blocks
        mergerNorm = qwen25 ? (try t.optionalFloats("v.post_ln.weight", d).map { ($0, nil) }
            ?? { throw VisionError("\(file.path): missing tensor 'v.post_ln.weight'") }()) : try t.norm("v.post_ln", d)
        first = try t.required("mm.0.weight", [4 * d, 4 * d])
        firstBias = try t.optionalFloats("mm.0.bias", 4 * d)
        second = try t.anyShape("mm.2.weight")
        guard second.shape.count == 2, second.shape[0] == 4 * d else {
            throw VisionError("\(file.path): mm.2.weight has shape \(second.shape), expected [\(4 * d), n_embd]")
        }
        secondBias = try t.optionalFloats("mm.2.bias", second.shape[1])
    }

    static func fit(mean: [Float]) -> ImagePreprocessor.Fit { .stretch }
    var outputWidth: Int { second.shape[1] }
    func outputTokens(patches: Int) -> Int { patches / (merge * merge) }
    var imageWrapper: (before: String, after: String)? { ("<|vision_start|>", "<|vision_end|>") }

    // MARK: Sizing

    /// `smart_resize` with factor 28 (see the type's comment for the sizes the reference refuses).
    func resizedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let f = Double(patchSize * merge)
        var w = Double(width), h = Double(height)
        let short = min(w, h)
        if short < f { w *= f / short; h *= f / short }
        var hb = max(f, (h / f).rounded(.toNearestOrEven) * f), wb = max(f, (w / f).rounded(.toNearestOrEven) * f)
        if hb * wb > Double(maxPixels) {
            let beta = (h * w / Double(maxPixels)).squareRoot()
            hb = max(f, (h / beta / f).rounded(.down) * f)
            wb = max(f, (w / beta / f).rounded(.down) * f)
        } else if hb * wb < Double(minPixels) {
            let beta = (Double(minPixels) / (h * w)).squareRoot()
            hb = (h * beta / f).rounded(.up) * f
            wb = (w * beta / f).rounded(.up) * f
        }
        return (Int(wb), Int(hb))
    }

    func layout(width: Int, height: Int) -> ImageLayout {
        let (w, h) = resizedSize(width: width, height: height)
        var layout = ImageLayout()
        layout.append(grid: h / (patchSize * merge), columns: w / (patchSize * merge))
        return layout
    }

    func resized(_ image: RGBImage) -> RGBImage {
        let (w, h) = resizedSize(width: image.width, height: image.height)
        return Resampler.resize(image, width: w, height: h, filter: .bicubic)
    }

    // MARK: Forward

    func embed(_ image: RGBImage, mean: [Float], std: [Float], pool: ThreadPool, progress: ((Double) -> Void)?) -> [Float] {
        let view = resized(image)
        let rows = view.height / (patchSize * merge), columns = view.width / (patchSize * merge)
        let (order, windows) = mergedOrder(rows: rows, columns: columns)
        let patches = unfold(view, order: order, mean: mean, std: std)
        let n = order.count * merge * merge
        var x = linearRows(patchWeight, nil, patches, count: n, pool: pool)
        // The rope's cosines and sines once per image, not once per block.
        let angles = ropeAngles(order: order)
        let rope = (cos: angles.map { cosf($0) }, sin: angles.map { sinf($0) })
        let whole = [0 ..< n]
        let windowRanges = windows.map { $0.lowerBound * merge * merge ..< $0.upperBound * merge * merge }
        let scores = attentionScores(heads: heads, tokens: n)
        for (il, block) in blocks.enumerated() {
            run(block, &x, count: n, rope: rope, segments: block.windowed ? windowRanges : whole, scores: scores, pool: pool)
            progress?(Double(il + 1) / Double(blocks.count))
        }
        let merged = project(x, count: n, pool: pool)
        guard window != nil else { return merged }
        // Back from window order to the grid's row-major order.
        let m = outputWidth
        var out = [Float](repeating: 0, count: merged.count)
        for (i, cell) in order.enumerated() {
            let dst = (cell.row * columns + cell.column) * m
            out.replaceSubrange(dst ..< dst + m, with: merged[i * m ..< (i + 1) * m])
        }
        return out
    }

    /// The merged tokens (2x2 patch blocks) in the order the tower reads them, and the ranges of that order that
    /// attend together: row-major and one range for Qwen2-VL; for Qwen2.5-VL window by window (`get_window_index`:
    /// windows of 4x4 merged tokens, row-major, those at the edges cut short), each window's tokens row-major.
    func mergedOrder(rows: Int, columns: Int) -> (order: [(row: Int, column: Int)], windows: [Range<Int>]) {
        guard let w = window else {
            return ((0 ..< rows * columns).map { ($0 / columns, $0 % columns) }, [0 ..< rows * columns])
        }
        var order: [(row: Int, column: Int)] = [], windows: [Range<Int>] = []
        for wy in stride(from: 0, to: rows, by: w) {
            for wx in stride(from: 0, to: columns, by: w) {
                let start = order.count
                for r in wy ..< min(wy + w, rows) { for c in wx ..< min(wx + w, columns) { order.append((r, c)) } }
                windows.append(start ..< order.count)
            }
        }
        return (order, windows)
    }

    /// Tokens [n][D] -> merged tokens [n/4][n_embd].
    func project(_ tokens: [Float], count n: Int, pool: ThreadPool) -> [Float] {
        var x = tokens
        x.withUnsafeMutableBufferPointer { layerNormRows($0.baseAddress!, n, mergerNorm) }
        var hidden = linearRows(first, firstBias, x, count: n / 4, pool: pool)
        hidden.withUnsafeMutableBufferPointer { Ops.activate($0.baseAddress!, $0.count, .geluErf, pool: pool) }
        return linearRows(second, secondBias, hidden, count: n / 4, pool: pool)
    }

    /// Normalized patches, the four of each merged token consecutive (row in block, column in block), merged tokens
    /// in `order`; each patch's values in (channel, y, x) order, as the processor flattens them.
    func unfold(_ image: RGBImage, order: [(row: Int, column: Int)], mean: [Float], std: [Float]) -> [Float] {
        let p = patchSize, k = 3 * p * p
        var out = [Float](repeating: 0, count: order.count * merge * merge * k)
        var token = 0
        for cell in order {
            for my in 0 ..< merge {
                for mx in 0 ..< merge {
                    let y0 = (cell.row * merge + my) * p, x0 = (cell.column * merge + mx) * p
                    for c in 0 ..< 3 {
                        for py in 0 ..< p {
                            for px in 0 ..< p {
                                let v = Float(image.pixels[3 * ((y0 + py) * image.width + x0 + px) + c])
                                out[token * k + (c * p + py) * p + px] = (v * (1 / 255) - mean[c]) / std[c]
                            }
                        }
                    }
                    token += 1
                }
            }
        }
        return out
    }

    /// Per patch (in `unfold`'s order), the angle of each of a head's d/2 rotated pairs: pair i < d/4 turns by
    /// row·θ_i, the next d/4 by column·θ_(i - d/4), θ_j = 10000^(-4j/d) (VisionRotaryEmbedding over d/2 dimensions).
    func ropeAngles(order: [(row: Int, column: Int)]) -> [Float] {
        let hd = width / heads, quarter = hd / 4
        let theta = (0 ..< quarter).map { powf(10000, -Float(2 * $0) / Float(hd / 2)) }
        var out = [Float](repeating: 0, count: order.count * merge * merge * hd / 2)
        var token = 0
        for cell in order {
            for my in 0 ..< merge {
                for mx in 0 ..< merge {
                    let row = Float(cell.row * merge + my), col = Float(cell.column * merge + mx)
                    for j in 0 ..< quarter {
                        out[token * hd / 2 + j] = row * theta[j]
                        out[token * hd / 2 + quarter + j] = col * theta[j]
                    }
                    token += 1
                }
            }
        }
        return out
    }

    private func layerNormRows(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ norm: (w: [Float], b: [Float]?)) {
        norm.w.withUnsafeBufferPointer { w in
            guard let bias = norm.b else {
                for t in 0 ..< n { Ops.rmsNorm(x + t * width, w.baseAddress, x + t * width, width, eps: epsilon) }
                return
            }
            bias.withUnsafeBufferPointer { b in
                for t in 0 ..< n { Ops.layerNorm(x + t * width, w.baseAddress, b.baseAddress, x + t * width, width, eps: epsilon) }
            }
        }
    }

    private func rotate(_ x: inout [Float], _ rope: (cos: [Float], sin: [Float]), count n: Int) {
        let hd = width / heads, half = hd / 2
        for t in 0 ..< n {
            for i in 0 ..< half {
                let c = rope.cos[t * half + i], s = rope.sin[t * half + i]
                for h in 0 ..< heads {
                    let i0 = t * width + h * hd + i, i1 = i0 + half
                    let x0 = x[i0], x1 = x[i1]
                    x[i0] = x0 * c - x1 * s
                    x[i1] = x1 * c + x0 * s
                }
            }
        }
    }

    private func run(_ blk: Block, _ x: inout [Float], count n: Int, rope: (cos: [Float], sin: [Float]), segments: [Range<Int>],
                     scores: [FloatBuffer], pool: ThreadPool) {
        var normed = x
        normed.withUnsafeMutableBufferPointer { layerNormRows($0.baseAddress!, n, blk.norm1) }
        var q = linearRows(blk.query, blk.queryBias, normed, count: n, pool: pool)
        var k = linearRows(blk.key, blk.keyBias, normed, count: n, pool: pool)
        let v = linearRows(blk.value, blk.valueBias, normed, count: n, pool: pool)
        rotate(&q, rope, count: n)
        rotate(&k, rope, count: n)
        var attended = [Float](repeating: 0, count: n * width)
        q.withUnsafeBufferPointer { qb in
            k.withUnsafeBufferPointer { kb in
                v.withUnsafeBufferPointer { vb in
                    attended.withUnsafeMutableBufferPointer { ob in
                        // Each segment's rows are contiguous: attention within it reads them in place.
                        for r in segments {
                            let o = r.lowerBound * width
                            fullAttention(q: qb.baseAddress! + o, k: kb.baseAddress! + o, v: vb.baseAddress! + o,
                                          out: ob.baseAddress! + o, tokens: r.count, width: width, heads: heads,
                                          scores: scores, pool: pool)
                        }
                    }
                }
            }
        }
        let projected = linearRows(blk.output, blk.outputBias, attended, count: n, pool: pool)
        for i in 0 ..< n * width { x[i] += projected[i] }
        normed = x
        normed.withUnsafeMutableBufferPointer { layerNormRows($0.baseAddress!, n, blk.norm2) }
        var hidden = linearRows(blk.up, blk.upBias, normed, count: n, pool: pool)
        if let gate = blk.gate {
            var g = linearRows(gate, blk.gateBias, normed, count: n, pool: pool)
            g.withUnsafeMutableBufferPointer { gp in
                hidden.withUnsafeBufferPointer { Ops.gatedActivation(gp.baseAddress!, $0.baseAddress!, gp.count, .silu, pool: pool) }
            }
            hidden = g
        } else {
            hidden.withUnsafeMutableBufferPointer { Ops.activate($0.baseAddress!, $0.count, .geluQuick, pool: pool) }
        }
        let out = linearRows(blk.down, blk.downBias, hidden, count: n, pool: pool)
        for i in 0 ..< n * width { x[i] += out[i] }
    }
}

/// `qwen2.5vl_merger`: Qwen2.5-VL's tower (RMSNorm, SwiGLU, attention within 112 px windows except every
/// `n_wa_pattern`-th block, tokens read window by window and put back in grid order after the merger); otherwise
/// Qwen2-VL's sizing, rope, merger and prompt.
struct Qwen25VLProjector: NativeResolutionProjector {
    static let name = "qwen2.5vl_merger"
    let tower: Qwen2VLProjector

    init(file: GGUFFile, encoderWidth d: Int) throws { tower = try Qwen2VLProjector(file: file, encoderWidth: d, qwen25: true) }

    static func fit(mean: [Float]) -> ImagePreprocessor.Fit { .stretch }
    var outputWidth: Int { tower.outputWidth }
    func outputTokens(patches: Int) -> Int { tower.outputTokens(patches: patches) }
    var imageWrapper: (before: String, after: String)? { tower.imageWrapper }
    func project(_ patches: [Float], count: Int, pool: ThreadPool) -> [Float] { tower.project(patches, count: count, pool: pool) }
    func layout(width: Int, height: Int) -> ImageLayout { tower.layout(width: width, height: height) }
    func resized(_ image: RGBImage) -> RGBImage { tower.resized(image) }
    func embed(_ image: RGBImage, mean: [Float], std: [Float], pool: ThreadPool, progress: ((Double) -> Void)?) -> [Float] {
        tower.embed(image, mean: mean, std: std, pool: pool, progress: progress)
    }
}
