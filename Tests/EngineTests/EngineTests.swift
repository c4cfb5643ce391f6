import Engine
import Foundation
import Models
import XCTest

final class EngineTests: XCTestCase {
    static let modelsDirectory = ProcessInfo.processInfo.environment["GLIMPSE_TEST_MODELS"]
        ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/glimpse/test-models"
    static let model = (ProcessInfo.processInfo.environment["GLIMPSE_TEST_MODELS"]
        ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/glimpse/test-models") + "/gemma-3-270m-q4_k_m.gguf"

    func testStreamsTokensStatsAndFinish() async throws {
        let engine = Engine(threads: 2)
        try await engine.load(path: Self.model, contextSize: 512)
        let request = GenerationRequest(prompt: .chat([ChatMessage(.user, "Count from one to five.")]),
                                        sampling: .greedy, maxTokens: 12)
        var text = "", finished: (FinishReason, GenerationStats)? = nil
        for await e in await engine.generate(request) {
            switch e {
            case .token(let t): text += t
            case .finished(let r, let s): finished = (r, s)
            case .failed(let m): XCTFail(m)
            case .stats, .phase: break
            }
        }
        XCTAssertFalse(text.isEmpty)
        let (_, stats) = try XCTUnwrap(finished)
        XCTAssertGreaterThan(stats.promptTokens, 5)
        XCTAssertLessThanOrEqual(stats.generatedTokens, 12)
        XCTAssertGreaterThan(stats.timeToFirstToken, 0)

        // A second turn reuses the cached prefix of the first.
        let second = GenerationRequest(prompt: .chat([ChatMessage(.user, "Count from one to five."),
                                                      ChatMessage(.assistant, text),
                                                      ChatMessage(.user, "And back down?")]),
                                       sampling: .greedy, maxTokens: 4)
        for await e in await engine.generate(second) {
            if case .finished(_, let s) = e { XCTAssertGreaterThan(s.cachedPromptTokens, 5) }
        }
    }

    /// Cancelling the task that consumes a generation, or leaving a loop over a stream nobody else holds,
    /// must end the work without another call into the engine: 2000 tokens would run for over 30 s here,
    /// and the generation must end within 5 s.
    func testCancellingTheConsumerStopsGeneration() async throws {
        let engine = Engine(threads: 2)
        try await engine.load(path: Self.model, contextSize: 4096)
        let long = GenerationRequest(prompt: .raw("Once upon a time"), sampling: .greedy, maxTokens: 2000)

        let consumer = Task {
            for await _ in await engine.generate(long) {}
        }
        try await waitUntil { await engine.isGenerating }
        consumer.cancel()
        try await waitUntil { await !engine.isGenerating }

        var count = 0
        for await e in await engine.generate(long) { if case .token = e { count += 1; if count == 3 { break } } }
        try await waitUntil { await !engine.isGenerating }

        var finished = false
        for await e in await engine.generate(GenerationRequest(prompt: .raw("Hi"), sampling: .greedy, maxTokens: 2)) {
            if case .finished = e { finished = true }
        }
        XCTAssertTrue(finished, "the engine answers the next request")
    }

    func waitUntil(_ condition: () async -> Bool, file: StaticString = #filePath, line: UInt = #line) async throws {
        let deadline = Date().addingTimeInterval(5)
        while !(await condition()) {
            guard Date() < deadline else { return XCTFail("condition not reached within 5 s", file: file, line: line) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func testTooLongPromptFailsCleanly() async throws {
        let engine = Engine(threads: 2)
        try await engine.load(path: Self.model, contextSize: 32)
        let long = String(repeating: "word ", count: 100)
        var failure: String?
        for await e in await engine.generate(GenerationRequest(prompt: .raw(long), maxTokens: 4)) {
            if case .failed(let m) = e { failure = m }
        }
        XCTAssertTrue(failure?.contains("context holds 32") ?? false, failure ?? "no failure")
    }
}

final class TextOnlyMarkerTests: XCTestCase {
    /// Without a vision projector an image marker is ordinary text, not an error.
    func testMarkerTextIsTextForTextOnlyModels() async throws {
        let engine = Engine(threads: 1)
        try await engine.load(path: EngineTests.modelsDirectory + "/tiny-llama-q8_0.gguf", contextSize: 128)
        var failure: String?
        var finished = false
        let request = GenerationRequest(prompt: .raw("what does <image> or <ImageHere> mean?"), sampling: .greedy, maxTokens: 2)
        for await e in await engine.generate(request) {
            if case .failed(let m) = e { failure = m }
            if case .finished = e { finished = true }
        }
        XCTAssertNil(failure)
        XCTAssertTrue(finished)
    }
}
