import Foundation
import GGUF
import Tensors
import Vision
import XCTest

/// The vision path against PyTorch (tools/make_vision_fixtures.py) on the test checkpoints our converters
/// produced (tools/make_test_vision.py): CLIP ViT-L/14-336 blocks with LLaVA's MLP, and EVA ViT-g blocks at
/// 448 px with MiniGPT-v2's concat-4 projector, and Gemma 3's SigLIP with its pooling projector (transformers'
/// Gemma3ForConditionalGeneration). All sides use the same fp16-rounded weights and compute in
/// float32; what remains is summation order (sgemm vs PyTorch's kernels) and libm, which the tolerances bound:
/// pixels 1e-5 (one rounding of (v/255 - mean)/std), embeddings 1e-4 relative to the largest magnitude
/// (measured: 4e-6 absolute on values up to 3.9, so about a tenth of the bound).
final class VisionReferenceTests: XCTestCase {
    struct Reference: Decodable {
        let pixels_sample: [Float]
        /// The sample's stride (997 where not given).
        let pixels_every: Int?
        let pixels_mean: Double
        let tokens: Int
        let width: Int
        let every: Int
        let embeddings: [[Float]]
    }

    struct Fixture: Decodable {
        let llava: Reference
        let minigptv2: Reference
        let gemma3: Reference
        let minigpt4: Reference
    }

    static let models = ProcessInfo.processInfo.environment["GLIMPSE_TEST_MODELS"]
        ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/glimpse/test-models"
    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/vision.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()
    static let image = try! ImageDecoder.load(path: ImageDecoderTests.directory.appendingPathComponent("orientation6.jpg").path)

    func check(_ mmproj: String, _ ref: Reference) throws {
        let pool = ThreadPool(threads: 2)
        defer { pool.shutdown() }
        let model = try VisionModel(path: Self.models + "/" + mmproj)
        XCTAssertEqual(model.tokensPerImage, ref.tokens)
        XCTAssertEqual(model.outputWidth, ref.width)
        let pixels = model.preprocessor.tensor(Self.image)
        let stride = ref.pixels_every ?? 997
        for (i, want) in ref.pixels_sample.enumerated() {
            XCTAssertEqual(pixels[i * stride], want, accuracy: 1e-5, "\(mmproj): pixel \(i * stride)")
        }
        XCTAssertEqual(pixels.reduce(0.0) { $0 + Double($1) } / Double(pixels.count), ref.pixels_mean, accuracy: 1e-6)
        let embeddings = model.embed(pixels: pixels, pool: pool)
        XCTAssertEqual(embeddings.count, ref.tokens * ref.width)
        let rows = ref.embeddings.indices.map { $0 * ref.every }
        let (worst, scale) = largestDifference(embeddings, rows: rows, width: ref.width, ref.embeddings)
        print("\(mmproj): largest |Δ| \(worst) over values up to \(scale)")
        XCTAssertLessThan(worst, 1e-4 * scale, mmproj)
    }

    func testLLaVAEncoderAndMLPProjectorMatchTransformers() throws {
        try check("test-llava-mmproj.gguf", Self.fixture.llava)
    }

    /// LLaVA-1.6's projector holds LLaVA-1.5's tensors plus the pinpoints: it is read as the anyres projector (checked
    /// against transformers in LlavaNextReferenceTests), LLaVA-1.5's as the one-view MLP.
    func testLLaVA16ProjectorIsReadAsAnyresAndSaysNothingIsLeftOut() throws {
        let model = try VisionModel(path: Self.models + "/test-llava16-mmproj.gguf")
        XCTAssertTrue(model.tilesImages)
        XCTAssertEqual(model.notes, [])
        XCTAssertFalse(try VisionModel(path: Self.models + "/test-llava-mmproj.gguf").tilesImages)
    }

    func testMiniGPTv2EncoderAndConcatProjectorMatchPyTorch() throws {
        try check("test-minigptv2-mmproj.gguf", Self.fixture.minigptv2)
    }

    /// MiniGPT-4 as published: EVA ViT-g at 224 px, ln_vision over all 257 tokens, a 4-layer Q-Former at BLIP-2's
    /// widths (768, 12 heads, cross-attention in layers 0 and 2 from 1408-wide image tokens), llama_proj: against a
    /// PyTorch port of LAVIS's Q-Former, itself checked against transformers' Blip2QFormerModel.
    func testMiniGPT4EVAAndQFormerMatchLAVIS() throws {
        try check("test-minigpt4-mmproj.gguf", Self.fixture.minigpt4)
        let model = try VisionModel(path: Self.models + "/test-minigpt4-mmproj.gguf")
        XCTAssertEqual(model.projectorType, "qformer")
        XCTAssertEqual(model.tokensPerImage, 32, "the 32 queries, whatever the image")
    }

    /// The converter reads BLIP-2's Q-Former in LAVIS's key names (blip2_pretrained_flant5xxl.pth) and in Hugging
    /// Face's (a blip2 checkpoint): both make the same tensors.
    func testQFormerConvertsAlikeFromLAVISAndHuggingFaceLayouts() throws {
        let lavis = try GGUFFile(path: Self.models + "/test-minigpt4-mmproj.gguf")
        let hf = try GGUFFile(path: Self.models + "/test-minigpt4-hf-mmproj.gguf")
        XCTAssertEqual(lavis.tensors.map(\.name).sorted(), hf.tensors.map(\.name).sorted())
        XCTAssertGreaterThan(lavis.tensors.filter { $0.name.hasPrefix("mm.qformer.") }.count, 50)
        for a in lavis.tensors {
            guard let b = hf.tensorInfo(a.name) else { continue }
            XCTAssertEqual(a.shape, b.shape, a.name)
            XCTAssertEqual(a.type, b.type, a.name)
            guard a.byteCount == b.byteCount else { XCTFail(a.name); continue }
            XCTAssertEqual(memcmp(lavis.data(of: a), hf.data(of: b), a.byteCount), 0, "\(a.name) differs")
        }
        for key in lavis.metadataKeys where key.hasPrefix("clip.") {
            XCTAssertEqual("\(lavis[key]!)", "\(hf[key].map { "\($0)" } ?? "missing")", key)
        }
    }

    func testGemma3SigLIPAndPoolingProjectorMatchTransformers() throws {
        try check("test-gemma3-mmproj.gguf", Self.fixture.gemma3)
    }
}
