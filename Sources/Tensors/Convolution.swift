/// Convolution and resampling kernels for convolutional encoders (Mini-Gemini's ConvNeXt), on feature maps
/// stored channels-last: `[height][width][channels]`, so a position's channels are contiguous. That is the
/// layout LayerNorm-over-channels and the per-position MLPs want, and the depthwise convolution vectorizes
/// over channels in it. Pure functions over pointers; the pool splits output rows.
public enum Convolution {
    /// Depthwise k x k convolution, stride 1, zero padding k/2 (ConvNeXt's 7x7 `conv_dw`):
    /// `out[y][x][c] = bias[c] + Σ_{dy,dx} w[dy·k + dx][c] · in[y + dy - k/2][x + dx - k/2][c]`.
    /// `weights` is tap-major, `[k·k][c]` (PyTorch's `[c][1][k][k]` transposed once at load).
    public static func depthwise(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                 height h: Int, width w: Int, channels c: Int, kernel k: Int,
                                 weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, pool: ThreadPool) {
        let pad = k / 2
        pool.parallelRanges(h) { rows in
            for y in rows {
                for x in 0 ..< w {
                    let acc = output + (y * w + x) * c
                    if let bias { acc.update(from: bias, count: c) } else { acc.update(repeating: 0, count: c) }
                    for dy in 0 ..< k {
                        let iy = y + dy - pad
                        if iy < 0 || iy >= h { continue }
                        let lo = max(0, pad - x), hi = min(k, w + pad - x)
                        for dx in lo ..< hi {
                            let src = input + (iy * w + x + dx - pad) * c
                            let tap = weights + (dy * k + dx) * c
                            for i in 0 ..< c { acc[i] += tap[i] * src[i] }
                        }
                    }
                }
            }
        }
    }

    /// The non-overlapping k x k patches (stride k) of a channels-last map, each unfolded in PyTorch's weight
    /// order `(channel, dy, dx)`, so that a stride-k convolution is one product with its `[c·k·k] -> out`
    /// weight: `[h/k · w/k][c·k·k]`.
    public static func unfoldPatches(_ input: UnsafePointer<Float>, height h: Int, width w: Int, channels c: Int,
                                     kernel k: Int, into out: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let oh = h / k, ow = w / k, kk = k * k
        pool.parallelRanges(oh) { rows in
            for oy in rows {
                for ox in 0 ..< ow {
                    let patch = out + (oy * ow + ox) * c * kk
                    for dy in 0 ..< k {
                        for dx in 0 ..< k {
                            let src = input + ((oy * k + dy) * w + ox * k + dx) * c
                            let tap = dy * k + dx
                            for ch in 0 ..< c { patch[ch * kk + tap] = src[ch] }
                        }
                    }
                }
            }
        }
    }

    /// The same for a planar image `[c][h][w]` (the stem's input).
    public static func unfoldPatches(planar input: UnsafePointer<Float>, height h: Int, width w: Int, channels c: Int,
                                     kernel k: Int, into out: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let oh = h / k, ow = w / k, kk = k * k
        pool.parallelRanges(oh) { rows in
            for oy in rows {
                for ox in 0 ..< ow {
                    let patch = out + (oy * ow + ox) * c * kk
                    for ch in 0 ..< c {
                        for dy in 0 ..< k {
                            let src = input + (ch * h + oy * k + dy) * w + ox * k
                            for dx in 0 ..< k { patch[ch * kk + dy * k + dx] = src[dx] }
                        }
                    }
                }
            }
        }
    }
}

/// Bilinear resampling as PyTorch's `F.interpolate(mode="bilinear", align_corners=False)` without
/// antialiasing: output index `o` reads input coordinate `max(0, (o + 0.5)·in/out - 0.5)` and its right/lower
/// neighbour (clamped at the edge). Used to upsample feature maps and to derive Mini-Gemini's
/// low-resolution view from its high-resolution tensor.
public struct BilinearTaps: Sendable {
    public let first: [Int]
    public let second: [Int]
    public let firstWeight: [Float]
    public let secondWeight: [Float]

    public init(input: Int, output: Int) {
        let scale = Float(input) / Float(output)
        var f: [Int] = [], s: [Int] = [], fw: [Float] = [], sw: [Float] = []
        for o in 0 ..< output {
            let src = max(0, (Float(o) + 0.5) * scale - 0.5)
            let i0 = min(Int(src), input - 1)
            let i1 = i0 < input - 1 ? i0 + 1 : i0
            let l1 = src - Float(i0)
            f.append(i0); s.append(i1); fw.append(1 - l1); sw.append(l1)
        }
        first = f; second = s; firstWeight = fw; secondWeight = sw
    }

    /// Resizes planar `[c][h][w]` floats to `[c][outH][outW]`.
    public static func resize(planar x: [Float], channels: Int, height: Int, width: Int,
                              toHeight oh: Int, width ow: Int) -> [Float] {
        let ty = BilinearTaps(input: height, output: oh), tx = BilinearTaps(input: width, output: ow)
        var out = [Float](repeating: 0, count: channels * oh * ow)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0 ..< channels {
                    let plane = src.baseAddress! + c * height * width
                    for y in 0 ..< oh {
                        let r0 = plane + ty.first[y] * width, r1 = plane + ty.second[y] * width
                        let wy0 = ty.firstWeight[y], wy1 = ty.secondWeight[y]
                        for xo in 0 ..< ow {
                            let a = tx.first[xo], b = tx.second[xo], wx0 = tx.firstWeight[xo], wx1 = tx.secondWeight[xo]
                            // PyTorch's order: rows blended last.
                            dst[(c * oh + y) * ow + xo] = wy0 * (wx0 * r0[a] + wx1 * r0[b]) + wy1 * (wx0 * r1[a] + wx1 * r1[b])
                        }
                    }
                }
            }
        }
        return out
    }
}
