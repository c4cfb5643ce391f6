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
        // Bands of at most 256 rows: large enough that sgemm's packing and setup are amortized, small enough
        // (256 x K floats per thread) to stay a scratch buffer rather than a dequantized copy of the tensor.
        // Their count is a multiple of the threads, so every thread gets the same share: with fixed 256-row
        // bands, a 256-row weight (Gemma 3's k and v) left one of two cores idle, and a 640-row one gave one
        // core two bands to the other's one.
        let threads = pool.threadCount
        let evenBands = ((rows + 255) / 256 + threads - 1) / threads * threads
        let band = (rows + evenBands - 1) / evenBands
        let bands = (rows + band - 1) / band
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
}


/// Reusable buffers for `MatMul.batch` (activations of small batches, dequantized weight bands).
public final class BatchScratch: @unchecked Sendable {
    public private(set) var activations: [QuantizedActivation] = [QuantizedActivation()]
    private(set) var bandBuffers: [FloatBuffer] = []

    public init() {}

    func ensure(_ count: Int) {
        while activations.count < count { activations.append(QuantizedActivation()) }
    }

    func ensureBands(threads: Int, floats: Int) {
        if bandBuffers.count < threads || (bandBuffers.first?.count ?? 0) < floats {
            bandBuffers = (0 ..< threads).map { _ in FloatBuffer(count: floats) }
        }
    }
}

/// Keeps OpenBLAS from starting its own spinning threads: Glimpse splits work over its own pool.
public enum BLAS {
    public static func useSingleThread() { openblas_set_num_threads(1) }
}
