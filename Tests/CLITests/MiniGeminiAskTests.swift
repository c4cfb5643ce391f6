import Foundation
import XCTest

/// Mini-Gemini through `glimpse ask`, as a user runs it: the random-weight MGM-2B-shaped pairs the setup builds
/// (tools/make_test_mgm.py), checked against the PyTorch port's first step (Tests/Fixtures/vision.json, from
/// tools/mgm_reference.py), and MGM's bad inputs answered in words.
extension BadInputTests {
    struct MGMFixture: Decodable {
        struct Chat: Decodable { let question: String; let top_ids: [Int]; let top_logits: [Float] }
        struct MGM: Decodable { let chat: Chat }
        let mgm: MGM
        let mgm_hd: MGM
    }

    struct TopLogitsRecord: Decodable {
        struct Entry: Decodable { let id: Int; let logit: Float }
        let top_logits: [Entry]
    }

    static let mgmFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static let mgmImage = mgmFixtures.appendingPathComponent("images/orientation6.jpg").path

    /// First-step logits within 1e-4 of the top logit, non-HD (576 image tokens) and HD (2880), the same image and
    /// question as the reference; `--top-logits` prints what the model would sample from.
    func testMGMFirstStepLogitsThroughAskMatchPyTorch() throws {
        let fixture = try JSONDecoder().decode(MGMFixture.self, from: Data(contentsOf: Self.mgmFixtures.appendingPathComponent("vision.json")))
        for (name, ref) in [("test-mgm", fixture.mgm), ("test-mgm-hd", fixture.mgm_hd)] {
            let question = ref.chat.question.replacingOccurrences(of: "'", with: "'\\''")
            let o = try run(#"$GLIMPSE ask -m \#(Self.models)/\#(name).gguf --image \#(Self.mgmImage) -t 2 --top-logits 50 --json '\#(question)'"#,
                                  timeout: 240)
            XCTAssertEqual(o.status, 0, "\(name): \(o.stderr)")
            let got = try JSONDecoder().decode(TopLogitsRecord.self, from: Data(o.stdout.utf8))
            XCTAssertEqual(got.top_logits.first?.id, ref.chat.top_ids[0], name)
            let byID = [Int: Float](got.top_logits.map { ($0.id, $0.logit) }, uniquingKeysWith: { first, _ in first })
            var worst: Float = 0
            for (id, want) in zip(ref.chat.top_ids, ref.chat.top_logits) {
                guard let logit = byID[id] else { XCTFail("\(name): reference token \(id) not among glimpse's top 50"); continue }
                worst = max(worst, abs(logit - want))
            }
            print("\(name) through glimpse ask: largest |Δlogit| \(worst), top logit \(ref.chat.top_logits[0])")
            XCTAssertLessThan(worst, 1e-4 * abs(ref.chat.top_logits[0]), name)
        }
    }

    /// An HD model given a tiny image and any model given a 1x4000 strip answer, with a note that says why the
    /// answer may be poor; an mmproj with a fusion Glimpse does not know is refused in one line.
    func testMGMBadInputsGetClearMessages() throws {
        let models = Self.models
        let odd = Self.mgmFixtures.appendingPathComponent("odd-sizes").path
        var o = try run(#"$GLIMPSE ask -m \#(models)/test-mgm-hd.gguf --image \#(odd)/tiny-12x9.png -n 1 --temp 0 hi"#, timeout: 240)
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.stderr.contains("The image is 12x9 and this model reads images at 1536x1536: it is enlarged 128 times"), o.stderr)
        o = try run(#"$GLIMPSE ask -m \#(models)/test-mgm.gguf --image \#(odd)/strip-1x4000.png -n 1 --temp 0 hi"#, timeout: 240)
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.stderr.contains("The image is 1x4000: padded to a square and seen at 768x768, it is under 4 pixels across"), o.stderr)
        try assertOneLineFailure(
            #"$GLIMPSE ask -m \#(models)/test-mgm.gguf --mmproj \#(models)/test-mgm-bad-fusion-mmproj.gguf --image \#(Self.mgmImage) hi"#,
            mentions: "unknown clip.vision.mgm.fusion 'nearest_sum'")
    }
}
