import Foundation
import GGUF
import Tensors
import XCTest

/// Batched products on every kernel level against the exact (Double) product of the dequantized weights, each
/// held to a bound on its own rounding, stated per path:
/// - F32 sgemm (portable, avx2): 1e-5 of Σ|w·x|.
/// - bf16 (AVX-512 BF16, AMX; float weights on avx512, every weight on amx): weights and activations rounded to bf16
///   (unit roundoff u = 2^-8), so each product is off by at most (2u + u²)|w·x|: 2^-7 of Σ|w·x| in all.
/// - int8 (quantized weights on avx512): activations rounded to int8 per block of 32 (step max|x|/127), so each
///   x is off by at most max|x|/254 of its block: Σ|w|·max|x|/254. Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K and Q5_K
///   weights are taken exactly; the others (Q6_K) are requantized to 8 bits over each block's range: Σ|x|·range/510 more.
/// A misplaced row, vector or block is off by the size of the sum itself, far beyond any of these.
final class MatMulTests: XCTestCase {
    override func tearDown() { Kernels.useDefault() }

    struct Reference {
        var exact: [Double], absolute: [Double], activationRounding: [Double], weightRounding: [Double]
    }

    func reference(_ w: TensorView, _ x: [Float], count: Int) -> Reference {
        let k = w.rowLength, rows = w.rowCount
        let zeros = [Double](repeating: 0, count: count * rows)
        var ref = Reference(exact: zeros, absolute: zeros, activationRounding: zeros, weightRounding: zeros)
        var row = [Float](repeating: 0, count: k)
        func block(_ v: ArraySlice<Float>) -> (max: Double, range: Double) {
            (Double(v.map { abs($0) }.max() ?? 0), Double((v.max() ?? 0) - (v.min() ?? 0)))
        }
        for r in 0 ..< rows {
            row.withUnsafeMutableBufferPointer { w.dequantizeRow(r, into: $0.baseAddress!) }
            for t in 0 ..< count {
                var s = 0.0, a = 0.0, act = 0.0, wr = 0.0
                for b0 in stride(from: 0, to: k, by: 32) {
                    let end = min(k, b0 + 32)
                    let xmax = block(x[(t * k + b0) ..< (t * k + end)]).max, wrange = block(row[b0 ..< end]).range
                    for i in b0 ..< end {
                        let wi = Double(row[i]), xi = Double(x[t * k + i])
                        s += wi * xi; a += abs(wi * xi)
                        act += abs(wi) * xmax / 254
                        wr += abs(xi) * wrange / 510
                    }
                }
                let o = t * rows + r
                ref.exact[o] = s; ref.absolute[o] = a; ref.activationRounding[o] = act; ref.weightRounding[o] = wr
            }
        }
        return ref
    }

    func product(_ w: TensorView, _ x: [Float], count: Int, level: KernelLevel, threads: Int = 2) throws -> [Float] {
        try Kernels.use(level)
        let pool = ThreadPool(threads: threads)
        var y = [Float](repeating: .nan, count: count * w.rowCount)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { MatMul.batch(w, xp.baseAddress!, count: count, $0.baseAddress!, scratch: BatchScratch(), pool: pool) }
        }
        return y
    }

    func check(_ w: TensorView, counts: [Int], label: String) throws {
        let quantized = ![GGMLType.f32, .f16, .bf16].contains(w.type)
        for count in counts {
            var rng = SplitMix64(seed: UInt64(count))
            let x = (0 ..< count * w.rowLength).map { _ in Float.random(in: -1 ... 1, using: &rng) }
            let ref = reference(w, x, count: count)
            for level in KernelLevel.allCases where level <= Kernels.best {
                let y = try product(w, x, count: count, level: level)
                let int8 = level == .avx512 && quantized, bf16 = level == .amx || (!quantized && Kernels.bf16Batches)
                var worst = 0.0
                for i in 0 ..< y.count {
                    let bound: Double
                    if int8 {
                        let requantized = ![GGMLType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K].contains(w.type)
                        bound = 1.01 * (ref.activationRounding[i] + (requantized ? ref.weightRounding[i] : 0)) + 1e-5 * ref.absolute[i]
                    } else {
                        bound = (bf16 ? 1.0 / 128 : 1e-5) * ref.absolute[i]
                    }
                    let err = abs(Double(y[i]) - ref.exact[i])
                    worst = max(worst, err / (ref.absolute[i] + 1e-9))
                    if !(err <= bound + 1e-5) {
                        XCTFail("\(label) \(level) count \(count): output \(i) is \(y[i]), exact \(ref.exact[i]), bound \(bound)")
                        break
                    }
                }
                if int8 || bf16 { XCTAssertGreaterThan(worst, 1e-6, "\(label) \(level): no rounding seen; was the fast kernel used?") }
            }
        }
    }

    /// The float weights again with bf16 on AVX-512 BF16 (GLIMPSE_BF16=1): the operands AMX reads, checked where the
    /// machine has no tiles.
    func testOddShapesInBF16OnAVX512() throws {
        try XCTSkipUnless(Kernels.best >= .avx512 && Kernels.hasAVX512BF16, "no AVX-512 BF16")
        Kernels.bf16OnAVX512 = true
        defer { Kernels.bf16OnAVX512 = false }
        try testOddShapesInEveryFloatType()
    }

    /// Weights of odd sizes in F32, F16 and BF16: rows and k not multiples of 32 (the padding), k above the
    /// tile kernel's 512-wide chunks and vector counts above its 256-wide ones (the partial sums kept between chunks).
    func testOddShapesInEveryFloatType() throws {
        for (rows, k) in [(37, 40), (70, 1100), (300, 96)] {
            var rng = SplitMix64(seed: UInt64(rows * k))
            let values = (0 ..< rows * k).map { _ in Float.random(in: -1 ... 1, using: &rng) }
            for type in [GGMLType.f32, .f16, .bf16] {
                let bytes = UnsafeMutableRawPointer.allocate(byteCount: rows * k * 4, alignment: 64)
                defer { bytes.deallocate() }
                for (i, v) in values.enumerated() {
                    switch type {
                    case .f32: bytes.storeBytes(of: v, toByteOffset: 4 * i, as: Float.self)
                    case .f16: bytes.storeBytes(of: Float16(v).bitPattern, toByteOffset: 2 * i, as: UInt16.self)
                    default: bytes.storeBytes(of: UInt16(v.bitPattern >> 16), toByteOffset: 2 * i, as: UInt16.self)
                    }
                }
                let w = TensorView(name: "w", type: type, shape: [k, rows], data: UnsafeRawPointer(bytes), owner: nil)
                try check(w, counts: rows == 300 ? [8, 300] : [8, 45], label: "\(type) \(rows)x\(k)")
            }
        }
    }

    /// A Q8_0 weight whose rows span three of the int8 kernel's 2048-wide k chunks (131 blocks), so its partial
    /// sums are kept between chunks; 21 rows and 37 vectors leave both padded.
    func testQuantizedRowsLongerThanOneKChunk() throws {
        let rows = 21, k = 131 * 32
        var rng = SplitMix64(seed: 5)
        var bytes = [UInt8]()
        for _ in 0 ..< rows * 131 {
            let d = Float16(Float.random(in: 0.001 ... 0.02, using: &rng))
            withUnsafeBytes(of: d.bitPattern) { bytes.append(contentsOf: $0) }
            for _ in 0 ..< 32 { bytes.append(UInt8(bitPattern: Int8.random(in: -127 ... 127, using: &rng))) }
        }
        try bytes.withUnsafeBytes { raw in
            let w = TensorView(name: "w", type: .q8_0, shape: [k, rows], data: raw.baseAddress!, owner: nil)
            try check(w, counts: [37], label: "q8_0 \(rows)x\(k)")
        }
    }

    /// The first tensor of each quantized type among the test models, at a prompt-sized batch.
    func testEveryQuantizedTypeOfTheTestModels() throws {
        var seen = Set<GGMLType>()
        for path in TestModels.derivedModels() {
            let file = try GGUFFile(path: path)
            for info in file.tensors where info.shape.count == 2 && !seen.contains(info.type) && info.shape[1] <= 4096 {
                seen.insert(info.type)
                try check(file.view(info.name)!, counts: [19], label: "\(path.split(separator: "/").last!) \(info.name)")
            }
        }
        for type in [GGMLType.q8_0, .q4_0, .q5_0, .q4_1, .q5_1, .q4_K, .q5_K, .q6_K] {
            XCTAssertTrue(seen.contains(type), "no \(type) tensor among the test models")
        }
    }

    func testALevelTheMachineLacksIsRefused() throws {
        XCTAssertThrowsError(try Kernels.resolve("avx1024"))
        if Kernels.best < .amx {
            XCTAssertThrowsError(try Kernels.use(.amx)) { XCTAssertTrue("\($0)".contains("cannot run the amx kernels")) }
        }
        XCTAssertEqual(try Kernels.resolve("portable"), .portable)
    }
}
