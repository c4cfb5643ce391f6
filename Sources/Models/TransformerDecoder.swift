import COpenBLAS
import Foundation
import Tensors

/// What enters the decoder at the next positions: token ids, or ready-made embeddings (image tokens).
public enum DecoderInput: Sendable {
    case tokens([Int32])
    /// `count` rows of n_embd floats, row-major.
    case embeddings([Float], count: Int)

    public var count: Int {
        switch self {
        case .tokens(let t): return t.count
        case .embeddings(_, let n): return n
        }
    }
}

/// Where a run of image embeddings lies: rows x columns, row by row. A decoder with multimodal rope gives each
/// the image's start in time and its row and column (offset from that start); others read it as a sequence.
public struct DecoderGrid: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public init(rows: Int, columns: Int) { self.rows = rows; self.columns = columns }
}

/// Runs a `DecoderBlueprint`: pre-norm attention and gated FFN blocks over a batch of positions,
/// writing keys and values into a `KVCache`. Weights stay in the mapped file; only activations are allocated.
public final class TransformerDecoder: @unchecked Sendable {
    public let blueprint: DecoderBlueprint
    public let pool: ThreadPool
    /// Positions processed per pass; longer inputs are split.
    public let maxBatch: Int

    private let x, normed, q, k, v, attended, projected, gate, up: FloatBuffer
    private let scratch = BatchScratch()
    private var scores: [FloatBuffer] = []

    public init(blueprint: DecoderBlueprint, pool: ThreadPool, maxBatch: Int = 512) {
        self.blueprint = blueprint
        self.pool = pool
        self.maxBatch = maxBatch
        let b = blueprint
        x = FloatBuffer(count: maxBatch * b.embeddingLength)
        normed = FloatBuffer(count: maxBatch * b.embeddingLength)
        q = FloatBuffer(count: maxBatch * b.queryDim)
        k = FloatBuffer(count: maxBatch * b.kvDim)
        v = FloatBuffer(count: maxBatch * b.kvDim)
        attended = FloatBuffer(count: maxBatch * b.queryDim)
        projected = FloatBuffer(count: maxBatch * b.embeddingLength)
        gate = FloatBuffer(count: maxBatch * b.feedForwardLength)
        up = FloatBuffer(count: maxBatch * b.feedForwardLength)
    }

    public func makeCache(capacity: Int) -> KVCache {
        KVCache(layers: blueprint.layers.count, capacity: min(capacity, blueprint.contextLength), kvDim: blueprint.kvDim)
    }

    /// Appends `input` to the cache and, if `logits` is given, writes the next-token logits of the last position.
    /// `progress`, when given, hears after every layer what fraction of `input` is done (a long prompt through a
    /// large model takes a minute on two cores, and a front end can show how far it is).
    /// `causal: false` lets the input's positions attend to each other both ways (Gemma 3's image tokens; an input
    /// longer than one batch is bidirectional within each batch only).
    /// `grid`: where image embeddings lie, for multimodal rope (ignored by decoders without it).
    public func forward(_ input: DecoderInput, cache: KVCache, logits: UnsafeMutablePointer<Float>?,
                        causal: Bool = true, grid: DecoderGrid? = nil, progress: ((Double) -> Void)? = nil) throws {
        let total = input.count
        guard total > 0 else { return }
        guard cache.count + total <= cache.capacity else {
            throw ModelError("the input needs \(cache.count + total) positions but the context holds \(cache.capacity)")
        }
        if case .tokens(let ids) = input, let bad = ids.first(where: { $0 < 0 || Int($0) >= blueprint.vocabularySize }) {
            throw ModelError("token id \(bad) is outside the vocabulary (\(blueprint.vocabularySize) tokens)")
        }
        if case .embeddings(let e, let n) = input, e.count != n * blueprint.embeddingLength {
            throw ModelError("embeddings have \(e.count) floats, expected \(n) × \(blueprint.embeddingLength)")
        }
        // Rope positions: one per token, or (start, start + row, start + column) over an image's grid.
        let base = cache.nextPosition
        let onGrid = grid.flatMap { g in blueprint.multimodalRope && g.rows * g.columns == total ? g : nil }
        let end = onGrid.map { base + max($0.rows, $0.columns) } ?? base + total
        func position(_ i: Int) -> (Int, Int, Int) {
            guard let g = onGrid else { return (base + i, base + i, base + i) }
            return (base, base + i / g.columns, base + i % g.columns)
        }
        var start = 0
        while start < total {
            let n = min(maxBatch, total - start)
            loadInput(input, from: start, count: n)
            let positions = (start ..< start + n).map(position)
            let layers = blueprint.layers.count
            for l in 0 ..< layers {
                runLayer(l, count: n, cache: cache, causal: causal, positions: positions)
                progress?((Double(start) + Double(n) * Double(l + 1) / Double(layers)) / Double(total))
            }
            for t in 0 ..< n {
                cache.positionAfter[cache.count + t] = Int32(onGrid == nil ? positions[t].0 + 1 : end)
            }
            cache.count += n
            start += n
        }
        cache.nextPosition = end
        if let logits { computeLogits(row: (total - 1) % maxBatch, into: logits) }
    }

    // MARK: Steps

    private func loadInput(_ input: DecoderInput, from start: Int, count n: Int) {
        let d = blueprint.embeddingLength
        switch input {
        case .tokens(let ids):
            for t in 0 ..< n {
                let row = x.pointer + t * d
                blueprint.tokenEmbedding.dequantizeRow(Int(ids[start + t]), into: row)
                if blueprint.embeddingScale != 1 { Ops.scale(row, blueprint.embeddingScale, d) }
            }
        case .embeddings(let e, _):
            e.withUnsafeBufferPointer { src in
                x.pointer.update(from: src.baseAddress! + start * d, count: n * d)
            }
            if blueprint.scalesInjectedEmbeddings && blueprint.embeddingScale != 1 {
                Ops.scale(x.pointer, blueprint.embeddingScale, n * d)
            }
        }
    }

    private func runLayer(_ l: Int, count n: Int, cache: KVCache, causal: Bool, positions: [(Int, Int, Int)]) {
        let b = blueprint, layer = b.layers[l], d = b.embeddingLength, eps = b.normEpsilon
        let p0 = cache.count

        // Attention block.
        for t in 0 ..< n { Ops.rmsNorm(x.pointer + t * d, layer.attentionNorm, normed.pointer + t * d, d, eps: eps) }
        projectShared([(layer.query, q.pointer, layer.queryBias), (layer.key, k.pointer, layer.keyBias),
                       (layer.value, v.pointer, layer.valueBias)], normed.pointer, n)
        for t in 0 ..< n {
            let qt = q.pointer + t * b.queryDim, kt = k.pointer + t * b.kvDim
            if let w = layer.queryNorm {
                for h in 0 ..< b.headCount { Ops.rmsNorm(qt + h * b.headDim, w, qt + h * b.headDim, b.headDim, eps: eps) }
            }
            if let w = layer.keyNorm {
                for h in 0 ..< b.headCountKV { Ops.rmsNorm(kt + h * b.headDim, w, kt + h * b.headDim, b.headDim, eps: eps) }
            }
            layer.rope.apply(qt, heads: b.headCount, headDim: b.headDim, position: positions[t])
            layer.rope.apply(kt, heads: b.headCountKV, headDim: b.headDim, position: positions[t])
        }
        (cache.keys[l] + p0 * b.kvDim).update(from: k.pointer, count: n * b.kvDim)
        (cache.values[l] + p0 * b.kvDim).update(from: v.pointer, count: n * b.kvDim)
        attend(layer: l, count: n, start: p0, window: layer.window, cache: cache, causal: causal)
        project(layer.output, attended.pointer, n, projected.pointer, bias: layer.outputBias)
        if let w = layer.postAttentionNorm {
            for t in 0 ..< n { Ops.rmsNorm(projected.pointer + t * d, w, projected.pointer + t * d, d, eps: eps) }
        }
        Ops.add(x.pointer, projected.pointer, n * d)

        // Feed-forward block.
        for t in 0 ..< n { Ops.rmsNorm(x.pointer + t * d, layer.ffnNorm, normed.pointer + t * d, d, eps: eps) }
        projectShared([(layer.gate, gate.pointer, nil), (layer.up, up.pointer, nil)], normed.pointer, n)
        Ops.gatedActivation(gate.pointer, up.pointer, n * b.feedForwardLength, b.activation, pool: pool)
        project(layer.down, gate.pointer, n, projected.pointer, bias: nil)
        if let w = layer.postFFNNorm {
            for t in 0 ..< n { Ops.rmsNorm(projected.pointer + t * d, w, projected.pointer + t * d, d, eps: eps) }
        }
        Ops.add(x.pointer, projected.pointer, n * d)
    }

    private func project(_ w: TensorView, _ input: UnsafePointer<Float>, _ n: Int, _ out: UnsafeMutablePointer<Float>,
                         bias: [Float]?) {
        MatMul.batch(w, input, count: n, out, scratch: scratch, pool: pool)
        if let bias {
            let m = w.rowCount
            for t in 0 ..< n { bias.withUnsafeBufferPointer { Ops.add(out + t * m, $0.baseAddress!, m) } }
        }
    }

    /// Several projections of the same input; a single position runs them in one parallel region.
    private func projectShared(_ jobs: [(TensorView, UnsafeMutablePointer<Float>, [Float]?)],
                               _ input: UnsafePointer<Float>, _ n: Int) {
        guard n == 1 else {
            for (w, out, bias) in jobs { project(w, input, n, out, bias: bias) }
            return
        }
        MatMul.vectors(jobs.map(\.0), input, jobs.map(\.1), scratch: scratch, pool: pool)
        for (w, out, bias) in jobs {
            if let bias { bias.withUnsafeBufferPointer { Ops.add(out, $0.baseAddress!, w.rowCount) } }
        }
    }

    /// Causal (optionally windowed) attention of `n` new queries at positions start..<start+n over the cache,
    /// one head per task: S = scale·Q·Kᵀ, masked softmax, O = S·V, both products through sgemm. Not causal, the new
    /// positions also see each other's later ones.
    private func attend(layer l: Int, count n: Int, start p0: Int, window: Int?, cache: KVCache, causal: Bool) {
        let b = blueprint, hd = b.headDim, group = b.headCount / b.headCountKV
        let lo = window.map { max(0, p0 - $0 + 1) } ?? 0
        let keysSeen = p0 + n - lo
        if scores.count < b.headCount || scores[0].count < n * keysSeen {
            scores = (0 ..< b.headCount).map { _ in FloatBuffer(count: max(n * keysSeen, 4096)) }
        }
        let keys = cache.keys[l], values = cache.values[l]
        let qBase = q.pointer, oBase = attended.pointer
        if n == 1 {
            // One query: plain dot products and a weighted sum (sgemm's packing costs more than the work).
            pool.parallelFor(b.headCount) { h in
                let g = h / group
                let s = self.scores[h].pointer, qh = qBase + h * hd, out = oBase + h * hd
                for j in 0 ..< keysSeen { s[j] = b.attentionScale * Ops.dot(qh, keys + (lo + j) * b.kvDim + g * hd, hd) }
                Ops.softmax(s, keysSeen)
                out.update(repeating: 0, count: hd)
                for j in 0 ..< keysSeen { Ops.axpy(out, s[j], values + (lo + j) * b.kvDim + g * hd, hd) }
            }
            return
        }
        pool.parallelFor(b.headCount) { h in
            let g = h / group
            let s = self.scores[h].pointer
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(keysSeen), Int32(hd),
                        b.attentionScale, qBase + h * hd, Int32(b.queryDim),
                        keys + lo * b.kvDim + g * hd, Int32(b.kvDim), 0, s, Int32(keysSeen))
            for t in 0 ..< n {
                let pos = p0 + t
                let row = s + t * keysSeen
                // Visible keys: j in (pos - window, pos]; indices relative to lo.
                let first = window.map { max(lo, pos - $0 + 1) } ?? lo
                for j in lo ..< first { row[j - lo] = -.infinity }
                if causal { for j in (pos + 1) ..< (p0 + n) { row[j - lo] = -.infinity } }
                Ops.softmax(row, keysSeen)
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(hd), Int32(keysSeen),
                        1, s, Int32(keysSeen), values + lo * b.kvDim + g * hd, Int32(b.kvDim),
                        0, oBase + h * hd, Int32(b.queryDim))
        }
    }

    private func computeLogits(row t: Int, into logits: UnsafeMutablePointer<Float>) {
        let d = blueprint.embeddingLength
        Ops.rmsNorm(x.pointer + t * d, blueprint.outputNorm, normed.pointer, d, eps: blueprint.normEpsilon)
        MatMul.vector(blueprint.output, normed.pointer, logits, scratch: scratch.activations[0], pool: pool)
        if let c = blueprint.finalLogitSoftcap {
            for i in 0 ..< blueprint.vocabularySize { logits[i] = c * tanhf(logits[i] / c) }
        }
    }
}
