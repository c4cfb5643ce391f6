import GGUF
import Tensors

/// A ConvNeXt trunk (timm's `ConvNeXt` stem and stages, no head), as Mini-Gemini's high-resolution encoder
/// uses it (docs/mmproj-extensions.md, `mgm`): stem conv 4x4/4 + LayerNorm; stages 1-3 open with LayerNorm +
/// conv 2x2/2; every block is `x + gamma ⊙ fc2(gelu(fc1(LN(dwconv7x7(x)))))`. Eval mode: no drop path.
/// Maps are channels-last, `[h][w][c]`.
final class ConvNeXtEncoder: @unchecked Sendable {
    // MARK: Hyperparameters

    struct Hyperparameters: Decodable {
        let blockCounts: [Int]
        let widths: [Int]
        let layerNormEpsilon: Float?

        enum CodingKeys: String, CodingKey {
            case blockCounts = "block_counts", widths = "widths", layerNormEpsilon = "layer_norm_epsilon"
        }
    }

    // MARK: Weights

    struct Block {
        let depthwise: [Float]              // [49][C], tap-major
        let depthwiseBias: [Float]          // [C]
        let norm: (w: [Float], b: [Float])  // [C]
        let up: TensorView                  // [C, 4C]
        let upBias: [Float]                 // [4C]
        let down: TensorView                // [4C, C]
        let downBias: [Float]               // [C]
        let gamma: [Float]                  // [C]
    }

    struct Stage {
        let width: Int
        /// LayerNorm + conv 2x2/2 from the previous stage's width (nil for stage 0).
        let downNorm: (w: [Float], b: [Float])?
        let downConv: TensorView?           // [4·C_prev, C]
        let downBias: [Float]?
        let blocks: [Block]
    }

    let widths: [Int]
    let epsilon: Float
    let stemConv: TensorView                // [3·4·4, C0]
    let stemBias: [Float]
    let stemNorm: (w: [Float], b: [Float])
    let stages: [Stage]

    static let kernel = 7
    static let stemStride = 4

    /// Channels of the fused map: all stages' widths (2880 for ConvNeXt-L).
    var fusedWidth: Int { widths.reduce(0, +) }

    init(file: GGUFFile) throws {
        let hp = try file.decode(Hyperparameters.self, prefix: "clip.vision.convnext.")
        guard hp.widths.count == 4, hp.blockCounts.count == 4, hp.widths.allSatisfy({ $0 > 0 }),
              hp.blockCounts.allSatisfy({ $0 >= 0 }) else {
            throw VisionError("\(file.path): clip.vision.convnext.widths and block_counts must list 4 stages (got \(hp.widths), \(hp.blockCounts))")
        }
        widths = hp.widths
        epsilon = hp.layerNormEpsilon ?? 1e-6
        let t = VisionTensors(file: file)
        let c0 = widths[0], s = Self.stemStride
        stemConv = try Self.flattened(t.required("hr.stem.conv.weight", [s, s, 3, c0]), [3 * s * s, c0], file)
        stemBias = try t.optionalFloats("hr.stem.conv.bias", c0) ?? [Float](repeating: 0, count: c0)
        stemNorm = try t.norm("hr.stem.ln", c0)
        var stages: [Stage] = []
        for (si, c) in widths.enumerated() {
            let p = "hr.s.\(si)."
            var downNorm: (w: [Float], b: [Float])? = nil, downConv: TensorView? = nil, downBias: [Float]? = nil
            if si > 0 {
                let prev = widths[si - 1]
                downNorm = try t.norm(p + "down.ln", prev)
                downConv = try Self.flattened(t.required(p + "down.conv.weight", [2, 2, prev, c]), [4 * prev, c], file)
                downBias = try t.optionalFloats(p + "down.conv.bias", c) ?? [Float](repeating: 0, count: c)
            }
            var blocks: [Block] = []
            for bi in 0 ..< hp.blockCounts[si] {
                let b = p + "blk.\(bi)."
                let k = Self.kernel
                let dw = try t.required(b + "dw.weight", [k, k, 1, c]).floats()
                // [c][k·k] -> [k·k][c]
                var tapMajor = [Float](repeating: 0, count: k * k * c)
                for ch in 0 ..< c { for tap in 0 ..< k * k { tapMajor[tap * c + ch] = dw[ch * k * k + tap] } }
                blocks.append(Block(
                    depthwise: tapMajor,
                    depthwiseBias: try t.optionalFloats(b + "dw.bias", c) ?? [Float](repeating: 0, count: c),
                    norm: try t.norm(b + "ln", c),
                    up: try t.required(b + "fc1.weight", [c, 4 * c]),
                    upBias: try t.optionalFloats(b + "fc1.bias", 4 * c) ?? [Float](repeating: 0, count: 4 * c),
                    down: try t.required(b + "fc2.weight", [4 * c, c]),
                    downBias: try t.optionalFloats(b + "fc2.bias", c) ?? [Float](repeating: 0, count: c),
                    gamma: try t.optionalFloats(b + "gamma", c) ?? [Float](repeating: 1, count: c)))
            }
            stages.append(Stage(width: c, downNorm: downNorm, downConv: downConv, downBias: downBias, blocks: blocks))
        }
        self.stages = stages
    }

    /// A convolution weight viewed as the matrix of its unfolded patches.
    private static func flattened(_ v: TensorView, _ shape: [Int], _ file: GGUFFile) -> TensorView {
        TensorView(name: v.name, type: v.type, shape: shape, data: v.data, owner: file)
    }

    // MARK: Forward

    /// One stage's output: a `side x side` map of `width` channels, channels-last.
    struct StageMap {
        let side: Int
        let width: Int
        let values: [Float]
    }

    /// Multiply-adds of a forward pass at this input side (for progress and benchmarks).
    func cost(side: Int) -> [Double] {
        var out: [Double] = []
        var s = side / Self.stemStride
        for (si, stage) in stages.enumerated() {
            if si > 0 { s /= 2 }
            let hw = Double(s * s), c = Double(stage.width)
            out += stage.blocks.map { _ in hw * (8 * c * c + 49 * c) }
        }
        return out
    }

    /// [3][S][S] normalized pixels -> the four stage outputs. `progress` hears the fraction of the work done.
    func encode(_ pixels: [Float], side: Int, pool: ThreadPool, progress: ((Double) -> Void)? = nil) -> [StageMap] {
        let scratch = BatchScratch()
        let costs = cost(side: side), total = costs.reduce(0, +)
        var done = 0.0, blockIndex = 0
        var s = side / Self.stemStride
        let c0 = widths[0]
        // Stem: conv 4x4/4 as one product over unfolded patches, then LayerNorm over channels.
        var x = [Float](repeating: 0, count: s * s * c0)
        do {
            var unfolded = [Float](repeating: 0, count: s * s * 3 * Self.stemStride * Self.stemStride)
            pixels.withUnsafeBufferPointer { px in
                unfolded.withUnsafeMutableBufferPointer { u in
                    Convolution.unfoldPatches(planar: px.baseAddress!, height: side, width: side, channels: 3,
                                              kernel: Self.stemStride, into: u.baseAddress!, pool: pool)
                }
            }
            x.withUnsafeMutableBufferPointer { xb in
                unfolded.withUnsafeBufferPointer { MatMul.batch(stemConv, $0.baseAddress!, count: s * s, xb.baseAddress!, scratch: scratch, pool: pool) }
                addRows(xb.baseAddress!, stemBias, rows: s * s)
                normRows(xb.baseAddress!, stemNorm, rows: s * s, width: c0, pool: pool)
            }
        }
        var maps: [StageMap] = []
        for (si, stage) in stages.enumerated() {
            let c = stage.width
            if si > 0, let norm = stage.downNorm, let conv = stage.downConv, let bias = stage.downBias {
                let prev = widths[si - 1]
                x.withUnsafeMutableBufferPointer { normRows($0.baseAddress!, norm, rows: s * s, width: prev, pool: pool) }
                let half = s / 2
                var unfolded = [Float](repeating: 0, count: half * half * 4 * prev)
                x.withUnsafeBufferPointer { xb in
                    unfolded.withUnsafeMutableBufferPointer { u in
                        Convolution.unfoldPatches(xb.baseAddress!, height: s, width: s, channels: prev, kernel: 2,
                                                  into: u.baseAddress!, pool: pool)
                    }
                }
                s = half
                x = [Float](repeating: 0, count: s * s * c)
                x.withUnsafeMutableBufferPointer { xb in
                    unfolded.withUnsafeBufferPointer { MatMul.batch(conv, $0.baseAddress!, count: s * s, xb.baseAddress!, scratch: scratch, pool: pool) }
                    addRows(xb.baseAddress!, bias, rows: s * s)
                }
            }
            var work = BlockWorkspace(positions: s * s, width: c)
            for block in stage.blocks {
                run(block, &x, side: s, width: c, &work, scratch: scratch, pool: pool)
                done += costs[blockIndex]
                blockIndex += 1
                progress?(total > 0 ? done / total : 1)
            }
            maps.append(StageMap(side: s, width: c, values: x))
        }
        return maps
    }

    /// Positions per band of the block's MLP: bounds the 4C-wide hidden activations (36,864 positions of 768
    /// floats at stage 0 of a 768 px image would be 113 MB) while keeping sgemm's batches large.
    static let band = 2048

    struct BlockWorkspace {
        var mixed: [Float]                  // [positions][C]
        var hidden: [Float]                 // [band][4C]
        var out: [Float]                    // [band][C]
        init(positions: Int, width c: Int) {
            mixed = .init(repeating: 0, count: positions * c)
            let band = min(positions, ConvNeXtEncoder.band)
            hidden = .init(repeating: 0, count: band * 4 * c)
            out = .init(repeating: 0, count: band * c)
        }
    }

    private func run(_ b: Block, _ x: inout [Float], side s: Int, width c: Int, _ ws: inout BlockWorkspace,
                     scratch: BatchScratch, pool: ThreadPool) {
        let n = s * s
        x.withUnsafeMutableBufferPointer { xb in
            ws.mixed.withUnsafeMutableBufferPointer { mb in
                b.depthwise.withUnsafeBufferPointer { w in
                    b.depthwiseBias.withUnsafeBufferPointer { bias in
                        Convolution.depthwise(xb.baseAddress!, mb.baseAddress!, height: s, width: s, channels: c,
                                              kernel: Self.kernel, weights: w.baseAddress!, bias: bias.baseAddress!, pool: pool)
                    }
                }
                normRows(mb.baseAddress!, b.norm, rows: n, width: c, pool: pool)
                ws.hidden.withUnsafeMutableBufferPointer { hb in
                    ws.out.withUnsafeMutableBufferPointer { ob in
                        for start in stride(from: 0, to: n, by: Self.band) {
                            let rows = min(Self.band, n - start)
                            MatMul.batch(b.up, mb.baseAddress! + start * c, count: rows, hb.baseAddress!, scratch: scratch, pool: pool)
                            addRows(hb.baseAddress!, b.upBias, rows: rows)
                            Ops.activate(hb.baseAddress!, rows * 4 * c, .geluErf, pool: pool)
                            MatMul.batch(b.down, hb.baseAddress!, count: rows, ob.baseAddress!, scratch: scratch, pool: pool)
                            b.downBias.withUnsafeBufferPointer { bias in
                                b.gamma.withUnsafeBufferPointer { g in
                                    for r in 0 ..< rows {
                                        let o = ob.baseAddress! + r * c, dst = xb.baseAddress! + (start + r) * c
                                        for i in 0 ..< c { dst[i] += g[i] * (o[i] + bias[i]) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private func addRows(_ x: UnsafeMutablePointer<Float>, _ bias: [Float], rows: Int) {
        let w = bias.count
        bias.withUnsafeBufferPointer { b in for r in 0 ..< rows { Ops.add(x + r * w, b.baseAddress!, w) } }
    }

    private func normRows(_ x: UnsafeMutablePointer<Float>, _ norm: (w: [Float], b: [Float]), rows: Int, width: Int,
                          pool: ThreadPool) {
        let eps = epsilon
        norm.w.withUnsafeBufferPointer { w in
            norm.b.withUnsafeBufferPointer { b in
                pool.parallelRanges(rows, grain: 64) { range in
                    for r in range { Ops.layerNorm(x + r * width, w.baseAddress, b.baseAddress, x + r * width, width, eps: eps) }
                }
            }
        }
    }
}
