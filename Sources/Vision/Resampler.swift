import Foundation
/// Image resizing as Pillow's `Image.resize` does it for 8-bit images (the reference preprocessors call it):
/// separable filters whose support widens by the scale factor when shrinking (anti-aliasing), coefficients
/// in 22-bit fixed point, a horizontal pass into an 8-bit intermediate, then a vertical pass.
public enum ResampleFilter: Sendable {
    case bilinear, bicubic
    /// Pillow's LANCZOS: a sinc windowed by a wider sinc, three pixels each side (Idefics3's processor uses it).
    case lanczos

    var support: Double {
        switch self {
        case .bilinear: return 1
        case .bicubic: return 2
        case .lanczos: return 3
        }
    }

    func weight(_ x: Double) -> Double {
        let x = abs(x)
        switch self {
        case .bilinear:
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        case .lanczos:
            return x < 3 ? sinc(x) * sinc(x / 3) : 0
        }
    }

    private func sinc(_ x: Double) -> Double {
        if x == 0 { return 1 }
        let px = x * Double.pi
        return sin(px) / px
    }
}

public enum Resampler {
    static let precisionBits = 32 - 8 - 2

    /// Filter taps of one axis: for each output index, the first input index and fixed-point weights.
    struct Taps {
        var first: [Int] = []
        var count: [Int] = []
        var weights: [[Int32]] = []
    }

    static func taps(input: Int, output: Int, filter: ResampleFilter) -> Taps {
        let scale = Double(input) / Double(output)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        var t = Taps()
        for x in 0 ..< output {
            let center = (Double(x) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), input)
            var k = (lo ..< hi).map { filter.weight((Double($0) - center + 0.5) / filterScale) }
            let total = k.reduce(0, +)
            if total != 0 { k = k.map { $0 / total } }
            t.first.append(lo)
            t.count.append(hi - lo)
            t.weights.append(k.map { w in
                Int32(w < 0 ? w * Double(1 << precisionBits) - 0.5 : w * Double(1 << precisionBits) + 0.5)
            })
        }
        return t
    }

    @inline(__always) static func clip8(_ v: Int64) -> UInt8 {
        let shifted = (v + Int64(1 << (precisionBits - 1))) >> Int64(precisionBits)
        return UInt8(clamping: shifted)
    }

    public static func resize(_ image: RGBImage, width: Int, height: Int, filter: ResampleFilter = .bicubic) -> RGBImage {
        if width == image.width && height == image.height { return image }
        let h = taps(input: image.width, output: width, filter: filter)
        let v = taps(input: image.height, output: height, filter: filter)
        // Horizontal pass over the rows the vertical pass will read.
        let rowLo = v.first.first ?? 0
        let rowHi = zip(v.first, v.count).map { $0 + $1 }.max() ?? 0
        var mid = [UInt8](repeating: 0, count: width * (rowHi - rowLo) * 3)
        let srcW = image.width
        image.pixels.withUnsafeBufferPointer { src in
            mid.withUnsafeMutableBufferPointer { dst in
                for y in rowLo ..< rowHi {
                    let row = src.baseAddress! + y * srcW * 3, out = dst.baseAddress! + (y - rowLo) * width * 3
                    for x in 0 ..< width {
                        var r: Int64 = 0, g: Int64 = 0, b: Int64 = 0
                        let w = h.weights[x], first = h.first[x]
                        for i in 0 ..< h.count[x] {
                            let p = row + 3 * (first + i), k = Int64(w[i])
                            r += Int64(p[0]) * k; g += Int64(p[1]) * k; b += Int64(p[2]) * k
                        }
                        out[3 * x] = clip8(r); out[3 * x + 1] = clip8(g); out[3 * x + 2] = clip8(b)
                    }
                }
            }
        }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        mid.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0 ..< height {
                    let w = v.weights[y], first = v.first[y] - rowLo
                    for x in 0 ..< width {
                        var r: Int64 = 0, g: Int64 = 0, b: Int64 = 0
                        for i in 0 ..< v.count[y] {
                            let p = src.baseAddress! + 3 * ((first + i) * width + x), k = Int64(w[i])
                            r += Int64(p[0]) * k; g += Int64(p[1]) * k; b += Int64(p[2]) * k
                        }
                        let d = 3 * (y * width + x)
                        dst[d] = clip8(r); dst[d + 1] = clip8(g); dst[d + 2] = clip8(b)
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}
