import GGUF
import Tensors

/// `minigptv2` (Glimpse's extension, docs/mmproj-extensions.md): MiniGPT-v2's and MiniGPT-4 (LLaMA-2)'s
/// projector. Every four consecutive patch tokens (raster order) are concatenated, then one linear layer
/// (`llama_proj`) maps them to the LLM width: 1024 patches at 448 px become 256 tokens (formats.md §5.4).
struct MiniGPTv2Projector: Projector {
    static let name = "minigptv2"
    static let group = 4

    let projection: TensorView           // [4·D, n_embd]
    let bias: [Float]?

    init(file: GGUFFile, encoderWidth d: Int) throws {
        let t = VisionTensors(file: file)
        projection = try t.anyShape("mm.0.weight")
        guard projection.shape.count == 2, projection.shape[0] == Self.group * d else {
            throw VisionError("\(file.path): projector mm.0 has shape \(projection.shape), expected [\(Self.group * d), n_embd]")
        }
        bias = try t.optionalFloats("mm.0.bias", projection.shape[1])
    }

    static func fit(mean: [Float]) -> ImagePreprocessor.Fit { .stretch }

    var outputWidth: Int { projection.shape[1] }
    func outputTokens(patches: Int) -> Int { patches / Self.group }

    func project(_ patches: [Float], count: Int, pool: ThreadPool) -> [Float] {
        // Row-major [count][D]: four consecutive rows are already one contiguous [4·D] row.
        linearRows(projection, bias, patches, count: count / Self.group, pool: pool)
    }
}
