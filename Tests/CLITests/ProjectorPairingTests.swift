import Foundation
import XCTest

/// Vision projectors are found beside their language models under the names they are published with
/// (ProjectorPairing): LLaVA's `NAME-mmproj-f16.gguf` beside `NAME-Q8_0.gguf`, ggml-org's lone
/// `mmproj-model-f16.gguf` in a model's own folder, ggml-org's `mmproj-SmolVLM-256M-Instruct-Q8_0.gguf` beside
/// `SmolVLM-256M-Instruct-Q8_0.gguf`; an ambiguous one is reported, not guessed.
extension BadInputTests {
    func testProjectorsArePairedByTheirPublishedNames() throws {
        let m = Self.models
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-pairing-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let image = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/images/baseline.jpg").path

        // A model's own folder, as ggml-org publishes Gemma 3: the lone projector goes with the lone model.
        let own = try run(#"""
            mkdir -p \#(tmp)/gemma && ln -sf \#(m)/test-gemma3.gguf \#(tmp)/gemma/gemma-3-4b-it-Q4_K_M.gguf
            ln -sf \#(m)/test-gemma3-mmproj.gguf \#(tmp)/gemma/mmproj-model-f16.gguf
            $GLIMPSE ask -m \#(tmp)/gemma/gemma-3-4b-it-Q4_K_M.gguf --image \#(image) -n 2 --temp 0 --json "what is this?"
            """#)
        XCTAssertEqual(own.status, 0, own.stderr)
        XCTAssertTrue(own.stdout.contains(#""image_tokens":16"#), own.stdout)

        // A shared folder: LLaVA's names pair; ggml-org's lone projector beside several models is reported.
        let shared = try run(#"""
            mkdir -p \#(tmp)/shared && cd \#(tmp)/shared
            ln -sf \#(m)/test-minigptv2.gguf llava-v1.5-7b-Q8_0.gguf
            ln -sf \#(m)/test-llava-mmproj.gguf llava-v1.5-7b-mmproj-f16.gguf
            ln -sf \#(m)/test-gemma3.gguf gemma-3-4b-it-Q4_K_M.gguf
            ln -sf \#(m)/test-gemma3-mmproj.gguf mmproj-model-f16.gguf
            ln -sf \#(m)/test-smolvlm.gguf SmolVLM-256M-Instruct-Q8_0.gguf
            ln -sf \#(m)/mmproj-test-smolvlm.gguf mmproj-SmolVLM-256M-Instruct-Q8_0.gguf
            ln -sf \#(m)/test-smolvlm.gguf Qwen2-VL-2B-Instruct-Q4_K_M.gguf
            ln -sf \#(m)/mmproj-test-smolvlm.gguf mmproj-Qwen2-VL-2B-Instruct-f16.gguf
            GLIMPSE_MODELS=\#(tmp)/shared $GLIMPSE models
            """#)
        XCTAssertEqual(shared.status, 0, shared.stderr)
        let lines = shared.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.contains("| llava-v1.5-7b-Q8_0 |") && $0.contains("| llava-v1.5-7b-mmproj-f16.gguf |") },
                      shared.stdout)
        XCTAssertTrue(lines.contains { $0.contains("| gemma-3-4b-it-Q4_K_M |") && $0.contains("| text only |") }, shared.stdout)
        // ggml-org's names for SmolVLM and Qwen2-VL: "mmproj-" before the model's name, its own precision after.
        XCTAssertTrue(lines.contains { $0.contains("| SmolVLM-256M-Instruct-Q8_0 |") && $0.contains("| mmproj-SmolVLM-256M-Instruct-Q8_0.gguf |") },
                      shared.stdout)
        XCTAssertTrue(lines.contains { $0.contains("| Qwen2-VL-2B-Instruct-Q4_K_M |") && $0.contains("| mmproj-Qwen2-VL-2B-Instruct-f16.gguf |") },
                      shared.stdout)
        XCTAssertTrue(shared.stdout.contains("mmproj-model-f16.gguf") && shared.stdout.contains("no language model here pairs with"),
                      shared.stdout)
    }
}
