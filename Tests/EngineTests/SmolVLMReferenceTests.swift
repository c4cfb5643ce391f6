import Engine
import Foundation
import Models
import Tensors
import Vision
import XCTest

/// SmolVLM (Idefics3) against transformers (tools/make_smolvlm_fixtures.py) on a random-weight checkpoint at
/// SmolVLM-256M's per-layer widths, converted by llama.cpp's own convert_hf_to_gguf.py
/// (tools/make_test_smolvlm.py): the processor's tiling, each view's pixels, the connector's embeddings, the
/// prompt's token ids, and the first answer step's logits. Both sides compute in float32 on the same
/// fp16-rounded weights. Tolerances: pixels 1e-5 (our LANCZOS resize is Pillow's byte for byte, so only the
/// normalization's rounding remains); embeddings and logits 1e-4 of their value range.
final class SmolVLMReferenceTests: XCTestCase {
    struct Fixture: Decodable {
        struct Odd: Decodable { let width: Int; let height: Int; let rows: Int; let cols: Int; let views: Int }
        struct Views: Decodable { let rows: Int; let cols: Int; let views: Int; let pixels_every: Int; let pixels_sample: [[Float]]; let pixels_mean: [Double] }
        struct Embeddings: Decodable { let tokens: Int; let width: Int; let rows: [Int]; let values: [[Float]]; let min: Float; let max: Float }
        let question: String
        let odd_sizes: [Odd]
        let image: Views
        let input_ids: [Int32]
        let image_token_id: Int32
        let embeddings: Embeddings
        let first_step: FirstStepReference
    }

    static let fixture = try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/smolvlm.json")))
    static let mmproj = EngineTests.modelsDirectory + "/mmproj-test-smolvlm.gguf"
    static let model = EngineTests.modelsDirectory + "/test-smolvlm.gguf"
    static let images = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/images")

    func testTilingMatchesTheProcessorForOddSizes() throws {
        let vision = try VisionModel(path: Self.mmproj)
        XCTAssertTrue(vision.tilesImages)
        for odd in Self.fixture.odd_sizes {
            let tiling = try XCTUnwrap(vision.tiling(width: odd.width, height: odd.height))
            XCTAssertEqual([tiling.rows, tiling.columns], [odd.rows, odd.cols], "\(odd.width)x\(odd.height)")
            XCTAssertEqual(vision.layout(width: odd.width, height: odd.height).embeddingCount, odd.views * 64)
        }
        // Odd images go through whole: one pixel wide, a long strip, grey and with alpha (decoded to RGB).
        let images = [RGBImage(width: 1, height: 1000, fill: (9, 9, 9)), RGBImage(width: 5000, height: 20, fill: (200, 10, 10))]
            + (try ["gray.png", "rgba.png"].map { try ImageDecoder.load(path: Self.images.appendingPathComponent($0).path) })
        for image in images {
            let views = vision.views(of: image)
            XCTAssertEqual(views.count, (vision.tiling(width: image.width, height: image.height).map { $0.rows * $0.columns } ?? 0) + 1)
            XCTAssertTrue(views.allSatisfy { $0.width == 512 && $0.height == 512 }, "\(image.width)x\(image.height)")
        }
    }

    func testViewsAndEmbeddingsMatchTransformers() throws {
        let ref = Self.fixture
        let vision = try VisionModel(path: Self.mmproj)
        let views = vision.views(of: MultimodalTests.image)
        XCTAssertEqual(views.count, ref.image.views)
        for (v, view) in views.enumerated() {
            let pixels = vision.preprocessor.tensor(view)
            for (i, want) in ref.image.pixels_sample[v].enumerated() {
                XCTAssertEqual(pixels[i * ref.image.pixels_every], want, accuracy: 1e-5, "view \(v) pixel \(i * ref.image.pixels_every)")
            }
            XCTAssertEqual(pixels.reduce(0.0) { $0 + Double($1) } / Double(pixels.count), ref.image.pixels_mean[v], accuracy: 1e-6)
        }
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        let embeddings = vision.embed(MultimodalTests.image, pool: pool)
        let e = ref.embeddings
        XCTAssertEqual(embeddings.count, e.tokens * e.width)
        var worst: Float = 0
        for (k, row) in e.rows.enumerated() {
            for j in 0 ..< e.width { worst = max(worst, abs(embeddings[row * e.width + j] - e.values[k][j])) }
        }
        print("smolvlm embeddings: largest |Δ| \(worst) over a range of \(e.max - e.min)")
        XCTAssertLessThan(worst, 1e-4 * (e.max - e.min))
    }

    func testPromptAndFirstStepMatchTransformers() async throws {
        let ref = Self.fixture
        let engine = Engine(threads: 2)
        let summary = try await engine.load(path: Self.model, mmproj: Self.mmproj, contextSize: 1024)
        XCTAssertEqual(summary.template, .smolvlm, "template detected from the converted chat template")
        XCTAssertNil(summary.imageTokens, "a tiling projector's token count depends on the image")
        let ask = GenerationRequest(prompt: .chat([ChatMessage(.user, ref.question)]), images: [MultimodalTests.image],
                                    sampling: .greedy, maxTokens: 4)
        let ids = try await engine.promptTokens(for: ask)
        XCTAssertEqual(ids, ref.input_ids.map { $0 == ref.image_token_id ? -1 : $0 })
        let logits = try await engine.nextTokenLogits(for: ask)
        ref.first_step.check(logits, "smolvlm")
    }
}
