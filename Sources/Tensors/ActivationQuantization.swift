import GGUF

/// How an activation vector is encoded before it meets a weight row. Like ggml's `vec_dot_type`:
/// integer-quantized weights are dotted against integer-quantized activations, so the inner loops are
/// int8 products (which vectorize well) and the numerics match llama.cpp's CPU backend.
public enum ActivationFormat: Sendable {
    case float      // F32, F16, BF16 weights
    case q8_0       // Q8_0, Q4_0, Q5_0: blocks of 32, fp16-rounded scale
    case q8_1       // Q4_1, Q5_1: as q8_0 plus the block's scaled sum
    case q8_K       // K-quants: blocks of 256, f32 scale, sums of each 16

    public init(weight: GGMLType) {
        switch weight {
        case .f32, .f16, .bf16: self = .float
        case .q8_0, .q4_0, .q5_0: self = .q8_0
        case .q4_1, .q5_1: self = .q8_1
        case .q4_K, .q5_K, .q6_K: self = .q8_K
        }
    }

    var blockSize: Int {
        switch self {
        case .float: return 1
        case .q8_0, .q8_1: return 32
        case .q8_K: return 256
        }
    }
}

/// One activation vector in a given format. Buffers are reused across calls (`quantize` reallocates only on growth).
public final class QuantizedActivation: @unchecked Sendable {
    public private(set) var format: ActivationFormat = .float
    public private(set) var length = 0
    private(set) var capacity = 0
    /// int8 values (`length` of them).
    var qs: UnsafeMutablePointer<Int8> = .allocate(capacity: 1)
    /// One scale per block.
    var scales: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    /// q8_1: scale × sum of the block's values; q8_K: sums of each group of 16 (16 per block).
    var sums: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    /// The float values (format .float) – points at caller memory valid for the duration of the product.
    var floats: UnsafePointer<Float>? = nil

    public init() {}

    deinit {
        qs.deallocate()
        scales.deallocate()
        sums.deallocate()
    }

    private func reserve(_ n: Int) {
        guard n > capacity else { return }
        qs.deallocate(); scales.deallocate(); sums.deallocate()
        qs = .allocate(capacity: n)
        scales = .allocate(capacity: n / 32 + 1)
        sums = .allocate(capacity: n / 16 + 1)
        capacity = n
    }

    /// Encodes `x[0..<n]` (n a multiple of the format's block size).
    public func quantize(_ x: UnsafePointer<Float>, _ n: Int, as format: ActivationFormat) {
        self.format = format
        length = n
        switch format {
        case .float:
            floats = x
        case .q8_0, .q8_1:
            reserve(n)
            for b in 0 ..< n / 32 { quantize32(x + 32 * b, block: b, withSum: format == .q8_1) }
        case .q8_K:
            reserve(n)
            for b in 0 ..< n / 256 { quantize256(x + 256 * b, block: b) }
        }
    }

    @inline(__always) private func quantize32(_ x: UnsafePointer<Float>, block b: Int, withSum: Bool) {
        var amax: Float = 0
        for j in 0 ..< 32 { amax = max(amax, abs(x[j])) }
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        let q = qs + 32 * b
        var sum: Int32 = 0
        for j in 0 ..< 32 {
            let v = Int8((x[j] * id).rounded(.toNearestOrAwayFromZero))
            q[j] = v
            sum &+= Int32(v)
        }
        // ggml stores the scale (and sum) as fp16; use the rounded value so products match.
        let dh = halfToFloat(floatToHalf(d))
        scales[b] = dh
        if withSum { sums[b] = halfToFloat(floatToHalf(d * Float(sum))) }
    }

    @inline(__always) private func quantize256(_ x: UnsafePointer<Float>, block b: Int) {
        var amax: Float = 0, vmax: Float = 0
        for j in 0 ..< 256 where abs(x[j]) > amax {
            amax = abs(x[j])
            vmax = x[j]
        }
        let q = qs + 256 * b
        let bs = sums + 16 * b
        guard amax != 0 else {
            scales[b] = 0
            q.update(repeating: 0, count: 256)
            bs.update(repeating: 0, count: 16)
            return
        }
        let iscale = -127 / vmax
        for j in 0 ..< 256 {
            let v = (iscale * x[j]).rounded(.toNearestOrEven)
            q[j] = Int8(min(127, v))
        }
        for g in 0 ..< 16 {
            var s: Int32 = 0
            for j in 0 ..< 16 { s &+= Int32(q[16 * g + j]) }
            bs[g] = Float(s)
        }
        scales[b] = 1 / iscale
    }
}
