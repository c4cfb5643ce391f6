import Foundation
import GGUF
import Tensors
import XCTest

/// The integer dot kernels (weights against quantized activations) must agree with dequantizing the row
/// and taking a float dot product. The activation quantization (int8 per block) bounds the difference:
/// about 1/127 of each block's largest value, so 1% of the norm-scaled sum is a safe bound.
final class RowDotTests: XCTestCase {
    /// Calls `check` for sampled rows of the test models' 2-D tensors (`everyTensor`: all of them, else the first of
    /// each type), with a random activation quantized for the tensor's type and the row dequantized; `scale` is
    /// Σ|w·x|, the size errors are measured against.
    func forSampledRows(everyTensor: Bool, seed: UInt64, range: Float, rows: (TensorView) -> StrideTo<Int>,
                        _ check: (TensorView, Int, QuantizedActivation, _ exact: Float, _ scale: Float) -> Void) throws {
        for path in TestModels.derivedModels() {
            let file = try GGUFFile(path: path)
            var seen = Set<GGMLType>()
            for info in file.tensors where info.shape.count == 2 && (everyTensor || !seen.contains(info.type)) {
                seen.insert(info.type)
                let w = file.view(info.name)!
                let k = w.rowLength
                var rng = SplitMix64(seed: seed)
                let x = (0 ..< k).map { _ in Float.random(in: -range ... range, using: &rng) }
                let act = QuantizedActivation()
                var row = [Float](repeating: 0, count: k)
                x.withUnsafeBufferPointer { xp in
                    act.quantize(xp.baseAddress!, k, as: ActivationFormat(weight: w.type))
                    for r in rows(w) {
                        row.withUnsafeMutableBufferPointer { w.dequantizeRow(r, into: $0.baseAddress!) }
                        var exact: Float = 0, scale: Float = 0
                        for i in 0 ..< k { exact += row[i] * x[i]; scale += abs(row[i] * x[i]) }
                        check(w, r, act, exact, scale)
                    }
                }
            }
        }
    }

    func testKernelsMatchDequantizedDot() throws {
        try forSampledRows(everyTensor: false, seed: 7, range: 1, rows: { stride(from: 0, to: min($0.rowCount, 64), by: 7) }) { w, r, act, exact, scale in
            let got = RowDot.dot(w.type, w.row(r), act, w.rowLength)
            XCTAssertEqual(got, exact, accuracy: 0.01 * scale + 1e-6, "\(w.type) row \(r)")
        }
    }

    /// The AVX2 kernels and the AVX-512 VNNI ones (CKernels) form the same integer sums as the Swift ones; only
    /// the order of the float additions differs. Every level the machine has, every type with a native kernel,
    /// every 2-D tensor of that type, rows spread over it.
    func testNativeKernelsMatchTheSwiftOnes() throws {
        try XCTSkipUnless(Kernels.best >= .avx2, "this machine or build has no AVX2 kernels")
        defer { Kernels.useDefault() }
        for level in [KernelLevel.avx2, .avx512] where level <= Kernels.best {
            try Kernels.use(level)
            var checked: [GGMLType: Int] = [:]
            try forSampledRows(everyTensor: true, seed: 11, range: 2, rows: { stride(from: 0, to: $0.rowCount, by: max(1, $0.rowCount / 16)) }) { w, r, act, _, scale in
                let native = RowDot.dot(w.type, w.row(r), act, w.rowLength), swift = RowDot.portableDot(w.type, w.row(r), act, w.rowLength)
                XCTAssertEqual(native, swift, accuracy: 1e-5 * scale + 1e-6, "\(level) \(w.type) row \(r)")
                checked[w.type, default: 0] += 1
            }
            for type in [GGMLType.q8_0, .q4_0, .q5_0, .q4_1, .q5_1, .q4_K, .q5_K, .q6_K] {
                XCTAssertGreaterThan(checked[type] ?? 0, 0, "no \(type) tensor among the test models")
            }
        }
    }
}

final class OpsTests: XCTestCase {
    /// The polynomial exp against libm over the range softmax and activations use.
    func testFastExpIsAccurate() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let want = Foundation.exp(Double(x))
            let got = Double(Ops.exp(x))
            worst = max(worst, Float(abs(got - want) / want))
            x += 0.0137
        }
        XCTAssertLessThan(worst, 1e-6, "largest relative error \(worst)")
        XCTAssertEqual(Ops.exp(-200), Ops.exp(-87.3))
        XCTAssertFalse(Ops.exp(200).isNaN)
    }

    /// The GELUs without libm against their definitions in double precision: within 3e-7 of the output's size
    /// (at least 1), from far negative (where they must reach 0, not NaN) to far positive (where they are x).
    func testGelusAreAccurate() {
        let tanhGelu = { (x: Double) in 0.5 * x * (1 + Foundation.tanh(0.7978845608 * (x + 0.044715 * x * x * x))) }
        let erfGelu = { (x: Double) in 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot())) }
        for (name, fast, exact) in [("tanh", Ops.geluTanh, tanhGelu), ("erf", Ops.geluErf, erfGelu)] {
            var worst = 0.0
            var x: Float = -30
            while x < 30 {
                let want = exact(Double(x))
                worst = max(worst, abs(Double(fast(x)) - want) / max(1, abs(want)))
                x += 0.00731
            }
            XCTAssertLessThan(worst, 3e-7, "GELU (\(name)): largest error \(worst)")
            XCTAssertEqual(fast(-1000), 0, "GELU (\(name)) far left")
            XCTAssertEqual(fast(1000), 1000, "GELU (\(name)) far right")
        }
    }
}
