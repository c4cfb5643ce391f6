import Foundation
import GGUF
import Models
import Tensors
import XCTest

/// Logits and greedy continuations against llama.cpp (fixtures from tools/make_fixtures.py).
final class ReferenceLogitsTests: XCTestCase {
    struct Fixture: Decodable {
        struct Logits: Decodable { let prompt: String; let ids: [Int32]; let top_ids: [Int]; let top_logits: [Double] }
        struct Greedy: Decodable { let prompt: String; let ids: [Int32]; let margins: [Double] }
        let model: String
        let logits: [Logits]
        let greedy: [Greedy]
    }

    static let fixtureDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let modelDirectory = ProcessInfo.processInfo.environment["GLIMPSE_TEST_MODELS"]
        ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/glimpse/models"

    func fixtures() throws -> [Fixture] {
        try FileManager.default.contentsOfDirectory(atPath: Self.fixtureDirectory.path).filter { $0.hasSuffix(".json") }.sorted()
            .map { try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Self.fixtureDirectory.appendingPathComponent($0))) }
    }

    /// Tolerance on |Δlogit| as a fraction of the reference's top-10 logit spread.
    /// F16 weights: both sides compute in float (llama.cpp rounds activations and the KV cache to fp16),
    /// measured agreement 0.01 on spreads of 3-10, so 2% is tight. Quantized weights: measured up to 0.35
    /// (Q8_0) and 1.3 (Q4_K_M, one chat prompt) — larger than activation rounding alone explains; an open
    /// discrepancy recorded in the closing note, bounded here so it cannot grow unnoticed.
    static func tolerance(_ model: String) -> Double {
        model.contains("f16") ? 0.02 : 0.4
    }

    /// Greedy continuations must be identical to llama.cpp's until a step where the reference's top two
    /// logits are nearly tied (then rounding may pick either); such a divergence is printed.
    func testGreedyContinuationsMatchLlamaCpp() throws {
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        for fixture in try fixtures() {
            let lm = try LanguageModel(path: Self.modelDirectory + "/" + fixture.model, pool: pool)
            let nearTie = 0.1  // measured divergences happen at margins below 0.05
            for (c, l) in zip(fixture.greedy, fixture.logits) {
                let cache = lm.decoder.makeCache(capacity: l.ids.count + c.ids.count + 1)
                var logits = [Float](repeating: 0, count: lm.vocabularySize)
                var got: [Int32] = []
                try logits.withUnsafeMutableBufferPointer { out in
                    try lm.decoder.forward(.tokens(l.ids), cache: cache, logits: out.baseAddress!)
                    for _ in c.ids.indices {
                        let t = Sampler.argmax(out.baseAddress!, lm.vocabularySize)
                        got.append(t)
                        try lm.decoder.forward(.tokens([t]), cache: cache, logits: out.baseAddress!)
                    }
                }
                if let i = got.indices.first(where: { got[$0] != c.ids[$0] }) {
                    print("\(fixture.model) \(l.prompt.debugDescription.prefix(30)): diverges at step \(i), reference top-2 margin \(c.margins[i])")
                    XCTAssertLessThan(c.margins[i], nearTie, "\(fixture.model): greedy continuation diverges at step \(i) without a near-tie")
                } else {
                    print("\(fixture.model) \(l.prompt.debugDescription.prefix(30)): identical \(got.count) tokens")
                }
            }
        }
    }

    func testTopLogitsMatchLlamaCpp() throws {
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        for fixture in try fixtures() {
            let lm = try LanguageModel(path: Self.modelDirectory + "/" + fixture.model, pool: pool)
            for c in fixture.logits {
                let cache = lm.decoder.makeCache(capacity: c.ids.count + 1)
                var logits = [Float](repeating: 0, count: lm.vocabularySize)
                try logits.withUnsafeMutableBufferPointer { try lm.decoder.forward(.tokens(c.ids), cache: cache, logits: $0.baseAddress!) }
                let spread = c.top_logits[0] - c.top_logits[9]
                var worst = 0.0
                for (id, ref) in zip(c.top_ids, c.top_logits) { worst = max(worst, abs(Double(logits[id]) - ref)) }
                print("\(fixture.model) \(c.prompt.debugDescription.prefix(30)): max |Δlogit| over top 10 = \(worst)")
                XCTAssertLessThan(worst, Self.tolerance(fixture.model) * max(spread, 1), "\(fixture.model): \(c.prompt.debugDescription)")
            }
        }
    }
}
