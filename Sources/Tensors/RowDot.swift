import GGUF

/// Dot products of one weight row (in its stored type) with an encoded activation vector.
/// The integer inner loops are written as plain counted loops over pointers: LLVM turns them into
/// pmaddwd-style vector code, which Swift's SIMD type conversions do not.
public enum RowDot {
    @inline(__always)
    public static func dot(_ type: GGMLType, _ row: UnsafeRawPointer, _ x: QuantizedActivation, _ n: Int) -> Float {
        switch type {
        case .f32: return f32(row, x.floats!, n)
        case .f16: return f16(row, x.floats!, n)
        case .bf16: return bf16(row, x.floats!, n)
        case .q8_0: return q8_0(row, x, n / 32)
        case .q4_0: return q4_0(row, x, n / 32)
        case .q5_0: return q5_0(row, x, n / 32)
        case .q4_1: return q4_1(row, x, n / 32)
        case .q5_1: return q5_1(row, x, n / 32)
        case .q4_K: return q4_K(row, x, n / 256)
        case .q5_K: return q5_K(row, x, n / 256)
        case .q6_K: return q6_K(row, x, n / 256)
        }
    }

    // MARK: Float rows (explicit vector accumulators: Swift will not reassociate float sums)

    @inline(__always) static func f32(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
        let xr = UnsafeRawPointer(x)
        var i = 0
        while i + 16 <= n {
            a0.addProduct(w.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self),
                          xr.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
            a1.addProduct(w.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self),
                          xr.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self))
            i += 16
        }
        var s = (a0 + a1).sum()
        let wf = w.assumingMemoryBound(to: Float.self)
        while i < n { s += wf[i] * x[i]; i += 1 }
        return s
    }

    @inline(__always) static func f16(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        let h = w.assumingMemoryBound(to: Float16.self)
        let xr = UnsafeRawPointer(x)
        var i = 0
        while i + 8 <= n {
            var v = SIMD8<Float>()
            for j in 0 ..< 8 { v[j] = Float(h[i + j]) }
            acc.addProduct(v, xr.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
            i += 8
        }
        var s = acc.sum()
        while i < n { s += Float(h[i]) * x[i]; i += 1 }
        return s
    }

    @inline(__always) static func bf16(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        let h = w.assumingMemoryBound(to: UInt16.self)
        let xr = UnsafeRawPointer(x)
        var i = 0
        while i + 8 <= n {
            var v = SIMD8<Float>()
            for j in 0 ..< 8 { v[j] = bf16ToFloat(h[i + j]) }
            acc.addProduct(v, xr.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
            i += 8
        }
        var s = acc.sum()
        while i < n { s += bf16ToFloat(h[i]) * x[i]; i += 1 }
        return s
    }

    // MARK: 32-element blocks against q8_0 / q8_1 activations

    @inline(__always) static func dot32(_ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>) -> Int32 {
        var s: Int32 = 0
        for i in 0 ..< 32 { s &+= Int32(a[i]) &* Int32(b[i]) }
        return s
    }

    @inline(__always) static func q8_0(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ nb: Int) -> Float {
        var acc: Float = 0
        for b in 0 ..< nb {
            let blk = w + 34 * b
            let s = dot32((blk + 2).assumingMemoryBound(to: Int8.self), x.qs + 32 * b)
            acc += Float(s) * (loadHalf(blk) * x.scales[b])
        }
        return acc
    }

    @inline(__always) static func q4_0(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ nb: Int) -> Float {
        var acc: Float = 0
        for b in 0 ..< nb {
            let blk = w + 18 * b
            let q = (blk + 2).assumingMemoryBound(to: UInt8.self)
            let y = x.qs + 32 * b
            var s: Int32 = 0
            for j in 0 ..< 16 {
                s &+= (Int32(q[j] & 0xF) &- 8) &* Int32(y[j]) &+ (Int32(q[j] >> 4) &- 8) &* Int32(y[j + 16])
            }
            acc += Float(s) * (loadHalf(blk) * x.scales[b])
        }
        return acc
    }

    @inline(__always) static func q5_0(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ nb: Int) -> Float {
        var acc: Float = 0
        for b in 0 ..< nb {
            let blk = w + 22 * b
            let qh = blk.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
            let q = (blk + 6).assumingMemoryBound(to: UInt8.self)
            let y = x.qs + 32 * b
            var s: Int32 = 0
            for j in 0 ..< 16 {
                let h0 = Int32(bitPattern: (qh >> UInt32(j)) & 1) << 4
                let h1 = Int32(bitPattern: (qh >> UInt32(j + 16)) & 1) << 4
                s &+= ((Int32(q[j] & 0xF) | h0) &- 16) &* Int32(y[j])
                s &+= ((Int32(q[j] >> 4) | h1) &- 16) &* Int32(y[j + 16])
            }
            acc += Float(s) * (loadHalf(blk) * x.scales[b])
        }
        return acc
    }

    @inline(__always) static func q4_1(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ nb: Int) -> Float {
        var acc: Float = 0
        for b in 0 ..< nb {
            let blk = w + 20 * b
            let q = (blk + 4).assumingMemoryBound(to: UInt8.self)
            let y = x.qs + 32 * b
            var s: Int32 = 0
            for j in 0 ..< 16 { s &+= Int32(q[j] & 0xF) &* Int32(y[j]) &+ Int32(q[j] >> 4) &* Int32(y[j + 16]) }
            acc += Float(s) * (loadHalf(blk) * x.scales[b]) + loadHalf(blk, 2) * x.sums[b]
        }
        return acc
    }

    @inline(__always) static func q5_1(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ nb: Int) -> Float {
        var acc: Float = 0
        for b in 0 ..< nb {
            let blk = w + 24 * b
            let qh = blk.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
            let q = (blk + 8).assumingMemoryBound(to: UInt8.self)
            let y = x.qs + 32 * b
            var s: Int32 = 0
            for j in 0 ..< 16 {
                let h0 = Int32(bitPattern: (qh >> UInt32(j)) & 1) << 4
                let h1 = Int32(bitPattern: (qh >> UInt32(j + 16)) & 1) << 4
                s &+= (Int32(q[j] & 0xF) | h0) &* Int32(y[j]) &+ (Int32(q[j] >> 4) | h1) &* Int32(y[j + 16])
            }
            acc += Float(s) * (loadHalf(blk) * x.scales[b]) + loadHalf(blk, 2) * x.sums[b]
        }
        return acc
    }

    // MARK: K-quant super-blocks against q8_K activations

    @inline(__always) static func q4_K(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ nb: Int) -> Float {
        var acc: Float = 0
        for b in 0 ..< nb {
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
            acc += d * (loadHalf(blk) * Float(sumi) - loadHalf(blk, 2) * summ)
        }
        return acc
    }

    @inline(__always) static func q5_K(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ nb: Int) -> Float {
        var acc: Float = 0
        for b in 0 ..< nb {
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
            acc += d * (loadHalf(blk) * Float(sumi) - loadHalf(blk, 2) * summ)
        }
        return acc
    }

    @inline(__always) static func q6_K(_ w: UnsafeRawPointer, _ x: QuantizedActivation, _ nb: Int) -> Float {
        var acc: Float = 0
        for b in 0 ..< nb {
            let blk = w + 210 * b
            let y = x.qs + 256 * b
            var sumi: Int32 = 0
            for half in 0 ..< 2 {
                let ql = (blk + 64 * half).assumingMemoryBound(to: UInt8.self)
                let qh = (blk + 128 + 32 * half).assumingMemoryBound(to: UInt8.self)
                let sc = (blk + 192 + 8 * half).assumingMemoryBound(to: Int8.self)
                let yh = y + 128 * half
                // Four 32-wide groups (l, l+32, l+64, l+96), each split in two 16-wide scale groups.
                for g in 0 ..< 2 {
                    var s1: Int32 = 0, s2: Int32 = 0, s3: Int32 = 0, s4: Int32 = 0
                    for i in 0 ..< 16 {
                        let l = 16 * g + i
                        s1 &+= (Int32((ql[l] & 0xF) | ((qh[l] & 3) << 4)) &- 32) &* Int32(yh[l])
                        s2 &+= (Int32((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) &- 32) &* Int32(yh[l + 32])
                        s3 &+= (Int32((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) &- 32) &* Int32(yh[l + 64])
                        s4 &+= (Int32((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) &- 32) &* Int32(yh[l + 96])
                    }
                    sumi &+= s1 &* Int32(sc[g]) &+ s2 &* Int32(sc[g + 2]) &+ s3 &* Int32(sc[g + 4]) &+ s4 &* Int32(sc[g + 6])
                }
            }
            acc += x.scales[b] * loadHalf(blk, 208) * Float(sumi)
        }
        return acc
    }
}
