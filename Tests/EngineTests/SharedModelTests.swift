import Engine
import Foundation
import Models
import Vision
import XCTest

/// Engines side by side (the comparison view's panes) share weights and image embeddings through a `ModelStore`,
/// and change their thread count without cutting an answer short. Runs on the built-in model (small and fast).
final class SharedModelTests: XCTestCase {
    static let models = ShapesModelTests.root.appendingPathComponent("models").path
    static let llm = models + "/shapes.gguf"
    static let mmproj = models + "/shapes-mmproj.gguf"
    static let image = try! ImageDecoder.load(path: ShapesModelTests.root.appendingPathComponent("examples/three-shapes.png").path)

    static func request(_ question: String) -> GenerationRequest {
        GenerationRequest(prompt: .chat([ChatMessage(.user, question)]), images: [Self.image], sampling: .greedy, maxTokens: 64)
    }

    static func answer(_ engine: Engine, _ request: GenerationRequest) async -> (text: String, stats: GenerationStats, reason: FinishReason?) {
        var text = "", stats = GenerationStats(), reason: FinishReason?
        for await event in await engine.generate(request) {
            switch event {
            case .token(let t): text += t
            case .stats, .phase: break
            case .finished(let r, let s): reason = r; stats = s
            case .failed(let m): XCTFail(m); reason = .cancelled
            }
        }
        return (text, stats, reason)
    }

    func testEnginesOnOneFileShareOneModel() async throws {
        let store = ModelStore()
        var a: Engine? = Engine(threads: 1, store: store)
        var b: Engine? = Engine(threads: 1, store: store)
        try await a!.load(path: Self.llm, mmproj: Self.mmproj, contextSize: 512)
        // The same file by another name (a relative path with a detour) is still the same file.
        let detour = Self.models + "/../models/./shapes.gguf"
        try await b!.load(path: detour, mmproj: Self.mmproj, contextSize: 512)
        let modelA = await a!.loadedModel, modelB = await b!.loadedModel
        XCTAssertTrue(modelA === modelB, "two engines on one file share one LanguageModel (one mapping)")
        XCTAssertEqual(store.openFiles.languageModels, 1)
        XCTAssertEqual(store.openFiles.visionModels, 1)

        // Another chat template shares the weights too.
        let c = Engine(threads: 1, store: store)
        try await c.load(path: Self.llm, template: .llama2, contextSize: 512)
        let modelC = await c.loadedModel
        XCTAssertEqual(modelC?.template, .llama2)
        XCTAssertTrue(modelC?.file === modelA?.file, "a template override maps nothing again")
        XCTAssertEqual(store.openFiles.languageModels, 1)

        // The store holds models weakly: with no engine left, the files are let go.
        _ = (modelA, modelB)
        a = nil
        b = nil
        XCTAssertEqual(store.openFiles.visionModels, 0)
        XCTAssertEqual(store.openFiles.languageModels, 1, "engine c still has the language model")
    }

    func testTwoEnginesAskingAboutOneImageEncodeItOnce() async throws {
        let store = ModelStore()
        let a = Engine(threads: 1, store: store), b = Engine(threads: 1, store: store)
        try await a.load(path: Self.llm, mmproj: Self.mmproj, contextSize: 512)
        try await b.load(path: Self.llm, mmproj: Self.mmproj, contextSize: 512)
        let question = Self.request("[vqa] how many objects are there?")
        async let first = Self.answer(a, question)
        async let second = Self.answer(b, question)
        let (x, y) = await (first, second)
        XCTAssertEqual(try store.vision(path: Self.mmproj).encodeCount, 1, "one encoder, one image: encoded once")
        XCTAssertEqual([x.stats.imageEncodeSeconds, y.stats.imageEncodeSeconds].filter { $0 > 0 }.count, 1,
                       "one engine encoded the image, the other used its embedding")
        XCTAssertEqual(x.text, y.text, "the shared embedding gives the same answer")
        XCTAssertFalse(x.text.isEmpty)

        // A later question about the same image, in either engine, encodes nothing.
        let z = await Self.answer(b, Self.request("[caption] briefly describe the image"))
        XCTAssertEqual(z.stats.imageEncodeSeconds, 0)
        XCTAssertEqual(try store.vision(path: Self.mmproj).encodeCount, 1)
    }

    func testChangingThreadsDuringAnAnswerLetsItFinish() async throws {
        let engine = Engine(threads: 2, store: ModelStore())
        try await engine.load(path: Self.llm, mmproj: Self.mmproj, contextSize: 512)
        let question = Self.request("[grounding] describe this image in detail")
        let reference = await Self.answer(engine, question)
        await engine.resetConversation()

        var text = ""
        var reason: FinishReason?
        let stream = await engine.generate(question)
        await engine.setThreads(1)   // a pane opened beside this one while it answers
        for await event in stream {
            if case .token(let t) = event { text += t }
            if case .finished(let r, _) = event { reason = r }
        }
        XCTAssertEqual(reason, reference.reason, "the answer runs to its end, it is not cancelled")
        XCTAssertEqual(text, reference.text)
        let during = await engine.threads
        XCTAssertEqual(during, 2, "the answer kept its threads: the change waits for the next one")
        let again = await Self.answer(engine, Self.request("[vqa] how many objects are there?"))
        let threads = await engine.threads
        XCTAssertEqual(threads, 1, "the new share applies from the next answer on")
        XCTAssertNotEqual(again.reason, .cancelled)
    }
}
