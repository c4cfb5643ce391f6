import Foundation
import Tensors
import Vision
import XCTest

/// LLaVA-1.6's anyres image path against transformers (tools/make_llava16_fixtures.py: LlavaNextImageProcessor,
/// then get_image_features and pack_image_features) on test-llava16-mmproj.gguf's weights: the views' pixels, the
/// token count after unpadding for odd sizes, and the packed embeddings with `image_newline` after each row.
/// Tolerances as in VisionReferenceTests: pixels 1e-5, embeddings 1e-4 of their range.
final class LlavaNextReferenceTests: XCTestCase {
    struct Fixture: Decodable {
        struct Odd: Decodable { let width: Int; let height: Int; let views: Int; let tokens: Int }
        struct Views: Decodable { let views: Int; let pixels_every: Int; let pixels_sample: [[Float]]; let pixels_mean: [Double] }
        struct Embeddings: Decodable { let tokens: Int; let width: Int; let rows: [Int]; let values: [[Float]]; let min: Float; let max: Float }
        let odd_sizes: [Odd]
        let image: Views
        let embeddings: Embeddings
    }

    static let fixture = try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/llava16.json")))
    static let path = VisionReferenceTests.models + "/test-llava16-mmproj.gguf"

    func testTokenCountsMatchTheProcessorForOddSizes() throws {
        let model = try VisionModel(path: Self.path)
        for odd in Self.fixture.odd_sizes {
            let tiling = try XCTUnwrap(model.tiling(width: odd.width, height: odd.height))
            XCTAssertEqual(1 + tiling.rows * tiling.columns, odd.views, "\(odd.width)x\(odd.height)")
            XCTAssertEqual(model.layout(width: odd.width, height: odd.height).embeddingCount, odd.tokens, "\(odd.width)x\(odd.height)")
            let views = model.views(of: RGBImage(width: odd.width, height: odd.height, fill: (90, 140, 200)))
            XCTAssertEqual(views.count, odd.views)
            XCTAssertTrue(views.allSatisfy { $0.width == 336 && $0.height == 336 })
        }
    }

    func testViewsAndPackedEmbeddingsMatchTransformers() throws {
        let ref = Self.fixture
        let model = try VisionModel(path: Self.path)
        let views = model.views(of: VisionReferenceTests.image)
        XCTAssertEqual(views.count, ref.image.views)
        for (v, view) in views.enumerated() {
            let pixels = model.preprocessor.tensor(view)
            for (i, want) in ref.image.pixels_sample[v].enumerated() {
                XCTAssertEqual(pixels[i * ref.image.pixels_every], want, accuracy: 1e-5, "view \(v) pixel \(i * ref.image.pixels_every)")
            }
            XCTAssertEqual(pixels.reduce(0.0) { $0 + Double($1) } / Double(pixels.count), ref.image.pixels_mean[v], accuracy: 1e-6)
        }
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        let embeddings = model.embed(VisionReferenceTests.image, pool: pool)
        let e = ref.embeddings
        XCTAssertEqual(embeddings.count, e.tokens * e.width)
        var worst: Float = 0
        for (k, row) in e.rows.enumerated() where row < e.tokens {
            for j in 0 ..< e.width { worst = max(worst, abs(embeddings[row * e.width + j] - e.values[k][j])) }
        }
        print("llava-1.6 packed embeddings: largest |Δ| \(worst) over a range of \(e.max - e.min)")
        XCTAssertLessThan(worst, 1e-4 * (e.max - e.min))
    }

    /// llama.cpp's layout, for comparison: every view's 576 tokens in order, no unpadding, no newlines; the overview
    /// comes first in both. A misspelt value is refused with the choices.
    func testLlamaCppLayoutIsSelectable() throws {
        setenv("GLIMPSE_LLAVA_NEXT_LAYOUT", "llamacpp", 1)
        defer { unsetenv("GLIMPSE_LLAVA_NEXT_LAYOUT") }
        let model = try VisionModel(path: Self.path)
        XCTAssertEqual(model.layout(width: 640, height: 480).embeddingCount, 576 * 5)
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        let image = VisionReferenceTests.image
        let embeddings = model.embed(image, pool: pool)
        let e = Self.fixture.embeddings
        XCTAssertEqual(embeddings.count, model.layout(width: image.width, height: image.height).embeddingCount * e.width)
        XCTAssertEqual(embeddings.count, 576 * Self.fixture.image.views * e.width)
        for (k, row) in e.rows.enumerated() where row < 576 {
            for j in 0 ..< e.width { XCTAssertEqual(embeddings[row * e.width + j], e.values[k][j], accuracy: 1e-4 * (e.max - e.min)) }
        }
        setenv("GLIMPSE_LLAVA_NEXT_LAYOUT", "llama.cpp", 1)
        XCTAssertThrowsError(try VisionModel(path: Self.path)) { XCTAssertTrue("\($0)".contains("use hf (the default) or llamacpp"), "\($0)") }
    }
}
