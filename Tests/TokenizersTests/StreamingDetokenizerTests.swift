import Foundation
import GGUF
import Tokenizers
import XCTest

final class StreamingDetokenizerTests: XCTestCase {
    func testNeverEmitsHalfACharacter() throws {
        let path = (ProcessInfo.processInfo.environment["GLIMPSE_TEST_MODELS"]
            ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/glimpse/test-models") + "/gemma-3-270m-q4_k_m.gguf"
        let tokenizer = try Tokenizer(file: GGUFFile(path: path))
        // Byte-fallback tokens: an emoji arrives as four one-byte tokens.
        let bytes = Array("é😀中".utf8)
        let ids = bytes.map { b in tokenizer.vocabulary.idOf[String(format: "<0x%02X>", b)]! }
        var detok = StreamingDetokenizer(tokenizer: tokenizer)
        var pieces: [String] = []
        for id in ids { pieces.append(detok.append(id)) }
        pieces.append(detok.flush())
        XCTAssertEqual(pieces.joined(), "é😀中")
        for p in pieces { XCTAssertFalse(p.contains("\u{FFFD}"), "emitted a partial character: \(pieces)") }
        XCTAssertEqual(pieces.filter { !$0.isEmpty }, ["é", "😀", "中"])
    }
}
