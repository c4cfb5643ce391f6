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
                XCTAssertLessThan(worst, 0.1 * max(spread, 1), "\(fixture.model): \(c.prompt.debugDescription)")
            }
        }
    }
}
