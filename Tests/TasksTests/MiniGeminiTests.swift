import Foundation
import Tasks
import XCTest

/// Mini-Gemini's `--ocr` and `--gen` as text: Tesseract's TSV into MGM's OCR line, the Generate request, the
/// `<h>...</h>` prompt taken as MGM's CLI takes it, and which models are offered which modes.
final class MiniGeminiTests: XCTestCase {
    /// What `tesseract IMAGE stdout tsv` prints (5.3), trimmed: a header, structure rows (conf -1), words. Two blocks,
    /// the second with two lines; a word of confidence 8 (below MGM's 0.1), a blank word, a word at exactly 10.
    static let tsv = [
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
        "1\t1\t0\t0\t0\t0\t0\t0\t520\t170\t-1\t",
        "2\t1\t1\t0\t0\t0\t32\t33\t384\t103\t-1\t",
        "3\t1\t1\t1\t0\t0\t32\t33\t384\t103\t-1\t",
        "4\t1\t1\t1\t1\t0\t32\t33\t290\t33\t-1\t",
        "5\t1\t1\t1\t1\t1\t32\t33\t131\t33\t96.145142\tOPEN",
        "5\t1\t1\t1\t1\t2\t186\t34\t136\t32\t96.528542\tDAILY",
        "5\t1\t1\t1\t1\t3\t330\t34\t20\t32\t8.000000\t~",
        "2\t1\t2\t0\t0\t0\t32\t103\t384\t60\t-1\t",
        "3\t1\t2\t1\t0\t0\t32\t103\t384\t60\t-1\t",
        "4\t1\t2\t1\t1\t0\t32\t103\t384\t33\t-1\t",
        "5\t1\t2\t1\t1\t1\t32\t103\t185\t33\t96.670181\tCOFFEE",
        "5\t1\t2\t1\t1\t2\t238\t103\t24\t33\t95.538063\t3",
        "5\t1\t2\t1\t1\t3\t285\t103\t131\t33\t96.204926\tEURO",
        "5\t1\t2\t1\t1\t4\t420\t103\t10\t33\t95.0\t ",
        "4\t1\t2\t1\t2\t0\t32\t140\t100\t20\t-1\t",
        "5\t1\t2\t1\t2\t1\t32\t140\t50\t20\t10\tnoise",
        "5\t1\t2\t1\t2\t2\t90\t140\t50\t20\t61.5\tCASH",
        "4\t1\t2\t1\t3\t0\t32\t170\t100\t20\t-1\t",
        "5\t1\t2\t1\t3\t1\t32\t170\t50\t20\t3.25\tfaint",
    ].joined(separator: "\n") + "\n"

    func testTesseractWordsBecomeLinesJoinedAsMGMJoinsPaddleOCRs() {
        XCTAssertEqual(TesseractTSV.lines(Self.tsv), ["OPEN DAILY", "COFFEE 3 EURO", "CASH"],
                       "words above confidence 10, grouped by block/paragraph/line; a line of none is dropped")
        XCTAssertEqual(TesseractTSV.referenceText(Self.tsv), "OPEN DAILY, COFFEE 3 EURO, CASH")
        XCTAssertEqual(TesseractTSV.lines(Self.tsv, minimumConfidence: 0), ["OPEN DAILY ~", "COFFEE 3 EURO", "noise CASH", "faint"])
        XCTAssertEqual(TesseractTSV.lines(Self.tsv.replacingOccurrences(of: "\n", with: "\r\n")), ["OPEN DAILY", "COFFEE 3 EURO", "CASH"])
    }

    func testTesseractOutputWithoutWordsOrMalformedGivesNothing() {
        XCTAssertEqual(TesseractTSV.referenceText(""), "")
        XCTAssertEqual(TesseractTSV.referenceText(Self.tsv.split(separator: "\n").prefix(5).joined(separator: "\n")), "")
        XCTAssertEqual(TesseractTSV.lines("Estimating resolution as 414\n5\t1\tx\t1\t1\t1\t0\t0\t1\t1\t90\tword\n5\t1\t1\n"), [])
    }

    func testTheOCRLineIsAppendedAsMGMsCLIDoes() {
        // cli.py: inp + '\nReference OCR Token: ' + str_in_image + '\n', then ' <GEN>' with --gen.
        XCTAssertEqual(MiniGemini.withOCR("what does it say?", "OPEN DAILY, COFFEE 3 EURO"),
                       "what does it say?\nReference OCR Token: OPEN DAILY, COFFEE 3 EURO\n")
        XCTAssertEqual(MiniGemini.withOCR("a poster of it <GEN>", "SALE"), "a poster of it\nReference OCR Token: SALE\n <GEN>",
                       "the OCR line goes before Generate's marker")
        XCTAssertEqual(MiniGemini.withOCR("hi", ""), "hi", "no text read: nothing added")
        XCTAssertEqual(MiniGemini.generationRequest(MiniGemini.withOCR("x", "T")), "x\nReference OCR Token: T\n <GEN>")
    }

    func testGenerateAppendsGENOnce() {
        XCTAssertEqual(MiniGemini.generationRequest("draw a cat"), "draw a cat <GEN>")
        XCTAssertEqual(MiniGemini.generationRequest("draw a cat <GEN>"), "draw a cat <GEN>")
        XCTAssertEqual(TaskMode.generate.prompt("draw a cat"), "draw a cat <GEN>")
        XCTAssertEqual(TaskMode.generate.prompt(""), " <GEN>")
        XCTAssertTrue(MiniGemini.isGenerationRequest(TaskMode.generate.prompt("x")))
        XCTAssertFalse(MiniGemini.isGenerationRequest("x"))
    }

    func testTheGenerationPromptIsTheLastClosedSpan() {
        XCTAssertEqual(MiniGemini.generationPrompt(in: "Sure! <h>a red fox in snow, 4k</h>"), "a red fox in snow, 4k")
        // Several spans: the last one, as split("</h>")[-2].split("<h>")[-1] takes it.
        XCTAssertEqual(MiniGemini.generationPrompt(in: "<h>first</h> or <h>second</h> done"), "second")
        // An unclosed span at the end: the last closed one.
        XCTAssertEqual(MiniGemini.generationPrompt(in: "<h>kept</h> and <h>cut off"), "kept")
        XCTAssertNil(MiniGemini.generationPrompt(in: "here it is: <h>never closed"))
        XCTAssertNil(MiniGemini.generationPrompt(in: "no prompt at all"))
        XCTAssertNil(MiniGemini.generationPrompt(in: "closed only</h>"))
        XCTAssertNil(MiniGemini.generationPrompt(in: "<h> \n </h>"), "an empty span is no prompt")
        // MGM's quirk: a stray </h> ends the span it takes (the text between the last two </h>).
        XCTAssertEqual(MiniGemini.generationPrompt(in: "<h>a</h> b</h>"), "b")
        XCTAssertEqual(MiniGemini.generationPrompt(in: "<h>line one\nline two</h>"), "line one\nline two")
    }

    func testMiniGeminiModelsAreOfferedChatAndGenerate() {
        XCTAssertEqual(TaskMode.offered(understandsTaskTags: false, isMiniGemini: true), [.chat, .generate])
        XCTAssertEqual(TaskMode.offered(understandsTaskTags: true, isMiniGemini: false),
                       [.chat, .vqa, .caption, .grounding, .refer, .detection, .identify])
        XCTAssertEqual(TaskMode.offered(understandsTaskTags: false, isMiniGemini: false), [.chat])
        XCTAssertFalse(TaskMode.miniGPTv2Modes.contains(.generate))
    }

    func testGenerateHasNoBracketTag() throws {
        XCTAssertNil(TaskMode.generate.tag)
        XCTAssertEqual(TaskMode.generate.title, "Generate")
        XCTAssertNil(TaskMode.leadingTag(of: "draw a cat <GEN>"))
        XCTAssertNil(TaskMode.leadingTag(of: "[generate] draw"), "not a MiniGPT-v2 tag")
        XCTAssertEqual(TaskMode.leadingTag(of: " [vqa] x"), .vqa)
        XCTAssertEqual(TaskMode.vqa.prompt("x <GEN>"), "[vqa] x <GEN>")
        let data = try JSONEncoder().encode([TaskMode.generate])
        XCTAssertEqual(String(decoding: data, as: UTF8.self), #"["generate"]"#)
        XCTAssertEqual(try JSONDecoder().decode([TaskMode].self, from: data), [.generate])
    }
}
