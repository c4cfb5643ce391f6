import Foundation
import GGUF
import Tensors
import XCTest

/// Batched products on every kernel level against the F32 product of the dequantized weights.
///
/// Tolerance of the bf16 paths (AVX-512 BF16, AMX): they round weights and activations to bf16 (unit roundoff u = 2^-8) before
/// multiplying, so each product w·x is off by at most (2u + u²)|w·x| and the sum, accumulated in F32, by at most
/// about 2^-7 · Σ|w·x| (plus F32 rounding, far smaller). A misplaced row, vector or k block is off by the size
/// of the sum itself, far beyond that bound. The F32 levels are held to 1e-5 of Σ|w·x| (sgemm's own rounding).
final class MatMulTests: XCTestCase {
    override func tearDown() { Kernels.useAtMost(.amx) }  // back to the best level

    /// y[t][r] exactly (in Double) and Σ|w·x| for each output, from the dequantized weights.
    func reference(_ w: TensorView, _ x: [Float], count: Int) -> (exact: [Double], scale: [Double]) {
        let k = w.rowLength, rows = w.rowCount
        var exact = [Double](repeating: 0, count: count * rows), scale = exact
        var row = [Float](repeating: 0, count: k)
        for r in 0 ..< rows {
            row.withUnsafeMutableBufferPointer { w.dequantizeRow(r, into: $0.baseAddress!) }
            for t in 0 ..< count {
                var s = 0.0, a = 0.0
                for i in 0 ..< k { let p = Double(row[i]) * Double(x[t * k + i]); s += p; a += abs(p) }
                exact[t * rows + r] = s
                scale[t * rows + r] = a
            }
        }
        return (exact, scale)
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
        for count in counts {
            var rng = SplitMix64(seed: UInt64(count))
            let x = (0 ..< count * w.rowLength).map { _ in Float.random(in: -1 ... 1, using: &rng) }
            let (exact, scale) = reference(w, x, count: count)
            for level in KernelLevel.allCases where level <= Kernels.best {
                let y = try product(w, x, count: count, level: level)
                let bf16 = Kernels.bf16Batches
                let bound = bf16 ? 1.0 / 128 : 1e-5
                var worst = 0.0
                for i in 0 ..< y.count {
                    let err = abs(Double(y[i]) - exact[i])
                    worst = max(worst, err / (scale[i] + 1e-9))
                    if !(err <= bound * scale[i] + 1e-5) {
                        XCTFail("\(label) \(level) count \(count): output \(i) is \(y[i]), exact \(exact[i]), Σ|w·x| \(scale[i])")
                        break
                    }
                }
                if bf16 { XCTAssertGreaterThan(worst, 1e-6, "\(label) \(level): bf16 rounding left no trace; was the bf16 kernel used?") }
            }
        }
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
