import Foundation
import GGUF
import Tokenizers
import XCTest

/// llama.cpp's own tokenizer test cases (test-tokenizer-0's .inp/.out pairs) on the real vocabularies it ships:
/// LLaMA SPM (LLaMA-2, MiniGPT-v2), phi-3 SPM, and byte-level BPE with the llama-bpe, qwen2, gpt-2,
/// starcoder and refact pre-tokenizers (the last two are smollm's regex chain). Ids must be identical.
final class LlamaCppVocabularyTests: XCTestCase {
    static let directory = (ProcessInfo.processInfo.environment["GLIMPSE_TEST_MODELS"]
        ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/glimpse/test-models") + "/vocab"

    func testEveryShippedVocabularyMatchesLlamaCpp() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory).filter { $0.hasSuffix(".gguf") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 7, "run scripts/setup to fetch the vocabularies")
        for name in files {
            let path = Self.directory + "/" + name
            let inputs = try String(contentsOfFile: path + ".inp", encoding: .utf8).components(separatedBy: "\n__ggml_vocab_test__\n")
            var expected = try String(contentsOfFile: path + ".out", encoding: .utf8).components(separatedBy: "\n")
            if expected.last == "" { expected.removeLast() }
            let tokenizer = try Tokenizer(file: GGUFFile(path: path))
            var mismatches = 0
            for (text, line) in zip(inputs, expected) {
                let want = line.split(separator: " ").compactMap { Int32($0) }
                let got = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
                if got != want {
                    mismatches += 1
                    XCTFail("\(name): \(text.debugDescription)\n  want \(want)\n  got  \(got)")
                }
            }
            print("\(name): \(inputs.count - mismatches)/\(inputs.count) identical")
        }
    }
}
