import Foundation
import GGUF
import Tensors

/// `idefics3`: SmolVLM's (and Idefics3's) connector over a SigLIP tower (small-vlms.md §1; transformers
/// `Idefics3Connector`, llama.cpp `models/siglip.cpp`). Each view's patch grid is pixel-shuffled, every s x s square
/// of patches becoming one token of s²·D features, then multiplied by `mm.model.fc` (no bias).
///
/// Images are split as Hugging Face's `Idefics3ImageProcessor` does (llama.cpp's mtmd sizes them the same way):
/// the longer side resized to `preproc_image_size` (the other kept in proportion, made even), both sides then
/// resized up to multiples of the tile size, the result cut into tiles row by row, and the whole of it resized to
/// one more tile, the overview. All resizing is Pillow's LANCZOS, on 8-bit pixels, as the processor does it.
struct Idefics3Projector: TiledProjector {
    static let name = "idefics3"
    static let filter = ResampleFilter.lanczos

    let scale: Int
    let tileSize: Int
    let longestEdge: Int
    /// Patches along a tile's side.
    let patchesPerSide: Int
    let projection: TensorView           // [D·s², n_embd]

    init(file: GGUFFile, encoderWidth d: Int) throws {
        let t = VisionTensors(file: file)
        scale = file["clip.vision.projector.scale_factor"]?.int ?? 2
        guard scale > 0 else { throw VisionError("\(file.path): projector scale factor \(scale)") }
        projection = try t.anyShape("mm.model.fc.weight")
        guard projection.shape.count == 2, projection.shape[0] == d * scale * scale else {
            throw VisionError("\(file.path): mm.model.fc.weight has shape \(projection.shape), expected [\(d * scale * scale), n_embd] for width \(d) and scale factor \(scale)")
        }
        tileSize = file["clip.vision.image_size"]?.int ?? 0
        longestEdge = file["clip.vision.preproc_image_size"]?.int ?? tileSize
        let patch = file["clip.vision.patch_size"]?.int ?? 0
        guard tileSize > 0, longestEdge > 0, patch > 0, (tileSize / patch) % scale == 0 else {
            throw VisionError("\(file.path): a \(tileSize) px tile of \(patch) px patches does not pixel-shuffle by \(scale)")
        }
        patchesPerSide = tileSize / patch
    }

    static func fit(mean: [Float]) -> ImagePreprocessor.Fit { .stretch }

    var outputWidth: Int { projection.rowCount }
    func outputTokens(patches: Int) -> Int { patches / (scale * scale) }

    // MARK: Projection

    func project(_ patches: [Float], count: Int, pool: ThreadPool) -> [Float] {
        let d = projection.shape[0] / (scale * scale), side = Int(Double(count).squareRoot().rounded())
        let out = side / scale, s = scale
        // Token (gy, gx) holds patch (gy·s + dy, gx·s + dx) at features (dy·s + dx)·D ..< +D.
        var shuffled = [Float](repeating: 0, count: out * out * d * s * s)
        for gy in 0 ..< out {
            for gx in 0 ..< out {
                let token = (gy * out + gx) * d * s * s
                for dy in 0 ..< s {
                    for dx in 0 ..< s {
                        let src = ((gy * s + dy) * side + gx * s + dx) * d, dst = token + (dy * s + dx) * d
                        shuffled.replaceSubrange(dst ..< dst + d, with: patches[src ..< src + d])
                    }
                }
            }
        }
        return linearRows(projection, nil, shuffled, count: out * out, pool: pool)
    }

    // MARK: Tiling

    func tiling(width: Int, height: Int) -> ImageTiling {
        let (w1, h1) = Self.longestEdgeSize(width: width, height: height, longest: longestEdge)
        let (w2, h2) = Self.tileMultipleSize(width: w1, height: h1, tile: tileSize)
        let split = w2 > tileSize || h2 > tileSize
        return ImageTiling(rows: split ? (h2 + tileSize - 1) / tileSize : 0, columns: split ? (w2 + tileSize - 1) / tileSize : 0,
                           resizedWidth: w2, resizedHeight: h2, width: width, height: height)
    }

    /// `_resize_output_size_rescale_to_max_len` then `_resize_output_size_scale_below_upper_bound` (4096).
    static func longestEdgeSize(width: Int, height: Int, longest: Int) -> (Int, Int) {
        var w = width, h = height
        let aspect = Double(width) / Double(height)
        if w >= h {
            w = longest
            h = Int(Double(w) / aspect)
            if h % 2 != 0 { h += 1 }
        } else {
            h = longest
            w = Int(Double(h) * aspect)
            if w % 2 != 0 { w += 1 }
        }
        w = max(w, 1); h = max(h, 1)
        let cap = 4096, capAspect = Double(w) / Double(h)
        if w >= h && w > cap {
            w = cap; h = Int(Double(w) / capAspect)
        } else if h > w && h > cap {
            h = cap; w = Int(Double(h) * capAspect)
        }
        return (max(w, 1), max(h, 1))
    }

    /// `resize_for_vision_encoder`: the longer side up to a multiple of the tile, the other from the aspect ratio and
    /// then up to a multiple too.
    static func tileMultipleSize(width: Int, height: Int, tile: Int) -> (Int, Int) {
        let aspect = Double(width) / Double(height)
        func up(_ v: Int) -> Int { (v + tile - 1) / tile * tile }
        if width >= height {
            let w = up(width)
            return (w, up(Int(Double(w) / aspect)))
        }
        let h = up(height)
        return (up(Int(Double(h) * aspect)), h)
    }

    func views(of image: RGBImage, _ tiling: ImageTiling) -> [RGBImage] {
        let (w1, h1) = Self.longestEdgeSize(width: image.width, height: image.height, longest: longestEdge)
        let first = Resampler.resize(image, width: w1, height: h1, filter: .lanczos)
        let resized = Resampler.resize(first, width: tiling.resizedWidth, height: tiling.resizedHeight, filter: .lanczos)
        guard tiling.rows > 0 else { return [resized] }
        var out: [RGBImage] = []
        for r in 0 ..< tiling.rows {
            for c in 0 ..< tiling.columns {
                out.append(resized.cropped(x: c * tileSize, y: r * tileSize, width: tileSize, height: tileSize))
            }
        }
        out.append(Resampler.resize(resized, width: tileSize, height: tileSize, filter: .lanczos))
        return out
    }

    // MARK: Prompt

    /// `_prompt_split_image` / `_prompt_single_image` of transformers' Idefics3Processor.
    func layout(_ tiling: ImageTiling) -> ImageLayout {
        let perView = outputTokens(patches: patchesPerSide * patchesPerSide)
        var layout = ImageLayout()
        for r in 0 ..< tiling.rows {
            for c in 0 ..< tiling.columns {
                layout.append(text: "<fake_token_around_image><row_\(r + 1)_col_\(c + 1)>")
                layout.append(embeddings: perView)
            }
            layout.append(text: "\n")
        }
        layout.append(text: (tiling.rows > 0 ? "\n" : "") + "<fake_token_around_image><global-img>")
        layout.append(embeddings: perView)
        layout.append(text: "<fake_token_around_image>")
        return layout
    }
}
