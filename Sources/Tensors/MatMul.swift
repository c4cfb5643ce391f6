import CKernels
import COpenBLAS
import GGUF
import Synchronization

/// Products of a weight matrix W (rows = output units, each `K` long, in its stored type) with activations.
public enum MatMul {
    /// y = W·x for one vector: x[K] -> y[rows]. Rows are split over the pool's threads.
    public static func vector(_ w: TensorView, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                              scratch: QuantizedActivation, pool: ThreadPool) {
        let k = w.rowLength, type = w.type, rowBytes = w.rowBytes, base = w.data
        scratch.quantize(x, k, as: ActivationFormat(weight: type))
        pool.parallelRanges(w.rowCount, grain: 16) { range in
            for r in range { y[r] = RowDot.dot(type, base + r * rowBytes, scratch, k) }
        }
    }

    /// y_i = W_i·x for several weights sharing one input (q/k/v, gate/up) in a single parallel region:
    /// one thread hand-off instead of one per weight, and x encoded once per activation format.
    public static func vectors(_ ws: [TensorView], _ x: UnsafePointer<Float>, _ ys: [UnsafeMutablePointer<Float>],
                               scratch: BatchScratch, pool: ThreadPool) {
        let k = ws[0].rowLength
        scratch.ensure(ws.count)
        var formats: [ActivationFormat] = []
        var encoded: [QuantizedActivation] = []
        for w in ws {
            let f = ActivationFormat(weight: w.type)
            if let i = formats.firstIndex(of: f) {
                encoded.append(encoded[i])
            } else {
                let act = scratch.activations[formats.count]
                act.quantize(x, k, as: f)
                formats.append(f)
                encoded.append(act)
            }
        }
        var starts = [0]
        for w in ws { starts.append(starts.last! + w.rowCount) }
        pool.parallelRanges(starts.last!, grain: 16) { range in
            var r = range.lowerBound
            while r < range.upperBound {
                let i = starts.lastIndex { $0 <= r }!
                let w = ws[i], end = min(range.upperBound, starts[i + 1])
                let base = w.data, rowBytes = w.rowBytes, type = w.type, act = encoded[i], y = ys[i]
                for row in (r - starts[i]) ..< (end - starts[i]) { y[row] = RowDot.dot(type, base + row * rowBytes, act, k) }
                r = end
            }
        }
    }

    /// Y = X·Wᵀ for `count` vectors: X[count][K] -> Y[count][rows] (row-major).
    /// Small batches use the quantized dot kernels; larger ones dequantize a band of weight rows at a time
    /// into per-thread scratch (never the whole tensor) and hand it to sgemm with the activations unrounded.
    /// That is both faster and more exact than int8 activations: on Gemma 3 (whose activations have large
    /// outliers) prompt logits land closer to a float64 reference than llama.cpp's (tools/reference_forward.py).
    public static func batch(_ w: TensorView, _ x: UnsafePointer<Float>, count: Int, _ y: UnsafeMutablePointer<Float>,
                             scratch: BatchScratch, pool: ThreadPool) {
        let k = w.rowLength, rows = w.rowCount
        if count == 1 {
            return vector(w, x, y, scratch: scratch.activations[0], pool: pool)
        }
        if count < 8 {
            let type = w.type, rowBytes = w.rowBytes, base = w.data
            let format = ActivationFormat(weight: type)
            scratch.ensure(count)
            for t in 0 ..< count { scratch.activations[t].quantize(x + t * k, k, as: format) }
            pool.parallelRanges(rows, grain: 16) { range in
                for r in range {
                    let row = base + r * rowBytes
                    for t in 0 ..< count { y[t * rows + r] = RowDot.dot(type, row, scratch.activations[t], k) }
                }
            }
            return
        }
        let float = [GGMLType.f32, .f16, .bf16].contains(w.type)
        if Kernels.level == .avx512 && !float { return int8(w, x, count: count, y, scratch: scratch, pool: pool) }
        if Kernels.level == .amx || (float && Kernels.bf16Batches) { return bf16(w, x, count: count, y, scratch: scratch, pool: pool) }
        // Bands of at most 256 rows: large enough that sgemm's packing and setup are amortized, small enough
        // (256 x K floats per thread) to stay a scratch buffer rather than a dequantized copy of the tensor.
        // Their count is a multiple of the threads, so every thread gets the same share: with fixed 256-row
        // bands, a 256-row weight (Gemma 3's k and v) left one of two cores idle, and a 640-row one gave one
        // core two bands to the other's one.
        let (band, bands) = bandSize(rows, threads: pool.threadCount)
        scratch.ensureBands(threads: pool.threadCount, floats: band * k)
        let slot = Atomic<Int>(0)
        pool.parallelFor(pool.threadCount) { _ in
            let me = slot.add(1, ordering: .relaxed).oldValue
            let tile = scratch.bandBuffers[me].pointer
            // Bands are claimed round-robin by thread index: thread `me` takes me, me+T, me+2T, ...
            var b = me
            while b < bands {
                let r0 = b * band, n = min(band, rows - r0)
                let weights: UnsafePointer<Float>
                if w.type == .f32 {
                    weights = (w.data + r0 * w.rowBytes).assumingMemoryBound(to: Float.self)
                } else {
                    for i in 0 ..< n { w.dequantizeRow(r0 + i, into: tile + i * k) }
                    weights = UnsafePointer(tile)
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(n), Int32(k),
                            1, x, Int32(k), weights, Int32(k), 0, y + r0, Int32(rows))
                b += pool.threadCount
            }
        }
    }

    static func bandSize(_ rows: Int, threads: Int) -> (band: Int, bands: Int) {
        let evenBands = ((rows + 255) / 256 + threads - 1) / threads * threads
        let band = (rows + evenBands - 1) / evenBands
        return (band, (rows + band - 1) / band)
    }

    /// `batch` in bf16 on AMX tiles or AVX-512 BF16: the activations are rounded to bf16 and packed into VNNI pairs once (split over
    /// the threads), then each band of weight rows is converted to bf16 (F16 and BF16 directly, quantized types
    /// through F32) and multiplied on tiles, sums in F32. Converting per band rather than keeping a bf16 copy of
    /// every weight keeps memory at one copy of the file; the conversion is read once per `count` products.
    static func bf16(_ w: TensorView, _ x: UnsafePointer<Float>, count: Int, _ y: UnsafeMutablePointer<Float>,
                     scratch: BatchScratch, pool: ThreadPool) {
        let k = w.rowLength, rows = w.rowCount, kp = Int(glimpse_round32(Int32(k)))
        let vectors = Int(glimpse_round32(Int32(count)))
        let packed = scratch.sharedBuffer(0, vectors * kp, as: UInt16.self)
        pool.parallelRanges(vectors / 16, grain: 1) { range in
            glimpse_bf16_pack_vectors(x, k, Int32(count), Int32(k), Int32(range.lowerBound * 16), Int32(range.count * 16), packed)
        }
        let (band, bands) = bandSize(rows, threads: pool.threadCount)
        let bandRows = Int(glimpse_round32(Int32(band)))
        let gemm = Kernels.level == .amx ? glimpse_amx_bf16_gemm : glimpse_avx512_bf16_gemm
        let isFloat = [GGMLType.f32, .f16, .bf16].contains(w.type)
        scratch.reserveThreads(pool.threadCount, buffers: 3)
        let slot = Atomic<Int>(0)
        pool.parallelFor(pool.threadCount) { _ in
            let me = slot.add(1, ordering: .relaxed).oldValue
            let converted = scratch.threadBuffer(me, 0, bandRows * kp, as: UInt16.self)
            let work = scratch.threadBuffer(me, 1, bandRows * min(vectors, 256), as: Float.self)
            let floats = scratch.threadBuffer(me, 2, isFloat ? 1 : band * k, as: Float.self)
            var b = me
            while b < bands {
                let r0 = b * band, n = min(band, rows - r0)
                let source = w.data + r0 * w.rowBytes
                switch w.type {
                case .f32: glimpse_bf16_rows_from_f32(source.assumingMemoryBound(to: Float.self), k, Int32(n), Int32(k), converted)
                case .f16: glimpse_bf16_rows_from_f16(source.assumingMemoryBound(to: UInt16.self), k, Int32(n), Int32(k), converted)
                case .bf16: glimpse_bf16_rows_from_bf16(source.assumingMemoryBound(to: UInt16.self), k, Int32(n), Int32(k), converted)
                default:
                    for i in 0 ..< n { w.dequantizeRow(r0 + i, into: floats + i * k) }
                    glimpse_bf16_rows_from_f32(floats, k, Int32(n), Int32(k), converted)
                }
                gemm(converted, Int32(n), packed, Int32(count), Int32(k), y + r0, rows, work)
                b += pool.threadCount
            }
        }
    }

    /// `batch` of a quantized weight on AVX-512 VNNI: activations quantized to int8 in blocks of 32 (as the row
    /// kernels of decoding do, and llama.cpp does for prompts) and packed once; each band of weight rows unpacked
    /// to unsigned bytes with a scale and offset per block of 32 (exactly, except Q6_K and types without a
    /// mapping, requantized from F32), then multiplied four bytes per lane with integer sums per block.
    static func int8(_ w: TensorView, _ x: UnsafePointer<Float>, count: Int, _ y: UnsafeMutablePointer<Float>,
                     scratch: BatchScratch, pool: ThreadPool) {
        let k = w.rowLength, rows = w.rowCount, kp = Int(glimpse_round32(Int32(k))), blocks = kp / 32
        let vectors = (count + 15) / 16 * 16
        let xq = scratch.sharedBuffer(0, vectors * kp, as: Int8.self)
        let xs = scratch.sharedBuffer(1, vectors * blocks, as: Float.self)
        let xsum = scratch.sharedBuffer(2, vectors * blocks, as: Float.self)
        pool.parallelRanges(vectors / 16, grain: 1) { range in
            glimpse_s8_pack_vectors(x, k, Int32(count), Int32(k), Int32(range.lowerBound * 16), Int32(range.count * 16), xq, xs, xsum)
        }
        let (band, bands) = bandSize(rows, threads: pool.threadCount)
        let bandRows = Int(glimpse_round8(Int32(band)))
        let exact = [GGMLType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K].contains(w.type)
        scratch.reserveThreads(pool.threadCount, buffers: 5)
        let slot = Atomic<Int>(0)
        pool.parallelFor(pool.threadCount) { _ in
            let me = slot.add(1, ordering: .relaxed).oldValue
            let q = scratch.threadBuffer(me, 0, bandRows * kp, as: UInt8.self)
            let a = scratch.threadBuffer(me, 1, bandRows * blocks, as: Float.self)
            let offsets = scratch.threadBuffer(me, 2, bandRows * blocks, as: Float.self)
            let floats = scratch.threadBuffer(me, 3, exact ? 1 : band * k, as: Float.self)
            let work = scratch.threadBuffer(me, 4, bandRows * 128, as: Float.self)
            var b = me
            while b < bands {
                let r0 = b * band, n = Int32(min(band, rows - r0))
                let source = w.data + r0 * w.rowBytes
                switch w.type {
                case .q8_0: glimpse_u8_rows_from_q8_0(source, w.rowBytes, n, Int32(k), q, a, offsets)
                case .q4_0: glimpse_u8_rows_from_q4_0(source, w.rowBytes, n, Int32(k), q, a, offsets)
                case .q4_K: glimpse_u8_rows_from_q4_K(source, w.rowBytes, n, Int32(k), q, a, offsets)
                case .q4_1: glimpse_u8_rows_from_q4_1(source, w.rowBytes, n, Int32(k), q, a, offsets)
                case .q5_0: glimpse_u8_rows_from_q5_0(source, w.rowBytes, n, Int32(k), q, a, offsets)
                case .q5_1: glimpse_u8_rows_from_q5_1(source, w.rowBytes, n, Int32(k), q, a, offsets)
                case .q5_K: glimpse_u8_rows_from_q5_K(source, w.rowBytes, n, Int32(k), q, a, offsets)
                default:
                    for i in 0 ..< Int(n) { w.dequantizeRow(r0 + i, into: floats + i * k) }
                    glimpse_u8_rows_from_f32(floats, k, n, Int32(k), q, a, offsets)
                }
                glimpse_vnni_gemm(q, a, offsets, n, xq, xs, xsum, Int32(count), Int32(k), y + r0, rows, work)
                b += pool.threadCount
            }
        }
    }
}


/// Reusable buffers for `MatMul.batch` (activations of small batches, dequantized weight bands).
public final class BatchScratch: @unchecked Sendable {
    public private(set) var activations: [QuantizedActivation] = [QuantizedActivation()]
    private(set) var bandBuffers: [FloatBuffer] = []

    public init() {}

    func ensure(_ count: Int) {
        while activations.count < count { activations.append(QuantizedActivation()) }
    }

    /// Growable raw buffers for the bf16 and int8 paths: `shared` ones (the packed activations, written by all
    /// threads before the bands start) and `perThread[t]` ones (a band of converted weights, partial sums).
    private(set) var shared: [GrowableBuffer] = []
    private(set) var perThread: [[GrowableBuffer]] = []

    func sharedBuffer<T>(_ index: Int, _ count: Int, as: T.Type) -> UnsafeMutablePointer<T> {
        while shared.count <= index { shared.append(GrowableBuffer()) }
        return shared[index].ensure(count * MemoryLayout<T>.stride).assumingMemoryBound(to: T.self)
    }

    func threadBuffer<T>(_ thread: Int, _ index: Int, _ count: Int, as: T.Type) -> UnsafeMutablePointer<T> {
        while perThread.count <= thread { perThread.append([]) }
        while perThread[thread].count <= index { perThread[thread].append(GrowableBuffer()) }
        return perThread[thread][index].ensure(count * MemoryLayout<T>.stride).assumingMemoryBound(to: T.self)
    }

    /// Makes every thread's buffers exist before a parallel region (the arrays must not grow inside it).
    func reserveThreads(_ threads: Int, buffers: Int) {
        while perThread.count < threads { perThread.append([]) }
        for t in 0 ..< threads { while perThread[t].count < buffers { perThread[t].append(GrowableBuffer()) } }
    }

    func ensureBands(threads: Int, floats: Int) {
        if bandBuffers.count < threads || (bandBuffers.first?.count ?? 0) < floats {
            bandBuffers = (0 ..< threads).map { _ in FloatBuffer(count: floats) }
        }
    }
}

/// 64-byte aligned bytes that grow on demand and are reused across calls.
final class GrowableBuffer: @unchecked Sendable {
    private(set) var pointer = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    private var capacity = 64

    func ensure(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > capacity {
            pointer.deallocate()
            capacity = bytes
            pointer = .allocate(byteCount: bytes, alignment: 64)
        }
        return pointer
    }

    deinit { pointer.deallocate() }
}

/// Keeps OpenBLAS from starting its own spinning threads: Glimpse splits work over its own pool.
public enum BLAS {
    public static func useSingleThread() { openblas_set_num_threads(1) }
}
