import Foundation
import Tasks
import XCTest

final class GroundedTextTests: XCTestCase {
    func testGroundedCaption() {
        let g = GroundedText(parsing: "a <p>large red circle</p> {<10><20><40><50>} next to <p>the blue stars</p> {<60><5><70><15>}<delim>{<80><80><90><95>}.")
        XCTAssertEqual(g.plainText, "a large red circle next to the blue stars.")
        XCTAssertEqual(g.boxes.map(\.label), ["large red circle", "the blue stars", "the blue stars"])
        XCTAssertEqual(g.boxes.map(\.box), [Box(10, 20, 40, 50), Box(60, 5, 70, 15), Box(80, 80, 90, 95)])
    }

    func testBareBoxAndSpaces() {
        let g = GroundedText(parsing: "{ <3><4> <50><60> }")
        XCTAssertEqual(g.segments, [.box(Box(3, 4, 50, 60))])
        XCTAssertEqual(g.plainText, "")
    }

    func testPixelsAreClampedAndOrdered() {
        let p = Box(50, 80, 10, 120).pixels(width: 200, height: 100)
        XCTAssertEqual(p.x1, 20); XCTAssertEqual(p.x2, 100); XCTAssertEqual(p.y1, 80); XCTAssertEqual(p.y2, 100)
    }

    func testMalformedIsText() {
        for s in ["<p>open phrase {<1><2><3><4>", "{<1><2><3>}", "<p>x</p> {<a><b><c><d>}", "{<1><2><3><4>", "<p></p>", "}{<<>>"] {
            let g = GroundedText(parsing: s)
            XCTAssertTrue(g.boxes.isEmpty, "no box in \(s.debugDescription)")
            // Only complete <p>...</p> tags may disappear from the text.
            XCTAssertEqual(g.plainText, s.replacingOccurrences(of: "<p>x</p>", with: "x").replacingOccurrences(of: "<p></p>", with: ""), s)
        }
        XCTAssertEqual(GroundedText(parsing: "<p>x</p> nothing").segments, [.text("x"), .text(" nothing")])
        XCTAssertEqual(GroundedText(parsing: "{<1><2><3>}").boxes.count, 0)
    }

    /// Property: any string parses, and every character not consumed by a tag or box survives as text.
    func testRandomStringsNeverCrash() {
        let alphabet = Array("<>{}p/0123456789- delimabc\n".unicodeScalars) + ["é", "😀"]
        var rng = SystemRandomNumberGenerator()
        for _ in 0 ..< 20_000 {
            let n = Int.random(in: 0 ... 40, using: &rng)
            var s = ""
            for _ in 0 ..< n { s.unicodeScalars.append(alphabet.randomElement(using: &rng)!) }
            let g = GroundedText(parsing: s)
            if g.boxes.isEmpty && !s.contains("<p>") { XCTAssertEqual(g.plainText, s) }
            for (_, b) in g.boxes { _ = b.pixels(width: 640, height: 480) }
        }
    }

    func testTaskModes() {
        XCTAssertEqual(TaskMode.vqa.prompt("what colour?"), "[vqa] what colour?")
        XCTAssertEqual(TaskMode.chat.prompt("hi"), "hi")
        XCTAssertEqual(TaskMode.refer.prompt("[refer] the red circle"), "[refer] the red circle")
        XCTAssertEqual(TaskMode.leadingTag(of: "[identify] what is this {<1><2><3><4>}"), .identify)
        XCTAssertEqual(TaskMode.grounding.suggestedInstruction, "describe this image in detail")
    }
}
