import GGUF

/// Block dequantization, one function per type (layouts: formats.md §1.5, from ggml-quants.c).
public enum Dequantize {
    /// Dequantizes `n` elements (a whole number of blocks) starting at `src`.
    public static func row(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        // Float rows get tight loops (vectorized conversions); a per-element switch costs more than the copy.
        switch type {
        case .f32:
            dst.update(from: src.assumingMemoryBound(to: Float.self), count: n)
            return
        case .f16:
            let h = src.assumingMemoryBound(to: Float16.self)
            for i in 0 ..< n { dst[i] = Float(h[i]) }
            return
        case .bf16:
            let h = src.assumingMemoryBound(to: UInt16.self)
            for i in 0 ..< n { dst[i] = Float(bitPattern: UInt32(h[i]) << 16) }
            return
        default:
            break
        }
        let blocks = n / type.blockSize
        for b in 0 ..< blocks {
            let s = src + b * type.blockBytes
            let d = dst + b * type.blockSize
            switch type {
            case .f32: d[0] = s.loadUnaligned(as: Float.self)
            case .f16: d[0] = loadHalf(s)
            case .bf16: d[0] = bf16ToFloat(s.loadUnaligned(as: UInt16.self))
            case .q8_0: q8_0(s, d)
            case .q4_0: q4_0(s, d)
            case .q4_1: q4_1(s, d)
            case .q5_0: q5_0(s, d)
            case .q5_1: q5_1(s, d)
            case .q4_K: q4_K(s, d)
            case .q5_K: q5_K(s, d)
            case .q6_K: q6_K(s, d)
            }
        }
    }

    // MARK: 32-element blocks

    @inline(__always) static func q8_0(_ s: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(s)
        let q = (s + 2).assumingMemoryBound(to: Int8.self)
        for j in 0 ..< 32 { y[j] = d * Float(q[j]) }
    }

    @inline(__always) static func q4_0(_ s: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(s)
        let q = (s + 2).assumingMemoryBound(to: UInt8.self)
        for j in 0 ..< 16 {
            y[j] = d * Float(Int(q[j] & 0xF) - 8)
            y[j + 16] = d * Float(Int(q[j] >> 4) - 8)
        }
    }

    @inline(__always) static func q4_1(_ s: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(s), m = loadHalf(s, 2)
        let q = (s + 4).assumingMemoryBound(to: UInt8.self)
        for j in 0 ..< 16 {
            y[j] = d * Float(q[j] & 0xF) + m
            y[j + 16] = d * Float(q[j] >> 4) + m
        }
    }

    @inline(__always) static func q5_0(_ s: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(s)
        let qh = s.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
        let q = (s + 6).assumingMemoryBound(to: UInt8.self)
        for j in 0 ..< 16 {
            let h0 = UInt8(truncatingIfNeeded: ((qh >> UInt32(j)) << 4) & 0x10)
            let h1 = UInt8(truncatingIfNeeded: (qh >> UInt32(j + 12)) & 0x10)
            y[j] = d * Float(Int((q[j] & 0xF) | h0) - 16)
            y[j + 16] = d * Float(Int((q[j] >> 4) | h1) - 16)
        }
    }

    @inline(__always) static func q5_1(_ s: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(s), m = loadHalf(s, 2)
        let qh = s.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        let q = (s + 8).assumingMemoryBound(to: UInt8.self)
        for j in 0 ..< 16 {
            let h0 = UInt8(truncatingIfNeeded: ((qh >> UInt32(j)) << 4) & 0x10)
            let h1 = UInt8(truncatingIfNeeded: (qh >> UInt32(j + 12)) & 0x10)
            y[j] = d * Float((q[j] & 0xF) | h0) + m
            y[j + 16] = d * Float((q[j] >> 4) | h1) + m
        }
    }

    // MARK: 256-element K-quant super-blocks

    /// The 6-bit scale and min of sub-block `j` (0..<8) packed in 12 bytes (`get_scale_min_k4`).
    @inline(__always) static func scaleMin(_ j: Int, _ s: UnsafePointer<UInt8>) -> (UInt8, UInt8) {
        if j < 4 { return (s[j] & 63, s[j + 4] & 63) }
        return ((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4))
    }

    @inline(__always) static func q4_K(_ s: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(s), dmin = loadHalf(s, 2)
        let scales = (s + 4).assumingMemoryBound(to: UInt8.self)
        let q = (s + 16).assumingMemoryBound(to: UInt8.self)
        for c in 0 ..< 4 {
            let (sc0, m0) = scaleMin(2 * c, scales), (sc1, m1) = scaleMin(2 * c + 1, scales)
            let d0 = d * Float(sc0), mm0 = dmin * Float(m0), d1 = d * Float(sc1), mm1 = dmin * Float(m1)
            let qc = q + 32 * c, yc = y + 64 * c
            for l in 0 ..< 32 {
                yc[l] = d0 * Float(qc[l] & 0xF) - mm0
                yc[l + 32] = d1 * Float(qc[l] >> 4) - mm1
            }
        }
    }

    @inline(__always) static func q5_K(_ s: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(s), dmin = loadHalf(s, 2)
        let scales = (s + 4).assumingMemoryBound(to: UInt8.self)
        let qh = (s + 16).assumingMemoryBound(to: UInt8.self)
        let q = (s + 48).assumingMemoryBound(to: UInt8.self)
        for c in 0 ..< 4 {
            let (sc0, m0) = scaleMin(2 * c, scales), (sc1, m1) = scaleMin(2 * c + 1, scales)
            let d0 = d * Float(sc0), mm0 = dmin * Float(m0), d1 = d * Float(sc1), mm1 = dmin * Float(m1)
            let qc = q + 32 * c, yc = y + 64 * c
            let u1 = UInt8(1) << UInt8(2 * c), u2 = UInt8(2) << UInt8(2 * c)
            for l in 0 ..< 32 {
                yc[l] = d0 * Float((qc[l] & 0xF) + (qh[l] & u1 != 0 ? 16 : 0)) - mm0
                yc[l + 32] = d1 * Float((qc[l] >> 4) + (qh[l] & u2 != 0 ? 16 : 0)) - mm1
            }
        }
    }

    @inline(__always) static func q6_K(_ s: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(s, 208)
        for half in 0 ..< 2 {
            let ql = (s + 64 * half).assumingMemoryBound(to: UInt8.self)
            let qh = (s + 128 + 32 * half).assumingMemoryBound(to: UInt8.self)
            let sc = (s + 192 + 8 * half).assumingMemoryBound(to: Int8.self)
            let yh = y + 128 * half
            for l in 0 ..< 32 {
                let g = l / 16
                let q1 = Int((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32
                let q2 = Int((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32
                let q3 = Int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32
                let q4 = Int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32
                yh[l] = d * Float(sc[g]) * Float(q1)
                yh[l + 32] = d * Float(sc[g + 2]) * Float(q2)
                yh[l + 64] = d * Float(sc[g + 4]) * Float(q3)
                yh[l + 96] = d * Float(sc[g + 6]) * Float(q4)
            }
        }
    }
}
