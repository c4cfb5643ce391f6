import Foundation
import GGUF
import Tokenizers
import XCTest

/// Token ids must be identical to llama.cpp's for a list of hard strings (fixtures from tools/make_fixtures.py).
final class ReferenceTokenizationTests: XCTestCase {
    struct Fixture: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [Int32]
            let ids_no_special: [Int32]
        }
        let model: String
        let tokens: [Case]
    }

    static let fixtureDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/llamacpp")

    func testTokenIdsMatchLlamaCpp() throws {
        let modelDir = ProcessInfo.processInfo.environment["GLIMPSE_TEST_MODELS"]
            ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/glimpse/test-models"
        let fixtures = try FileManager.default.contentsOfDirectory(atPath: Self.fixtureDirectory.path).filter { $0.hasSuffix(".json") }
        XCTAssertFalse(fixtures.isEmpty)
        for name in fixtures {
            let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Self.fixtureDirectory.appendingPathComponent(name)))
            let path = modelDir + "/" + fixture.model
            guard FileManager.default.fileExists(atPath: path) else {
                XCTFail("missing test model \(path): run scripts/setup")
                continue
            }
            let tokenizer = try Tokenizer(file: GGUFFile(path: path))
            for c in fixture.tokens {
                XCTAssertEqual(tokenizer.encode(c.text, addSpecial: true, parseSpecial: true), c.ids, "\(fixture.model): \(c.text.debugDescription)")
                XCTAssertEqual(tokenizer.encode(c.text, addSpecial: false, parseSpecial: false), c.ids_no_special,
                               "\(fixture.model) (no special): \(c.text.debugDescription)")
                // Decoding what was encoded (without BOS) gives the text back.
                XCTAssertEqual(tokenizer.decode(c.ids_no_special), c.text, "round trip of \(c.text.debugDescription)")
            }
        }
    }
}
