import Foundation
import Tensors
import Vision
import XCTest

/// Mini-Gemini's image path against a PyTorch port of MGM's forward (tools/mgm_reference.py: CLIPImageProcessor,
/// transformers' CLIPVisionModel, timm's ConvNeXt trunk, encode_images / unified_resampler, the mlp2x_gelu
/// projector) on the random MGM-2B-shaped checkpoint tools/make_test_mgm.py writes and tools/convert_mgm.py
/// converts: the HR tensor, the mined tokens before the projector, and the image embeddings, non-HD (576 tokens)
/// and HD (2x2 tiles and a global view: 2880). Tolerance: 1e-4 of the largest magnitude, as for the other encoders.
final class MiniGeminiReferenceTests: XCTestCase {
    struct Reference: Decodable {
        let tokens: Int
        let width: Int
        let every: Int
        let embeddings: [[Float]]
        let hr_pixels_sample: [Float]
        let hr_pixels_every: Int
        let hr_pixels_mean: Double
        let mined_rows: [Int]
        let mined_sample: [[Float]]
    }

    struct Fixture: Decodable {
        let mgm: Reference
        let mgm_hd: Reference
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/vision.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    func check(_ mmproj: String, _ ref: Reference) throws {
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        let model = try VisionModel(path: VisionReferenceTests.models + "/" + mmproj)
        XCTAssertEqual(model.projectorType, "mgm")
        XCTAssertTrue(model.ownsImagePath)
        XCTAssertEqual(model.tokensPerImage, ref.tokens)
        XCTAssertEqual(model.outputWidth, ref.width)
        let pixels = model.preprocessor.tensor(VisionReferenceTests.image)
        for (i, want) in ref.hr_pixels_sample.enumerated() {
            XCTAssertEqual(pixels[i * ref.hr_pixels_every], want, accuracy: 1e-5, "\(mmproj): HR pixel \(i * ref.hr_pixels_every)")
        }
        XCTAssertEqual(pixels.reduce(0.0) { $0 + Double($1) } / Double(pixels.count), ref.hr_pixels_mean, accuracy: 1e-6)

        let mined = try XCTUnwrap(model.minedFeatures(pixels: pixels, pool: pool))
        let d = ref.mined_sample[0].count
        XCTAssertEqual(mined.count, ref.tokens * d)
        let (minedWorst, minedScale) = largestDifference(mined, rows: ref.mined_rows, width: d, ref.mined_sample)
        print("\(mmproj): mined tokens: largest |Δ| \(minedWorst) over values up to \(minedScale)")
        XCTAssertLessThan(minedWorst, 1e-4 * minedScale, "\(mmproj): CLIP + mining")

        let embeddings = model.embed(pixels: pixels, pool: pool)
        XCTAssertEqual(embeddings.count, ref.tokens * ref.width)
        let rows = ref.embeddings.indices.map { $0 * ref.every }
        let (worst, scale) = largestDifference(embeddings, rows: rows, width: ref.width, ref.embeddings)
        print("\(mmproj): embeddings: largest |Δ| \(worst) over values up to \(scale)")
        XCTAssertLessThan(worst, 1e-4 * scale, mmproj)
    }

    func testMiniGeminiMatchesPyTorch() throws {
        try check("test-mgm-mmproj.gguf", Self.fixture.mgm)
    }

    /// HD: the HR tensor at 1536 px, CLIP on the four 336 px tiles of the 672 px view and on the global view,
    /// the global view's candidates from the fused map halved, tokens in MGM's order [global, TL, TR, BL, BR].
    func testMiniGeminiHDMatchesPyTorch() throws {
        try check("test-mgm-hd-mmproj.gguf", Self.fixture.mgm_hd)
    }

    /// An mmproj whose stages are fused some other way than MGM's is refused, naming the key.
    func testUnknownFusionIsRefused() {
        XCTAssertThrowsError(try VisionModel(path: VisionReferenceTests.models + "/test-mgm-bad-fusion-mmproj.gguf")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("clip.vision.mgm.fusion") && text.contains("nearest_sum"), text)
        }
    }
}

/// The largest |got - want| over sampled rows (`rows[i]` of `got`, `width` wide, against `want[i]`), and the
/// largest |want|: reference tests bound the first by a fraction of the second.
func largestDifference(_ got: [Float], rows: [Int], width: Int, _ want: [[Float]]) -> (Float, Float) {
    let scale = want.flatMap { $0 }.map { abs($0) }.max()!
    var worst: Float = 0
    for (row, values) in zip(rows, want) {
        for c in 0 ..< width { worst = max(worst, abs(got[row * width + c] - values[c])) }
    }
    return (worst, scale)
}
