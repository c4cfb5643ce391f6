import Engine
import Foundation
import Models
import Tensors
import Vision
import XCTest

/// Qwen2-VL against transformers (tools/make_qwen2vl_fixtures.py) on a random-weight checkpoint with Qwen2-VL-2B's
/// vision widths, converted by llama.cpp's own convert_hf_to_gguf.py (tools/make_test_qwen2vl.py): smart_resize's
/// sizes, the merger's embeddings (2D rope in the ViT), the prompt's token ids, and the first answer step's logits
/// through the `qwen2vl` decoder's multimodal rope. Tolerances: 1e-4 of the value range, float32 on both sides.
/// Qwen25VLReferenceTests runs the same checks on Qwen2.5-VL's checkpoint (window attention, RMSNorm, SwiGLU).
class Qwen2VLReferenceTests: XCTestCase {
    struct Fixture: Decodable {
        struct Size: Decodable { let width: Int; let height: Int; let resized_width: Int?; let resized_height: Int?; let refused: String? }
        struct Embeddings: Decodable { let tokens: Int; let width: Int; let values: [[Float]]; let min: Float; let max: Float }
        let question: String
        let sizes: [Size]
        let grid_thw: [Int]
        let embeddings: Embeddings
        let input_ids: [Int32]
        let image_token_id: Int32
        let first_step: FirstStepReference
    }

    /// The checkpoint's name in test-NAME.gguf, mmproj-test-NAME.gguf and Fixtures/NAME.json.
    class var name: String { "qwen2vl" }
    var fixture: Fixture {
        try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/\(Self.name).json")))
    }
    var mmproj: String { EngineTests.modelsDirectory + "/mmproj-test-\(Self.name).gguf" }
    var model: String { EngineTests.modelsDirectory + "/test-\(Self.name).gguf" }
    static let image = try! ImageDecoder.load(path: SmolVLMReferenceTests.images.appendingPathComponent("resize-source.png").path)

    /// The processor's sizes where it gives one; where it refuses (under 28 px, over 200:1) a size is still chosen.
    func testSmartResizeMatchesTheProcessor() throws {
        let vision = try VisionModel(path: mmproj)
        for s in fixture.sizes {
            let layout = vision.layout(width: s.width, height: s.height)
            guard case .grid(let rows, let columns)? = layout.parts.first else { return XCTFail("no grid for \(s.width)x\(s.height)") }
            if let w = s.resized_width, let h = s.resized_height {
                XCTAssertEqual([columns * 28, rows * 28], [w, h], "\(s.width)x\(s.height)")
            } else {
                XCTAssertGreaterThan(rows * columns, 0, "\(s.width)x\(s.height) (the reference refuses: \(s.refused ?? ""))")
            }
        }
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        for odd in [RGBImage(width: 1, height: 1000, fill: (9, 9, 9)), RGBImage(width: 3000, height: 10, fill: (200, 9, 9))] {
            let e = vision.embed(odd, pool: pool)
            XCTAssertEqual(e.count, vision.layout(width: odd.width, height: odd.height).embeddingCount * vision.outputWidth)
            XCTAssertTrue(e.allSatisfy(\.isFinite))
        }
    }

    func testEmbeddingsMatchTransformers() throws {
        let e = fixture.embeddings
        let vision = try VisionModel(path: mmproj)
        let layout = vision.layout(width: Self.image.width, height: Self.image.height)
        XCTAssertEqual(layout.parts, [.grid(rows: fixture.grid_thw[1] / 2, columns: fixture.grid_thw[2] / 2)])
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        let got = vision.embed(Self.image, pool: pool)
        XCTAssertEqual(got.count, e.tokens * e.width)
        var worst: Float = 0
        for (r, row) in e.values.enumerated() { for j in 0 ..< e.width { worst = max(worst, abs(got[r * e.width + j] - row[j])) } }
        print("\(Self.name) embeddings: largest |Δ| \(worst) over a range of \(e.max - e.min)")
        XCTAssertLessThan(worst, 1e-4 * (e.max - e.min))
    }

    func testPromptAndFirstStepMatchTransformers() async throws {
        let ref = fixture
        let engine = Engine(threads: 2)
        let summary = try await engine.load(path: model, mmproj: mmproj, contextSize: 512)
        XCTAssertEqual(summary.template, .qwen2vl)
        let ask = GenerationRequest(prompt: .chat([ChatMessage(.user, ref.question)]), images: [Self.image], sampling: .greedy, maxTokens: 4)
        let ids = try await engine.promptTokens(for: ask)
        XCTAssertEqual(ids, ref.input_ids.map { $0 == ref.image_token_id ? -1 : $0 })
        let logits = try await engine.nextTokenLogits(for: ask)
        ref.first_step.check(logits, Self.name)
    }
}

/// Linux's XCTest finds only the test methods a class declares, so the inherited ones are named again here.
final class Qwen25VLReferenceTests: Qwen2VLReferenceTests {
    override class var name: String { "qwen25vl" }
    override func testSmartResizeMatchesTheProcessor() throws { try super.testSmartResizeMatchesTheProcessor() }
    override func testEmbeddingsMatchTransformers() throws { try super.testEmbeddingsMatchTransformers() }
    override func testPromptAndFirstStepMatchTransformers() async throws { try await super.testPromptAndFirstStepMatchTransformers() }
}
