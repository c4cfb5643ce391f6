import GGUF
import Tensors

/// `mlp`: LLaVA-1.5's two-layer projector, y = W2·gelu(W0·x + b0) + b2, on the patch tokens (formats.md §4.4).
/// GELU is the exact (erf) form, as in the original LLaVA and transformers.
struct MLPProjector: Projector {
    static let name = "mlp"

    let first: TensorView                // [D, hidden]
    let firstBias: [Float]?
    let second: TensorView               // [hidden, n_embd]
    let secondBias: [Float]?

    init(file: GGUFFile, encoderWidth d: Int) throws {
        let t = VisionTensors(file: file)
        first = try t.anyShape("mm.0.weight")
        second = try t.anyShape("mm.2.weight")
        guard first.shape.count == 2, first.shape[0] == d, second.shape.count == 2, second.shape[0] == first.shape[1] else {
            throw VisionError("\(file.path): projector tensors mm.0 \(first.shape) and mm.2 \(second.shape) do not chain from width \(d)")
        }
        firstBias = try t.optionalFloats("mm.0.bias", first.shape[1])
        secondBias = try t.optionalFloats("mm.2.bias", second.shape[1])
    }

    static func fit(mean: [Float]) -> ImagePreprocessor.Fit {
        // expand2square's background: the mean colour as integers, e.g. (122, 116, 104) for CLIP.
        let c = mean.map { UInt8(clamping: Int($0 * 255)) }
        return .padToSquare(red: c[0], green: c[1], blue: c[2])
    }

    var outputWidth: Int { second.shape[1] }
    func outputTokens(patches: Int) -> Int { patches }

    func project(_ patches: [Float], count: Int, pool: ThreadPool) -> [Float] {
        var hidden = linearRows(first, firstBias, patches, count: count, pool: pool)
        hidden.withUnsafeMutableBufferPointer { Ops.activate($0.baseAddress!, $0.count, .geluErf, pool: pool) }
        return linearRows(second, secondBias, hidden, count: count, pool: pool)
    }
}
