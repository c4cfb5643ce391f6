import Engine
import Foundation
import Models
import Vision
import XCTest

/// MiniGPT-v2's whole path (image -> EVA -> concat-4 projector -> LLaMA with the image spliced between text
/// segments) against PyTorch: HF's LlamaForCausalLM on the same weights, fed the reference image embeddings
/// (tools/make_vision_fixtures.py). Tolerance: 1e-2 on logits of magnitude ~10, covering the small embedding
/// differences (measured 4e-6) carried through two decoder layers, and fp32 summation order.
final class MultimodalTests: XCTestCase {
    struct Fixture: Decodable {
        struct Step: Decodable { let ids_before: [Int32]; let ids_after: [Int32]; let top_ids: [Int]; let top_logits: [Float] }
        struct MiniGPT: Decodable { let first_step: Step; let tokens: Int }
        struct Chat: Decodable { let question: String; let ids: [Int32]; let top_ids: [Int]; let top_logits: [Float]; let causal_top_logits: [Float] }
        struct Gemma3: Decodable { let chat: Chat }
        struct MGMChat: Decodable { let question: String; let ids_before: [Int32]; let ids_after: [Int32]; let top_ids: [Int]; let top_logits: [Float] }
        struct MGM: Decodable { let chat: MGMChat; let tokens: Int }
        let mgm: MGM
        let mgm_hd: MGM
        let minigptv2: MiniGPT
        let minigpt4: MiniGPT
        let gemma3: Gemma3
    }

    static let models = EngineTests.modelsDirectory
    static let fixture = try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/vision.json")))
    static let image = try! ImageDecoder.load(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/images/orientation6.jpg").path)

    func loadedEngine() async throws -> Engine {
        let engine = Engine(threads: 2)
        let summary = try await engine.load(path: Self.models + "/test-minigptv2.gguf",
                                            mmproj: Self.models + "/test-minigptv2-mmproj.gguf", contextSize: 1024)
        XCTAssertEqual(summary.template, .minigptv2, "template detected from the converter's chat template")
        XCTAssertEqual(summary.imageTokens, 256)
        return engine
    }

    func request(_ question: String) -> GenerationRequest {
        GenerationRequest(prompt: .chat([ChatMessage(.user, question)]), images: [Self.image], sampling: .greedy, maxTokens: 8)
    }

    func testPromptLayoutMatchesMiniGPT() async throws {
        let engine = try await loadedEngine()
        let ids = try await engine.promptTokens(for: request("[vqa] what is in the picture?"))
        let step = Self.fixture.minigptv2.first_step
        XCTAssertEqual(ids, step.ids_before + [Int32](repeating: -1, count: 256) + step.ids_after)
    }

    func testFirstStepLogitsMatchPyTorch() async throws {
        let engine = try await loadedEngine()
        let logits = try await engine.nextTokenLogits(for: request("[vqa] what is in the picture?"))
        let step = Self.fixture.minigptv2.first_step
        var worst: Float = 0
        for (id, want) in zip(step.top_ids, step.top_logits) { worst = max(worst, abs(logits[id] - want)) }
        print("MiniGPT-v2 first step: largest |Δlogit| over the reference top 10: \(worst)")
        XCTAssertLessThan(worst, 1e-2)
        XCTAssertEqual(logits.indices.max { logits[$0] < logits[$1] }, step.top_ids[0])
    }

    /// Gemma 3 end to end against transformers' Gemma3ForConditionalGeneration: the `gemma` template and the
    /// projector's `<start_of_image>` wrapper give Hugging Face's token ids, and the next-token logits match with
    /// the image's tokens read both ways (read causally, the reference's logits move by up to 2.1).
    func testGemma3ChatAboutAnImageMatchesTransformers() async throws {
        let engine = Engine(threads: 2)
        let summary = try await engine.load(path: Self.models + "/test-gemma3.gguf", mmproj: Self.models + "/test-gemma3-mmproj.gguf",
                                            contextSize: 256)
        XCTAssertEqual(summary.template, .gemma)
        XCTAssertEqual(summary.visionProjector, "gemma3")
        let chat = Self.fixture.gemma3.chat
        let ask = GenerationRequest(prompt: .chat([ChatMessage(.user, chat.question)]), images: [Self.image], sampling: .greedy, maxTokens: 4)
        let ids = try await engine.promptTokens(for: ask)
        XCTAssertEqual(ids, chat.ids)
        let logits = try await engine.nextTokenLogits(for: ask)
        var worst: Float = 0, causalGap: Float = 0
        for (k, id) in chat.top_ids.enumerated() {
            worst = max(worst, abs(logits[id] - chat.top_logits[k]))
            causalGap = max(causalGap, abs(chat.causal_top_logits[k] - chat.top_logits[k]))
        }
        print("Gemma 3 chat: largest |Δlogit| over the reference top 10: \(worst) (causal reading would be off by \(causalGap))")
        XCTAssertLessThan(worst, 1e-2)
        XCTAssertGreaterThan(causalGap, 10 * 1e-2, "the fixture tells both-ways reading from causal")
        XCTAssertEqual(logits.indices.max { logits[$0] < logits[$1] }, chat.top_ids[0])
    }

    /// MiniGPT-4 (Vicuna v0, Q-Former) end to end against PyTorch: the converter's template is detected as
    /// MiniGPT-4's, the prompt is its Vicuna v0 conversation with BOS on the first segment only and the 32 query
    /// tokens between `<Img>` and `</Img>`, and the first answer step's logits match HF's LLaMA fed the reference
    /// embeddings (tolerance as for MiniGPT-v2).
    func testMiniGPT4ChatAboutAnImageMatchesPyTorch() async throws {
        let engine = Engine(threads: 2)
        let summary = try await engine.load(path: Self.models + "/test-minigpt4.gguf", mmproj: Self.models + "/test-minigpt4-mmproj.gguf",
                                            contextSize: 512)
        XCTAssertEqual(summary.template, .minigpt4)
        XCTAssertFalse(summary.template.understandsTaskTags)
        XCTAssertEqual(summary.visionProjector, "qformer")
        XCTAssertEqual(summary.imageTokens, 32)
        let ask = request("what is in the picture?")
        let step = Self.fixture.minigpt4.first_step
        let ids = try await engine.promptTokens(for: ask)
        XCTAssertEqual(ids, step.ids_before + [Int32](repeating: -1, count: 32) + step.ids_after)
        let logits = try await engine.nextTokenLogits(for: ask)
        var worst: Float = 0
        for (id, want) in zip(step.top_ids, step.top_logits) { worst = max(worst, abs(logits[id] - want)) }
        print("MiniGPT-4 first step: largest |Δlogit| over the reference top 10: \(worst)")
        XCTAssertLessThan(worst, 1e-2)
        XCTAssertEqual(logits.indices.max { logits[$0] < logits[$1] }, step.top_ids[0])
    }

    /// Mini-Gemini (MGM-2B's layout: a gemma decoder) end to end against PyTorch: MGM's conv_gemma prompt with the
    /// image's rows where `<image>` was (BOS once, as tokenizer_image_token), the rows scaled by √n_embd with the
    /// text (HF's GemmaModel scales inputs_embeds after the splice), and the first step's logits against
    /// GemmaForCausalLM fed the reference embeddings; non-HD and HD.
    func testMiniGeminiChatAboutAnImageMatchesPyTorch() async throws {
        for (name, ref) in [("test-mgm", Self.fixture.mgm), ("test-mgm-hd", Self.fixture.mgm_hd)] {
            let engine = Engine(threads: 2)
            let summary = try await engine.load(path: Self.models + "/\(name).gguf", mmproj: Self.models + "/\(name)-mmproj.gguf",
                                                contextSize: 4096)
            XCTAssertEqual(summary.template, .mgmGemma)
            XCTAssertEqual(summary.visionProjector, "mgm")
            XCTAssertEqual(summary.imageTokens, ref.tokens)
            let ask = GenerationRequest(prompt: .chat([ChatMessage(.user, ref.chat.question)]), images: [Self.image],
                                        sampling: .greedy, maxTokens: 4)
            let ids = try await engine.promptTokens(for: ask)
            XCTAssertEqual(ids, ref.chat.ids_before + [Int32](repeating: -1, count: ref.tokens) + ref.chat.ids_after, name)
            let logits = try await engine.nextTokenLogits(for: ask)
            var worst: Float = 0
            for (id, want) in zip(ref.chat.top_ids, ref.chat.top_logits) { worst = max(worst, abs(logits[id] - want)) }
            print("\(name) first step: largest |Δlogit| over the reference top \(ref.chat.top_ids.count): \(worst) (top logit \(ref.chat.top_logits[0]))")
            XCTAssertLessThan(worst, 1e-4 * abs(ref.chat.top_logits[0]), name)
            XCTAssertEqual(logits.indices.max { logits[$0] < logits[$1] }, ref.chat.top_ids[0], name)
        }
    }

    func testSecondQuestionReusesTheImageAndTheCache() async throws {
        let engine = try await loadedEngine()
        var first = GenerationStats(), second = GenerationStats()
        for await e in await engine.generate(request("[caption] describe it")) { if case .finished(_, let s) = e { first = s } }
        let followUp = GenerationRequest(prompt: .chat([ChatMessage(.user, "[caption] describe it"), ChatMessage(.assistant, "x"),
                                                        ChatMessage(.user, "[vqa] and the colour?")]),
                                         images: [Self.image], sampling: .greedy, maxTokens: 4)
        for await e in await engine.generate(followUp) { if case .finished(_, let s) = e { second = s } }
        XCTAssertGreaterThan(first.imageEncodeSeconds, 0)
        XCTAssertEqual(second.imageEncodeSeconds, 0, "the same image is not encoded twice")
        XCTAssertGreaterThan(second.cachedPromptTokens, 256, "the image's positions stay in the cache")
    }

    func testBadImageRequestsFailWithAReason() async throws {
        let engine = try await loadedEngine()
        var failure = ""
        let marker = GenerationRequest(prompt: .chat([ChatMessage(.user, "<Img><ImageHere></Img> what?")]), maxTokens: 2)
        for await e in await engine.generate(marker) { if case .failed(let m) = e { failure = m } }
        XCTAssertTrue(failure.contains("image marker"), failure)

        let textOnly = Engine(threads: 1)
        try await textOnly.load(path: Self.models + "/tiny-llama-q8_0.gguf", contextSize: 64)
        failure = ""
        for await e in await textOnly.generate(request("what?")) { if case .failed(let m) = e { failure = m } }
        XCTAssertTrue(failure.contains("vision projector"), failure)

        do {
            try await textOnly.load(path: Self.models + "/gemma-3-270m-q8_0.gguf", mmproj: Self.models + "/test-minigptv2-mmproj.gguf")
            XCTFail("a 256-wide projector paired with a 640-wide model must be refused")
        } catch {
            XCTAssertTrue("\(error)".contains("not a pair"), "\(error)")
        }
    }
}
