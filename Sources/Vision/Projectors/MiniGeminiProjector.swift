import COpenBLAS
import Dispatch
import GGUF
import Tensors

/// `mgm`: Mini-Gemini (docs/mmproj-extensions.md, MGM's `encode_images` and `unified_resampler`). The image is
/// seen twice: by CLIP at 336 px (one view, or 2x2 tiles plus a global view for the HD models) and by a ConvNeXt
/// at 768/1536 px; every CLIP token then attends over the 8x8 high-resolution features under it ("patch info
/// mining") and gains what it finds, before LLaVA's two-layer projector.
struct MiniGeminiProjector: ImagePathProjector {
    static let name = "mgm"

    // MARK: Hyperparameters

    struct Hyperparameters: Decodable {
        let imageSizeAux: Int
        let imageGrid: Int?
        let imageGlobal: Bool?
        let fusion: String?
        let layerNormEpsilon: Float?

        enum CodingKeys: String, CodingKey {
            case imageSizeAux = "image_size_aux", imageGrid = "image_grid", imageGlobal = "image_global"
            case fusion = "fusion", layerNormEpsilon = "layer_norm_epsilon"
        }
    }

    /// The only way MGM fuses the ConvNeXt stages (`OpenCLIPVisionTower.backbone`).
    static let knownFusion = "bilinear_concat"

    // MARK: Weights

    let hr: ConvNeXtEncoder
    let mlp: MLPProjector
    let queryNorm: (w: [Float], b: [Float])    // [C]
    let query: TensorView                       // [C, C]
    let queryBias: [Float]?                     // [C]
    let keyNorm: (w: [Float], b: [Float])      // [Ca]
    /// `[C][Ca]` row-major (PyTorch's layout), as floats: queries are mapped back through it (see `mine`).
    let key: [Float]
    let valueNorm: (w: [Float], b: [Float])    // [Ca]
    let value: TensorView                       // [Ca, C]
    let valueBias: [Float]?                     // [C]

    let width: Int                              // C, CLIP's
    let fusedWidth: Int                         // Ca
    let epsilon: Float
    let hrSide: Int                             // image_size_aux
    let lrSide: Int                             // image_size
    let patchSize: Int
    let grid: Int
    let global: Bool
    let imagePreprocessor: ImagePreprocessor

    init(file: GGUFFile, encoderWidth d: Int) throws {
        let hp = try file.decode(Hyperparameters.self, prefix: "clip.vision.mgm.")
        let fusion = hp.fusion ?? Self.knownFusion
        guard fusion == Self.knownFusion else {
            throw VisionError("\(file.path): unknown clip.vision.mgm.fusion '\(fusion)' (Glimpse knows '\(Self.knownFusion)', MGM's)")
        }
        let clip = try file.decode(ClipHyperparameters.self, prefix: "clip.vision.")
        grid = hp.imageGrid ?? 1
        global = hp.imageGlobal ?? false
        hrSide = hp.imageSizeAux
        lrSide = clip.imageSize
        patchSize = clip.patchSize
        guard grid >= 1, hrSide % (ConvNeXtEncoder.stemStride * 8) == 0 else {
            throw VisionError("\(file.path): image_size_aux \(hrSide) must be a multiple of 32 and image_grid \(grid) at least 1")
        }
        let patches = lrSide / patchSize, regionSide = hrSide / ConvNeXtEncoder.stemStride / grid
        guard regionSide % patches == 0 else {
            throw VisionError("\(file.path): a \(regionSide)-wide high-resolution map per view does not split into \(patches)x\(patches) blocks")
        }
        hr = try ConvNeXtEncoder(file: file)
        mlp = try MLPProjector(file: file, encoderWidth: d)
        width = d
        fusedWidth = hr.fusedWidth
        epsilon = hp.layerNormEpsilon ?? 1e-5
        let t = VisionTensors(file: file), ca = fusedWidth
        queryNorm = try t.norm("mm.mgm.query.ln", d)
        query = try t.required("mm.mgm.query.weight", [d, d])
        queryBias = try t.optionalFloats("mm.mgm.query.bias", d)
        keyNorm = try t.norm("mm.mgm.key.ln", ca)
        key = try t.required("mm.mgm.key.weight", [ca, d]).floats()
        _ = try t.optionalFloats("mm.mgm.key.bias", d)   // checked, but it shifts every candidate's score alike
        valueNorm = try t.norm("mm.mgm.value.ln", ca)
        value = try t.required("mm.mgm.value.weight", [ca, d])
        valueBias = try t.optionalFloats("mm.mgm.value.bias", d)
        imagePreprocessor = ImagePreprocessor(size: hrSide, mean: clip.imageMean, std: clip.imageStd,
                                              fit: MLPProjector.fit(mean: clip.imageMean), filter: .bicubic)
    }

    static func fit(mean: [Float]) -> ImagePreprocessor.Fit { MLPProjector.fit(mean: mean) }
    var outputWidth: Int { mlp.outputWidth }
    func outputTokens(patches: Int) -> Int { patches * viewCount }
    var viewCount: Int { grid * grid + (global ? 1 : 0) }
    var preprocessor: ImagePreprocessor { imagePreprocessor }

    func project(_ patches: [Float], count: Int, pool: ThreadPool) -> [Float] {
        mlp.project(patches, count: count, pool: pool)
    }

    // MARK: Views

    /// Where a view's high-resolution candidates come from in the fused map.
    enum Region {
        /// The map's square at this origin, of the view's side (the whole map, or a tile).
        case square(y: Int, x: Int)
        /// The whole map resized by 1/grid (the global view): bilinear taps over the map.
        case resized(BilinearTaps)
    }

    struct View {
        let pixels: [Float]                     // [3][lrSide][lrSide]
        let region: Region
    }

    /// MGM's views in token order: `[global, TL, TR, BL, BR]` (cli.py; encode_images puts the global first).
    func views(hrPixels: [Float]) -> [View] {
        let lr = lrSide * grid
        let full = BilinearTaps.resize(planar: hrPixels, channels: 3, height: hrSide, width: hrSide, toHeight: lr, width: lr)
        let mapSide = hrSide / ConvNeXtEncoder.stemStride, regionSide = mapSide / grid
        if grid == 1 { return [View(pixels: full, region: .square(y: 0, x: 0))] }
        var out: [View] = []
        if global {
            let small = BilinearTaps.resize(planar: full, channels: 3, height: lr, width: lr, toHeight: lrSide, width: lrSide)
            out.append(View(pixels: small, region: .resized(BilinearTaps(input: mapSide, output: regionSide))))
        }
        for ty in 0 ..< grid {
            for tx in 0 ..< grid {
                var tile = [Float](repeating: 0, count: 3 * lrSide * lrSide)
                for c in 0 ..< 3 {
                    for y in 0 ..< lrSide {
                        let src = (c * lr + ty * lrSide + y) * lr + tx * lrSide
                        let dst = (c * lrSide + y) * lrSide
                        tile.replaceSubrange(dst ..< dst + lrSide, with: full[src ..< src + lrSide])
                    }
                }
                out.append(View(pixels: tile, region: .square(y: ty * regionSide, x: tx * regionSide)))
            }
        }
        return out
    }

    // MARK: Forward

    func embed(pixels: [Float], encoder: VisionEncoder, pool: ThreadPool, progress: ((Double) -> Void)?,
               timing: ((String, Double) -> Void)?) -> [Float] {
        let mined = minedFeatures(pixels: pixels, encoder: encoder, pool: pool, progress: progress, timing: timing)
        let start = DispatchTime.now().uptimeNanoseconds
        let out = mlp.project(mined, count: mined.count / width, pool: pool)
        timing?("projector", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        return out
    }

    /// Every view's CLIP tokens plus what mining found, before the projector: `[tokens][C]`. `timing` hears the
    /// seconds each part took: "encoder" (CLIP, all views), "hr_encoder" (ConvNeXt), "mining".
    func minedFeatures(pixels: [Float], encoder: VisionEncoder, pool: ThreadPool, progress: ((Double) -> Void)?,
                       timing: ((String, Double) -> Void)? = nil) -> [Float] {
        var clock = DispatchTime.now().uptimeNanoseconds
        func lap(_ part: String) {
            let now = DispatchTime.now().uptimeNanoseconds
            timing?(part, Double(now - clock) / 1e9)
            clock = now
        }
        let views = views(hrPixels: pixels)
        let n = encoder.gridSide * encoder.gridSide, d = width
        // Progress in proportion to multiply-adds: CLIP per view, the ConvNeXt's blocks.
        let clipCost = Double(encoder.layersToRun) * Double(n) * Double(4 * d * d + 2 * d * encoder.feedForward + 2 * n * d)
        let hrCosts = hr.cost(side: hrSide)
        let total = clipCost * Double(views.count) + hrCosts.reduce(0, +)
        var done = 0.0
        var clip: [[Float]] = []
        for view in views {
            let hidden = encoder.encode(view.pixels, pool: pool) { f in progress?((done + f * clipCost) / total) }
            done += clipCost
            clip.append(encoder.hasClassToken ? Array(hidden[d...]) : hidden)
        }
        lap("encoder")
        let base = done
        let maps = hr.encode(pixels, side: hrSide, pool: pool) { f in progress?((base + f * (total - base)) / total) }
        lap("hr_encoder")
        let fused = FusedMap(maps: maps, side: hrSide / ConvNeXtEncoder.stemStride)
        var out: [Float] = []
        out.reserveCapacity(views.count * n * d)
        for (view, x) in zip(views, clip) { out += mine(x, tokens: n, region: view.region, fused: fused, pool: pool) }
        lap("mining")
        progress?(1)
        return out
    }

    /// `unified_resampler` for one view: x + softmax(q·k_j/√C)·v_j over the token's M x M candidates.
    ///
    /// Computed without projecting the candidates: with n_j the candidate normalized (the LayerNorm before its
    /// weight and bias), `q·k_j = (Wkᵀq ⊙ γk)·n_j + (terms equal for every j)`, which the softmax drops, and
    /// `Σ a_j v_j = Wv(γv ⊙ Σ a_j n_j + βv) + bv` since the weights sum to one. Each token then costs two
    /// products with the 1024 x 2880 weights instead of 128 (64 candidates, keys and values): 36,864 candidates
    /// of a 768 px image would take 217 GMAC projected, and take 3.4 this way. Exact up to rounding.
    func mine(_ x: [Float], tokens n: Int, region: Region, fused: FusedMap, pool: ThreadPool) -> [Float] {
        let d = width, ca = fusedWidth, patches = Int(Double(n).squareRoot())
        let regionSide: Int
        switch region {
        case .square: regionSide = fused.side / grid
        case .resized(let taps): regionSide = taps.first.count
        }
        let m = regionSide / patches, candidates = m * m
        let scratch = BatchScratch()
        // q = Lq(LNq(x)), then g = (Wkᵀ q ⊙ γk) / √C, one row of Ca per token.
        var normed = x
        normed.withUnsafeMutableBufferPointer { nb in
            queryNorm.w.withUnsafeBufferPointer { w in
                queryNorm.b.withUnsafeBufferPointer { b in
                    for t in 0 ..< n { Ops.layerNorm(nb.baseAddress! + t * d, w.baseAddress, b.baseAddress, nb.baseAddress! + t * d, d, eps: epsilon) }
                }
            }
        }
        let q = linearRows(query, queryBias, normed, count: n, pool: pool)
        var g = [Float](repeating: 0, count: n * ca)
        q.withUnsafeBufferPointer { qb in
            key.withUnsafeBufferPointer { kb in
                g.withUnsafeMutableBufferPointer { gb in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(ca), Int32(d), 1 / Float(d).squareRoot(),
                                qb.baseAddress!, Int32(d), kb.baseAddress!, Int32(ca), 0, gb.baseAddress!, Int32(ca))
                }
            }
        }
        var mixed = [Float](repeating: 0, count: n * ca)   // γv ⊙ Σ a_j n_j + βv, per token
        let eps = epsilon
        g.withUnsafeMutableBufferPointer { gb in
            mixed.withUnsafeMutableBufferPointer { mb in
                keyNorm.w.withUnsafeBufferPointer { kw in
                    valueNorm.w.withUnsafeBufferPointer { vw in
                        valueNorm.b.withUnsafeBufferPointer { vb in
                            pool.parallelRanges(n, grain: 8) { range in
                                let cand = FloatBuffer(count: candidates * ca), corners = FloatBuffer(count: 4 * ca)
                                var scores = [Float](repeating: 0, count: candidates)
                                for t in range {
                                    let r = t / patches, c = t % patches
                                    let gt = gb.baseAddress! + t * ca
                                    for i in 0 ..< ca { gt[i] *= kw[i] }
                                    for j in 0 ..< candidates {
                                        let row = cand.pointer + j * ca
                                        fused.candidate(region, y: r * m + j / m, x: c * m + j % m, into: row, scratch: corners.pointer)
                                        Ops.layerNorm(row, nil, nil, row, ca, eps: eps)
                                        scores[j] = Ops.dot(gt, row, ca)
                                    }
                                    scores.withUnsafeMutableBufferPointer { Ops.softmax($0.baseAddress!, candidates) }
                                    let out = mb.baseAddress! + t * ca
                                    out.update(repeating: 0, count: ca)
                                    for j in 0 ..< candidates { Ops.axpy(out, scores[j], cand.pointer + j * ca, ca) }
                                    for i in 0 ..< ca { out[i] = out[i] * vw[i] + vb[i] }
                                }
                            }
                        }
                    }
                }
            }
        }
        var result = linearRows(value, valueBias, mixed, count: n, pool: pool)
        for i in 0 ..< n * d { result[i] += x[i] }
        return result
    }
}

/// The four ConvNeXt stage maps seen as one `side x side` map of all their channels: stages 1-3 upsampled
/// bilinearly to stage 0's size (`F.interpolate`, align_corners=False) and concatenated. Values are made
/// when asked for, one position at a time: the whole map would be 2880 x 384² floats (1.7 GB) at 1536 px.
struct FusedMap {
    let maps: [ConvNeXtEncoder.StageMap]
    let side: Int
    let taps: [BilinearTaps]

    init(maps: [ConvNeXtEncoder.StageMap], side: Int) {
        self.maps = maps
        self.side = side
        taps = maps.map { BilinearTaps(input: $0.side, output: side) }
    }

    /// The fused vector at map position (y, x).
    func value(y: Int, x: Int, into dst: UnsafeMutablePointer<Float>) {
        var offset = 0
        for (s, map) in maps.enumerated() {
            let c = map.width
            map.values.withUnsafeBufferPointer { v in
                let base = v.baseAddress!
                if map.side == side {
                    (dst + offset).update(from: base + (y * side + x) * c, count: c)
                } else {
                    let t = taps[s], w = map.side
                    let r0 = base + t.first[y] * w * c, r1 = base + t.second[y] * w * c
                    let x0 = t.first[x] * c, x1 = t.second[x] * c
                    let wy0 = t.firstWeight[y], wy1 = t.secondWeight[y], wx0 = t.firstWeight[x], wx1 = t.secondWeight[x]
                    let out = dst + offset
                    for i in 0 ..< c {
                        out[i] = wy0 * (wx0 * r0[x0 + i] + wx1 * r0[x1 + i]) + wy1 * (wx0 * r1[x0 + i] + wx1 * r1[x1 + i])
                    }
                }
            }
            offset += c
        }
    }

    /// A view's candidate at (y, x) of its region. `scratch` holds four fused vectors.
    func candidate(_ region: MiniGeminiProjector.Region, y: Int, x: Int, into dst: UnsafeMutablePointer<Float>,
                   scratch p: UnsafeMutablePointer<Float>) {
        switch region {
        case .square(let oy, let ox):
            value(y: oy + y, x: ox + x, into: dst)
        case .resized(let t):
            // The global view's map: the fused map itself resized (MGM interpolates the concatenated map).
            let width = maps.reduce(0) { $0 + $1.width }
            let ys = [t.first[y], t.second[y]], xs = [t.first[x], t.second[x]]
            for (i, (yy, xx)) in [(ys[0], xs[0]), (ys[0], xs[1]), (ys[1], xs[0]), (ys[1], xs[1])].enumerated() {
                value(y: yy, x: xx, into: p + i * width)
            }
            let wy0 = t.firstWeight[y], wy1 = t.secondWeight[y], wx0 = t.firstWeight[x], wx1 = t.secondWeight[x]
            for i in 0 ..< width {
                dst[i] = wy0 * (wx0 * p[i] + wx1 * p[width + i]) + wy1 * (wx0 * p[2 * width + i] + wx1 * p[3 * width + i])
            }
        }
    }
}
