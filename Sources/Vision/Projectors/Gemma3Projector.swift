import Foundation
import GGUF
import Tensors

/// `gemma3`: Gemma 3's projector over its SigLIP tower (formats.md §4; llama.cpp `models/siglip.cpp`). The
/// patch grid is average-pooled in squares of `scale_factor` (64x64 patches at 896 px become 16x16 = 256 tokens),
/// each pooled vector is RMS-normalized with `mm.soft_emb_norm` (the file holds 1 + w, Gemma's convention folded
/// in), then multiplied by `mm.input_projection`. The images are stretched to the square (Hugging Face's
/// Gemma3ImageProcessor, bilinear), their tokens wrapped in `<start_of_image>` ... `<end_of_image>` and read by
/// the decoder attending both ways among themselves, as the model was trained.
struct Gemma3Projector: Projector {
    static let name = "gemma3"
    static let filter = ResampleFilter.bilinear

    let scale: Int
    let norm: [Float]                    // [D]
    let epsilon: Float
    /// The file stores [n_embd, D] (PyTorch's [D, n_embd] matrix as is); kept here transposed, one row per
    /// output, so that it multiplies like every other weight.
    let projection: TensorView           // [D, n_embd]
    private let storage: FloatBuffer

    init(file: GGUFFile, encoderWidth d: Int) throws {
        let t = VisionTensors(file: file)
        let raw = try t.anyShape("mm.input_projection.weight")
        guard raw.shape.count == 2, raw.shape[1] == d else {
            throw VisionError("\(file.path): mm.input_projection.weight has shape \(raw.shape), expected [n_embd, \(d)]")
        }
        let width = raw.shape[0]
        storage = FloatBuffer(count: d * width)
        var row = [Float](repeating: 0, count: width)
        for i in 0 ..< d {
            row.withUnsafeMutableBufferPointer { raw.dequantizeRow(i, into: $0.baseAddress!) }
            for j in 0 ..< width { storage.pointer[j * d + i] = row[j] }
        }
        projection = TensorView(name: raw.name, type: .f32, shape: [d, width], data: UnsafeRawPointer(storage.pointer), owner: storage)
        norm = try t.optionalFloats("mm.soft_emb_norm.weight", d)
            ?? { throw VisionError("\(file.path): missing tensor 'mm.soft_emb_norm.weight'") }()
        epsilon = file["clip.vision.attention.layer_norm_epsilon"]?.double.map { Float($0) } ?? 1e-6
        scale = file["clip.vision.projector.scale_factor"]?.int ?? 4
        guard scale > 0 else { throw VisionError("\(file.path): projector scale factor \(scale)") }
    }

    static func fit(mean: [Float]) -> ImagePreprocessor.Fit { .stretch }

    var outputWidth: Int { projection.rowCount }
    func outputTokens(patches: Int) -> Int { patches / (scale * scale) }
    var imageWrapper: (before: String, after: String)? { ("\n\n<start_of_image>", "<end_of_image>\n\n") }
    var attendsBothWays: Bool { true }

    func project(_ patches: [Float], count: Int, pool: ThreadPool) -> [Float] {
        let d = norm.count, side = Int(Double(count).squareRoot().rounded()), out = side / scale
        // Average over each scale x scale square of the raster-order grid, then the RMS norm.
        var pooled = [Float](repeating: 0, count: out * out * d)
        let share = 1 / Float(scale * scale)
        for oy in 0 ..< out {
            for ox in 0 ..< out {
                let dst = (oy * out + ox) * d
                for y in oy * scale ..< (oy + 1) * scale {
                    for x in ox * scale ..< (ox + 1) * scale {
                        let src = (y * side + x) * d
                        for c in 0 ..< d { pooled[dst + c] += patches[src + c] * share }
                    }
                }
            }
        }
        pooled.withUnsafeMutableBufferPointer { p in
            for t in 0 ..< out * out { Ops.rmsNorm(p.baseAddress! + t * d, norm, p.baseAddress! + t * d, d, eps: epsilon) }
        }
        return linearRows(projection, nil, pooled, count: out * out, pool: pool)
    }
}
