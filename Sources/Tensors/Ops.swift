import Foundation

/// Small pure kernels on float vectors (formats.md §1.5 for the exact definitions ggml uses).
public enum Ops {
    @inline(__always) static func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        let xr = UnsafeRawPointer(x)
        var i = 0
        while i + 8 <= n {
            let v = xr.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            acc.addProduct(v, v)
            i += 8
        }
        var s = acc.sum()
        while i < n { s += x[i] * x[i]; i += 1 }
        return s
    }

    /// y = x / sqrt(mean(x²) + eps) · w   (w may be nil: plain normalization). x and y may alias.
    public static func rmsNorm(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
                               _ n: Int, eps: Float) {
        let scale = 1 / (sumOfSquares(x, n) / Float(n) + eps).squareRoot()
        if let w {
            for i in 0 ..< n { y[i] = x[i] * scale * w[i] }
        } else {
            for i in 0 ..< n { y[i] = x[i] * scale }
        }
    }

    /// y = (x - mean) / sqrt(var + eps) · w + b (population variance).
    public static func layerNorm(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>?, _ b: UnsafePointer<Float>?,
                                 _ y: UnsafeMutablePointer<Float>, _ n: Int, eps: Float) {
        var mean: Float = 0
        for i in 0 ..< n { mean += x[i] }
        mean /= Float(n)
        var variance: Float = 0
        for i in 0 ..< n { let d = x[i] - mean; variance += d * d }
        let scale = 1 / (variance / Float(n) + eps).squareRoot()
        for i in 0 ..< n {
            var v = (x[i] - mean) * scale
            if let w { v *= w[i] }
            if let b { v += b[i] }
            y[i] = v
        }
    }

    /// e^x without a libm call: 2^k · p(r) with x = k·ln2 + r, |r| <= ln2/2, p of degree 6 (relative error
    /// about 2e-7, under float's own rounding of the result). Plain arithmetic, so loops over it vectorize;
    /// softmax and the ViT's activations call it hundreds of millions of times per image.
    @inline(__always) public static func exp(_ x: Float) -> Float {
        let c = min(max(x, -87.3), 88.7)
        let k = (c * 1.442_695_04).rounded(.toNearestOrEven)
        let r = c - k * 0.693_145_75 - k * 1.428_606_8e-6
        var p: Float = 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        return p * Float(bitPattern: UInt32(bitPattern: Int32(k) + 127) << 23)
    }

    /// Numerically stable in-place softmax (masked entries may be -infinity).
    public static func softmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        var m = -Float.infinity
        for i in 0 ..< n { m = max(m, x[i]) }
        for i in 0 ..< n { x[i] = x[i] == -.infinity ? 0 : exp(x[i] - m) }
        var acc = SIMD8<Float>()
        let xr = UnsafeRawPointer(x)
        var i = 0
        while i + 8 <= n {
            acc += xr.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            i += 8
        }
        var s = acc.sum()
        while i < n { s += x[i]; i += 1 }
        let inv = 1 / s
        for i in 0 ..< n { x[i] *= inv }
    }

    @inline(__always) public static func silu(_ x: Float) -> Float { x / (1 + exp(-x)) }

    /// The tanh approximation ggml uses for GELU, 0.5·x·(1 + tanh(u)), written as x·sigmoid(2u) (the same
    /// function) so that it is our `exp` rather than a libm call: loops over it vectorize. tanhf took 14% of
    /// Gemma 3's prompt processing (perf, pp512 F16).
    @inline(__always) public static func geluTanh(_ x: Float) -> Float {
        x / (1 + exp(-1.595_769_1 * (x + 0.044715 * x * x * x)))
    }

    /// Exact GELU, 0.5·x·(1 + erf(x/√2)), with erf from Abramowitz and Stegun 7.1.26 (absolute error at most
    /// 1.5e-7, float's own rounding near 1) on our `exp`, for the same reason as geluTanh.
    @inline(__always) public static func geluErf(_ x: Float) -> Float {
        let z = abs(x) * 0.707_106_78
        let t = 1 / (1 + 0.327_591_1 * z)
        var p: Float = 1.061_405_429
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        let erfAbs = 1 - p * t * exp(-z * z)
        return 0.5 * x * (1 + (x < 0 ? -erfAbs : erfAbs))
    }

    @inline(__always) public static func geluQuick(_ x: Float) -> Float { x / (1 + exp(-1.702 * x)) }

    /// `activate` over the pool, in ranges large enough to be worth a hand-off (a prompt's activations are millions
    /// of elements: 512 x 2048 a layer for Gemma 3 270M).
    public static func activate(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ act: Activation, pool: ThreadPool) {
        pool.parallelRanges(n, grain: parallelGrain) { r in activate(x + r.lowerBound, r.count, act) }
    }

    /// `gatedActivation` over the pool.
    public static func gatedActivation(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int,
                                       _ act: Activation, pool: ThreadPool) {
        pool.parallelRanges(n, grain: parallelGrain) { r in gatedActivation(gate + r.lowerBound, up + r.lowerBound, r.count, act) }
    }

    static let parallelGrain = 16384

    /// x[i] = act(x[i])
    public static func activate(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ act: Activation) {
        switch act {
        case .silu: for i in 0 ..< n { x[i] = silu(x[i]) }
        case .geluTanh: for i in 0 ..< n { x[i] = geluTanh(x[i]) }
        case .geluErf: for i in 0 ..< n { x[i] = geluErf(x[i]) }
        case .geluQuick: for i in 0 ..< n { x[i] = geluQuick(x[i]) }
        }
    }

    /// gate[i] = act(gate[i]) · up[i]
    public static func gatedActivation(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int,
                                       _ act: Activation) {
        switch act {
        case .silu: for i in 0 ..< n { gate[i] = silu(gate[i]) * up[i] }
        case .geluTanh: for i in 0 ..< n { gate[i] = geluTanh(gate[i]) * up[i] }
        case .geluErf: for i in 0 ..< n { gate[i] = geluErf(gate[i]) * up[i] }
        case .geluQuick: for i in 0 ..< n { gate[i] = geluQuick(gate[i]) * up[i] }
        }
    }

    public static func add(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
        for i in 0 ..< n { y[i] += x[i] }
    }

    public static func scale(_ y: UnsafeMutablePointer<Float>, _ s: Float, _ n: Int) {
        for i in 0 ..< n { y[i] *= s }
    }

    /// Dot product of two float vectors.
    @inline(__always) public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        let ar = UnsafeRawPointer(a), br = UnsafeRawPointer(b)
        var i = 0
        while i + 16 <= n {
            acc0.addProduct(ar.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self),
                            br.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
            acc1.addProduct(ar.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self),
                            br.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self))
            i += 16
        }
        var s = (acc0 + acc1).sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// y += a · x
    @inline(__always) public static func axpy(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafePointer<Float>, _ n: Int) {
        for i in 0 ..< n { y[i] += a * x[i] }
    }
}

public enum Activation: Sendable {
    case silu, geluTanh, geluErf, geluQuick
}

/// Rotary position embedding of one head vector (formats.md §2.3).
public struct Rope: Sendable {
    public enum Pairing: Sendable {
        /// Adjacent pairs (2k, 2k+1): GGUF `llama` weights were permuted for this.
        case adjacent
        /// Halves (k, k + n/2): NEOX style, used by qwen2 and gemma.
        case halves
    }

    public let dimensions: Int
    public let pairing: Pairing
    /// inverse frequencies, already including the linear scale and per-dimension factors.
    let inverseFrequencies: [Float]
    /// Multimodal rope (Qwen2-VL): which position component (0 time, 1 row, 2 column) turns each pair; nil = one
    /// position for all.
    public let pairComponents: [Int]?

    /// `sections`: pairs per component, e.g. Qwen2-VL's [16, 24, 24] (llama.cpp's `rope.dimension_sections`); pair k
    /// belongs to the section holding k mod their sum, as ggml's rope_multi has it.
    public init(dimensions: Int, base: Float, scale: Float = 1, factors: [Float]? = nil, pairing: Pairing,
                sections: [Int]? = nil) {
        self.dimensions = dimensions
        self.pairing = pairing
        inverseFrequencies = (0 ..< dimensions / 2).map { k in
            let theta = scale * powf(base, -2 * Float(k) / Float(dimensions))
            return theta / (factors.map { $0[k] } ?? 1)
        }
        if let sections, sections.reduce(0, +) > 0 {
            let total = sections.reduce(0, +)
            pairComponents = (0 ..< dimensions / 2).map { k in
                var r = k % total, c = 0
                while c < sections.count - 1 && r >= sections[c] { r -= sections[c]; c += 1 }
                return min(c, 2)
            }
        } else {
            pairComponents = nil
        }
    }

    /// Rotates like `apply(pos:)`, each pair by the position component its section names.
    public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, position p: (Int, Int, Int)) {
        guard let pairComponents else { return apply(x, heads: heads, headDim: headDim, pos: p.0) }
        let half = dimensions / 2
        for k in 0 ..< half {
            let component = pairComponents[k]
            let angle = Float(component == 0 ? p.0 : component == 1 ? p.1 : p.2) * inverseFrequencies[k]
            rotate(x, heads: heads, headDim: headDim, pair: k, cos: cosf(angle), sin: sinf(angle))
        }
    }

    @inline(__always) private func rotate(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, pair k: Int,
                                          cos c: Float, sin s: Float) {
        let half = dimensions / 2
        for h in 0 ..< heads {
            let v = x + h * headDim
            let i0 = pairing == .adjacent ? 2 * k : k
            let i1 = pairing == .adjacent ? 2 * k + 1 : k + half
            let x0 = v[i0], x1 = v[i1]
            v[i0] = x0 * c - x1 * s
            v[i1] = x0 * s + x1 * c
        }
    }

    /// Rotates `heads` consecutive head vectors of length `headDim` at position `pos`, in place.
    public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, pos: Int) {
        for k in 0 ..< dimensions / 2 {
            let angle = Float(pos) * inverseFrequencies[k]
            rotate(x, heads: heads, headDim: headDim, pair: k, cos: cosf(angle), sin: sinf(angle))
        }
    }
}
