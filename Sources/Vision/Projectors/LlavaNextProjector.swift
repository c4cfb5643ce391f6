import Foundation
import GGUF
import Tensors

/// LLaVA-1.6 (LLaVA-NeXT) "anyres": LLaVA's `mlp` projector over CLIP, applied to several views of an image
/// (small-vlms.md §2; transformers `LlavaNextImageProcessor` and `LlavaNextForConditionalGeneration`). Files
/// that list `clip.vision.image_grid_pinpoints` are read by this type, others by `MLPProjector`.
///
/// Views: the whole image stretched to the tile size, then the image resized to fit the best of the pinpoint
/// resolutions, padded with black to it, and cut into tiles row by row. Tokens: the whole image's 576 first, then
/// the tiles' features put back together as one grid, the rows and columns that only padding filled removed
/// (`unpad_image`), and `image_newline` after each row, as Hugging Face does and the model was trained.
/// llama.cpp instead sends every view's 576 tokens one after another with no newlines (its mtmd does no
/// unpadding); `GLIMPSE_LLAVA_NEXT_LAYOUT=llamacpp` selects that layout, for comparison.
struct LlavaNextProjector: TiledProjector {
    static let name = "mlp"
    static let filter = ResampleFilter.bicubic
    static func reads(_ file: GGUFFile) -> Bool { file["clip.vision.image_grid_pinpoints"] != nil }

    enum Layout: String { case huggingFace = "hf", llamaCpp = "llamacpp" }

    let mlp: MLPProjector
    /// Candidate resolutions as (height, width), the order Hugging Face's config lists them.
    let pinpoints: [(height: Int, width: Int)]
    let newline: [Float]?                // [n_embd]
    let tileSize: Int
    /// Features along a view's side (24 for CLIP-L/14 at 336 px).
    let patchesPerSide: Int
    let layoutKind: Layout

    init(file: GGUFFile, encoderWidth d: Int) throws {
        mlp = try MLPProjector(file: file, encoderWidth: d)
        tileSize = file["clip.vision.image_size"]?.int ?? 336
        patchesPerSide = tileSize / max(1, file["clip.vision.patch_size"]?.int ?? 14)
        let tile = tileSize
        guard let flat = file["clip.vision.image_grid_pinpoints"]?.array?.ints, flat.count >= 2, flat.count % 2 == 0,
              flat.allSatisfy({ $0 > 0 && $0 % tile == 0 }) else {
            throw VisionError("\(file.path): clip.vision.image_grid_pinpoints must be pairs of multiples of \(tileSize)")
        }
        pinpoints = stride(from: 0, to: flat.count, by: 2).map { (flat[$0], flat[$0 + 1]) }
        let t = VisionTensors(file: file)
        newline = try t.optionalFloats("model.image_newline", mlp.outputWidth) ?? t.optionalFloats("v.image_newline", mlp.outputWidth)
        let asked = ProcessInfo.processInfo.environment["GLIMPSE_LLAVA_NEXT_LAYOUT"] ?? "hf"
        guard let kind = Layout(rawValue: asked) else {
            throw VisionError("GLIMPSE_LLAVA_NEXT_LAYOUT is '\(asked)': use hf (the default) or llamacpp")
        }
        layoutKind = kind
    }

    static func fit(mean: [Float]) -> ImagePreprocessor.Fit { .stretch }
    var outputWidth: Int { mlp.outputWidth }
    func outputTokens(patches: Int) -> Int { patches }
    func project(_ patches: [Float], count: Int, pool: ThreadPool) -> [Float] { mlp.project(patches, count: count, pool: pool) }

    // MARK: Tiling

    /// `select_best_resolution`: the candidate that keeps the most of the image's pixels, then wastes the fewest.
    func bestResolution(width: Int, height: Int) -> (height: Int, width: Int) {
        var best = pinpoints[0], most = 0, wasted = Int.max
        for c in pinpoints {
            let scale = min(Double(c.width) / Double(width), Double(c.height) / Double(height))
            let effective = min(Int(Double(width) * scale) * Int(Double(height) * scale), width * height)
            let waste = c.width * c.height - effective
            if effective > most || (effective == most && waste < wasted) { best = c; most = effective; wasted = waste }
        }
        return best
    }

    func tiling(width: Int, height: Int) -> ImageTiling {
        let best = bestResolution(width: width, height: height)
        return ImageTiling(rows: best.height / tileSize, columns: best.width / tileSize, resizedWidth: best.width,
                           resizedHeight: best.height, width: width, height: height)
    }

    /// `_get_patch_output_size`: the image scaled to fit the target, its other side rounded up.
    static func fittedSize(width: Int, height: Int, target: (width: Int, height: Int)) -> (width: Int, height: Int) {
        let sw = Double(target.width) / Double(width), sh = Double(target.height) / Double(height)
        if sw < sh { return (target.width, min(Int((Double(height) * sw).rounded(.up)), target.height)) }
        return (min(Int((Double(width) * sh).rounded(.up)), target.width), target.height)
    }

    func views(of image: RGBImage, _ tiling: ImageTiling) -> [RGBImage] {
        let target = (width: tiling.resizedWidth, height: tiling.resizedHeight)
        let fitted = Self.fittedSize(width: image.width, height: image.height, target: target)
        let resized = Resampler.resize(image, width: fitted.width, height: fitted.height, filter: .bicubic)
        // `_pad_for_patching` pads both sides by the same (floor) amount, so an odd remainder leaves the canvas a
        // pixel short of the target, and the last tiles a pixel short of a tile (CLIP's resize and crop mend them).
        let px = (target.width - fitted.width) / 2, py = (target.height - fitted.height) / 2
        var padded = RGBImage(width: fitted.width + 2 * px, height: fitted.height + 2 * py, fill: (0, 0, 0))
        for y in 0 ..< resized.height {
            let src = 3 * y * resized.width, dst = 3 * ((y + py) * padded.width + px)
            padded.pixels.replaceSubrange(dst ..< dst + 3 * resized.width, with: resized.pixels[src ..< src + 3 * resized.width])
        }
        var out = [Resampler.resize(image, width: tileSize, height: tileSize, filter: .bicubic)]
        for y in stride(from: 0, to: padded.height, by: tileSize) {
            for x in stride(from: 0, to: padded.width, by: tileSize) {
                out.append(clipSquare(padded.cropped(x: x, y: y, width: tileSize, height: tileSize)))
            }
        }
        return out
    }

    /// CLIP's processor on a view: shortest side resized to the tile size, then the centre cropped to a square.
    func clipSquare(_ view: RGBImage) -> RGBImage {
        guard view.width != tileSize || view.height != tileSize else { return view }
        let short = min(view.width, view.height), long = max(view.width, view.height)
        let scaledLong = Int(Double(tileSize) * Double(long) / Double(short))
        let (w, h) = view.width <= view.height ? (tileSize, scaledLong) : (scaledLong, tileSize)
        let resized = Resampler.resize(view, width: w, height: h, filter: .bicubic)
        return resized.cropped(x: (w - tileSize) / 2, y: (h - tileSize) / 2, width: tileSize, height: tileSize)
    }

    // MARK: Arrangement

    /// The tile grid's rows and columns that hold image rather than padding (`unpad_image`), in feature units.
    func keptRange(_ tiling: ImageTiling, side: Int) -> (rows: Range<Int>, columns: Range<Int>) {
        let gh = tiling.rows * side, gw = tiling.columns * side
        let w = Double(tiling.width), h = Double(tiling.height)
        if w / h > Double(gw) / Double(gh) {
            let newHeight = Int(Self.round7(h * (Double(gw) / w)))
            let pad = (gh - newHeight) / 2
            return (pad ..< max(pad, gh - pad), 0 ..< gw)
        }
        let newWidth = Int(Self.round7(w * (Double(gh) / h)))
        let pad = (gw - newWidth) / 2
        return (0 ..< gh, pad ..< max(pad, gw - pad))
    }

    /// Python's round(x, 7), which the reference applies before truncating.
    static func round7(_ x: Double) -> Double { (x * 1e7).rounded(.toNearestOrEven) / 1e7 }

    func arrange(_ projected: [[Float]], _ tiling: ImageTiling) -> [Float] {
        guard layoutKind == .huggingFace else { return projected.flatMap { $0 } }
        let n = outputWidth, g = patchesPerSide
        let kept = keptRange(tiling, side: g)
        var out = projected[0]
        out.reserveCapacity(out.count + kept.rows.count * (kept.columns.count + 1) * n)
        for y in kept.rows {
            for x in kept.columns {
                let tile = projected[1 + (y / g) * tiling.columns + x / g], local = ((y % g) * g + x % g) * n
                out.append(contentsOf: tile[local ..< local + n])
            }
            if let newline { out.append(contentsOf: newline) }
        }
        return out
    }

    func layout(_ tiling: ImageTiling) -> ImageLayout {
        let g = patchesPerSide
        guard layoutKind == .huggingFace else { return ImageLayout(embeddings: g * g * (1 + tiling.rows * tiling.columns)) }
        let kept = keptRange(tiling, side: g)
        return ImageLayout(embeddings: g * g + kept.rows.count * (kept.columns.count + (newline == nil ? 0 : 1)))
    }
}
