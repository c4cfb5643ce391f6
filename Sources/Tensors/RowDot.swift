import CKernels
import GGUF

/// Dot products of one weight row (in its stored type) with an encoded activation vector.
/// Every quantized type goes to the AVX2 kernels of CKernels where the build has them: on a LLaMA of width 2048
/// the Swift kernels below generated Q4_K files at 0.45x llama.cpp's speed (bench_vs_llamacpp.py), bound by
/// arithmetic rather than memory.
/// The Swift kernels are the portable path and the reference the tests hold the AVX2 ones to. Their integer
/// inner loops are plain counted loops over pointers: LLVM turns them into pmaddwd-style vector code, which
/// Swift's SIMD type conversions do not. Each block's float contribution goes to one of four accumulators in
/// turn: one accumulator makes every block wait on the previous block's add, which measured 1.5x slower on the
/// vocabulary projection.
public enum RowDot {
    /// Whether CKernels was built with AVX2 (the package builds for the host CPU).
    public static let hasNativeKernels = glimpse_row_kernels_available() != 0

    @inline(__always)
    public static func dot(_ type: GGMLType, _ row: UnsafeRawPointer, _ x: QuantizedActivation, _ n: Int) -> Float {
        let level = Kernels.level
        if level >= .avx512 {
            switch type {
            case .q8_0: return glimpse_dot_q8_0_vnni(row, x.qs, x.scales, Int32(n / 32))
            case .q4_0: return glimpse_dot_q4_0_vnni(row, x.qs, x.scales, Int32(n / 32))
            case .q5_0: return glimpse_dot_q5_0_vnni(row, x.qs, x.scales, Int32(n / 32))
            case .q4_1: return glimpse_dot_q4_1_vnni(row, x.qs, x.scales, x.sums, Int32(n / 32))
            case .q5_1: return glimpse_dot_q5_1_vnni(row, x.qs, x.scales, x.sums, Int32(n / 32))
            default: break
            }
        }
        if level >= .avx2 {
            switch type {
            case .q8_0: return glimpse_dot_q8_0(row, x.qs, x.scales, Int32(n / 32))
            case .q4_0: return glimpse_dot_q4_0(row, x.qs, x.scales, Int32(n / 32))
            case .q5_0: return glimpse_dot_q5_0(row, x.qs, x.scales, Int32(n / 32))
            case .q4_1: return glimpse_dot_q4_1(row, x.qs, x.scales, x.sums, Int32(n / 32))
            case .q5_1: return glimpse_dot_q5_1(row, x.qs, x.scales, x.sums, Int32(n / 32))
            case .q4_K: return glimpse_dot_q4_K(row, x.qs, x.scales, x.sums, Int32(n / 256))
            case .q5_K: return glimpse_dot_q5_K(row, x.qs, x.scales, x.sums, Int32(n / 256))
            case .q6_K: return glimpse_dot_q6_K(row, x.qs, x.scales, x.sums, Int32(n / 256))
            default: break
            }
        }
        return portableDot(type, row, x, n)
    }

    /// The Swift kernels, for every type.
    @inline(__always)
    public static func portableDot(_ type: GGMLType, _ row: UnsafeRawPointer, _ x: QuantizedActivation, _ n: Int) -> Float {
        switch type {
        case .f32: return f32(row, x.floats!, n)
        case .f16: return f16(row, x.floats!, n)
        case .bf16: return bf16(row, x.floats!, n)
        case .q8_0: return accumulate(Q8_0Block.self, row, x, n / 32)
        case .q4_0: return accumulate(Q4_0Block.self, row, x, n / 32)
        case .q5_0: return accumulate(Q5_0Block.self, row, x, n / 32)
        case .q4_1: return accumulate(Q4_1Block.self, row, x, n / 32)
        case .q5_1: return accumulate(Q5_1Block.self, row, x, n / 32)
        case .q4_K: return accumulate(Q4_KBlock.self, row, x, n / 256)
        case .q5_K: return accumulate(Q5_KBlock.self, row, x, n / 256)
        case .q6_K: return accumulate(Q6_KBlock.self, row, x, n / 256)
        }
    }

    /// Sums `K.block` over `nb` blocks with four independent accumulators.
    @inline(__always)
    static func accumulate<K: BlockKernel>(_: K.Type, _ w: UnsafeRawPointer, _ x: QuantizedActivation, _ nb: Int) -> Float {
        var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
        var b = 0
        while b + 4 <= nb {
            a0 += K.block(w, x, b)
            a1 += K.block(w, x, b + 1)
            a2 += K.block(w, x, b + 2)
            a3 += K.block(w, x, b + 3)
            b += 4
        }
        while b < nb {
            a0 += K.block(w, x, b)
            b += 1
        }
        return (a0 + a1) + (a2 + a3)
    }

    @inline(__always) static func dot32(_ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>) -> Int32 {
        var s: Int32 = 0
        for i in 0 ..< 32 { s &+= Int32(a[i]) &* Int32(b[i]) }
        return s
    }

    // MARK: Float rows (explicit vector accumulators: Swift will not reassociate float sums)

    @inline(__always) static func f32(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        Ops.dot(w.assumingMemoryBound(to: Float.self), x, n)
    }

    @inline(__always) static func f16(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        let h = w.assumingMemoryBound(to: Float16.self)
        return converted(x, n) { Float(h[$0]) }
    }

    @inline(__always) static func bf16(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        let h = w.assumingMemoryBound(to: UInt16.self)
        return converted(x, n) { bf16ToFloat(h[$0]) }
    }

    /// Dot product of x with a row read through `element` (a 16-bit float conversion), eight lanes at a time.
    @inline(__always) static func converted(_ x: UnsafePointer<Float>, _ n: Int, _ element: (Int) -> Float) -> Float {
        var acc = SIMD8<Float>()
        let xr = UnsafeRawPointer(x)
        var i = 0
        while i + 8 <= n {
            var v = SIMD8<Float>()
            for j in 0 ..< 8 { v[j] = element(i + j) }
            acc.addProduct(v, xr.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
            i += 8
        }
        var s = acc.sum()
        while i < n { s += element(i) * x[i]; i += 1 }
        return s
    }
}

/// One quantization block's contribution to a row·activation dot product.
protocol BlockKernel {
    static func block(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ b: Int) -> Float
}

// MARK: 32-element blocks against q8_0 / q8_1 activations

enum Q8_0Block: BlockKernel {
    @inline(__always) static func block(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ b: Int) -> Float {
        let blk = w + 34 * b
        let s = RowDot.dot32((blk + 2).assumingMemoryBound(to: Int8.self), x.qs + 32 * b)
        return Float(s) * (loadHalf(blk) * x.scales[b])
    }
}

enum Q4_0Block: BlockKernel {
    @inline(__always) static func block(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ b: Int) -> Float {
        let blk = w + 18 * b
        let q = (blk + 2).assumingMemoryBound(to: UInt8.self)
        let y = x.qs + 32 * b
        var s: Int32 = 0
        for j in 0 ..< 16 {
            s &+= (Int32(q[j] & 0xF) &- 8) &* Int32(y[j]) &+ (Int32(q[j] >> 4) &- 8) &* Int32(y[j + 16])
        }
        return Float(s) * (loadHalf(blk) * x.scales[b])
    }
}

/// The fifth bits of a Q5 block, spread to one byte each (0 or 16) through a table: per-element
/// variable shifts of the packed word vectorize poorly.
enum FifthBits {
    static let table: [UInt64] = (0 ..< 256).map { byte in
        var v: UInt64 = 0
        for i in 0 ..< 8 where byte & (1 << i) != 0 { v |= UInt64(16) << (8 * UInt64(i)) }
        return v
    }

    /// Fills `out[0..<32]` with 16·bit(j) of the little-endian word `qh`.
    @inline(__always) static func expand(_ qh: UInt32, _ out: UnsafeMutablePointer<UInt8>) {
        table.withUnsafeBufferPointer { t in
            let raw = UnsafeMutableRawPointer(out)
            raw.storeBytes(of: t[Int(qh & 0xFF)], toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: t[Int((qh >> 8) & 0xFF)], toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: t[Int((qh >> 16) & 0xFF)], toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: t[Int(qh >> 24)], toByteOffset: 24, as: UInt64.self)
        }
    }
}

enum Q5_0Block: BlockKernel {
    @inline(__always) static func block(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ b: Int) -> Float {
        let blk = w + 22 * b
        let q = (blk + 6).assumingMemoryBound(to: UInt8.self)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
            let h = buffer.baseAddress!, v = h + 32
            FifthBits.expand(blk.loadUnaligned(fromByteOffset: 2, as: UInt32.self), h)
            // Unpack to signed bytes first (byte ops vectorize cleanly), then one int8 dot product.
            for j in 0 ..< 16 {
                v[j] = ((q[j] & 0xF) | h[j]) &- 16
                v[j + 16] = ((q[j] >> 4) | h[j + 16]) &- 16
            }
            let s = RowDot.dot32(UnsafeRawPointer(v).assumingMemoryBound(to: Int8.self), x.qs + 32 * b)
            return Float(s) * (loadHalf(blk) * x.scales[b])
        }
    }
}

enum Q4_1Block: BlockKernel {
    @inline(__always) static func block(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ b: Int) -> Float {
        let blk = w + 20 * b
        let q = (blk + 4).assumingMemoryBound(to: UInt8.self)
        let y = x.qs + 32 * b
        var s: Int32 = 0
        for j in 0 ..< 16 { s &+= Int32(q[j] & 0xF) &* Int32(y[j]) &+ Int32(q[j] >> 4) &* Int32(y[j + 16]) }
        return Float(s) * (loadHalf(blk) * x.scales[b]) + loadHalf(blk, 2) * x.sums[b]
    }
}

enum Q5_1Block: BlockKernel {
    @inline(__always) static func block(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ b: Int) -> Float {
        let blk = w + 24 * b
        let q = (blk + 8).assumingMemoryBound(to: UInt8.self)
        let y = x.qs + 32 * b
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { hb in
            let h = hb.baseAddress!
            FifthBits.expand(blk.loadUnaligned(fromByteOffset: 4, as: UInt32.self), h)
            var s: Int32 = 0
            for j in 0 ..< 16 {
                s &+= Int32((q[j] & 0xF) | h[j]) &* Int32(y[j]) &+ Int32((q[j] >> 4) | h[j + 16]) &* Int32(y[j + 16])
            }
            return Float(s) * (loadHalf(blk) * x.scales[b]) + loadHalf(blk, 2) * x.sums[b]
        }
    }
}

// MARK: K-quant super-blocks against q8_K activations

enum Q4_KBlock: BlockKernel {
    @inline(__always) static func block(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ b: Int) -> Float {
        let blk = w + 144 * b
        let scales = (blk + 4).assumingMemoryBound(to: UInt8.self)
        let q = (blk + 16).assumingMemoryBound(to: UInt8.self)
        let y = x.qs + 256 * b
        let bs = x.sums + 16 * b
        var sumi: Int32 = 0
        var summ: Float = 0
        for c in 0 ..< 4 {
            let (sc0, m0) = Dequantize.scaleMin(2 * c, scales), (sc1, m1) = Dequantize.scaleMin(2 * c + 1, scales)
            let qc = q + 32 * c, y0 = y + 64 * c, y1 = y0 + 32
            var s0: Int32 = 0, s1: Int32 = 0
            for l in 0 ..< 32 {
                s0 &+= Int32(qc[l] & 0xF) &* Int32(y0[l])
                s1 &+= Int32(qc[l] >> 4) &* Int32(y1[l])
            }
            sumi &+= s0 &* Int32(sc0) &+ s1 &* Int32(sc1)
            summ += Float(m0) * (bs[4 * c] + bs[4 * c + 1]) + Float(m1) * (bs[4 * c + 2] + bs[4 * c + 3])
        }
        let d = x.scales[b]
        return d * (loadHalf(blk) * Float(sumi) - loadHalf(blk, 2) * summ)
    }
}

enum Q5_KBlock: BlockKernel {
    @inline(__always) static func block(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ b: Int) -> Float {
        let blk = w + 176 * b
        let scales = (blk + 4).assumingMemoryBound(to: UInt8.self)
        let qh = (blk + 16).assumingMemoryBound(to: UInt8.self)
        let q = (blk + 48).assumingMemoryBound(to: UInt8.self)
        let y = x.qs + 256 * b
        let bs = x.sums + 16 * b
        var sumi: Int32 = 0
        var summ: Float = 0
        for c in 0 ..< 4 {
            let (sc0, m0) = Dequantize.scaleMin(2 * c, scales), (sc1, m1) = Dequantize.scaleMin(2 * c + 1, scales)
            let qc = q + 32 * c, y0 = y + 64 * c, y1 = y0 + 32
            let sh0 = UInt8(2 * c), sh1 = UInt8(2 * c + 1)
            var s0: Int32 = 0, s1: Int32 = 0
            for l in 0 ..< 32 {
                let h0 = Int32((qh[l] >> sh0) & 1) << 4, h1 = Int32((qh[l] >> sh1) & 1) << 4
                s0 &+= (Int32(qc[l] & 0xF) | h0) &* Int32(y0[l])
                s1 &+= (Int32(qc[l] >> 4) | h1) &* Int32(y1[l])
            }
            sumi &+= s0 &* Int32(sc0) &+ s1 &* Int32(sc1)
            summ += Float(m0) * (bs[4 * c] + bs[4 * c + 1]) + Float(m1) * (bs[4 * c + 2] + bs[4 * c + 3])
        }
        let d = x.scales[b]
        return d * (loadHalf(blk) * Float(sumi) - loadHalf(blk, 2) * summ)
    }
}

enum Q6_KBlock: BlockKernel {
    @inline(__always) static func block(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ b: Int) -> Float {
        let blk = w + 210 * b
        let y = x.qs + 256 * b
        let sc = (blk + 192).assumingMemoryBound(to: Int8.self)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { buffer in
            let v = buffer.baseAddress!
            // Unpack all 256 six-bit values (minus 32) in element order, then sixteen 16-wide dots.
            for half in 0 ..< 2 {
                let ql = (blk + 64 * half).assumingMemoryBound(to: UInt8.self)
                let qh = (blk + 128 + 32 * half).assumingMemoryBound(to: UInt8.self)
                let out = v + 128 * half
                for l in 0 ..< 32 {
                    out[l] = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) &- 32
                    out[l + 32] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) &- 32
                    out[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) &- 32
                    out[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) &- 32
                }
            }
            let vi = UnsafeRawPointer(v).assumingMemoryBound(to: Int8.self)
            var sumi: Int32 = 0
            for g in 0 ..< 16 {
                var s: Int32 = 0
                for i in 0 ..< 16 { s &+= Int32(vi[16 * g + i]) &* Int32(y[16 * g + i]) }
                sumi &+= s &* Int32(sc[g])
            }
            return x.scales[b] * loadHalf(blk, 208) * Float(sumi)
        }
    }
}
