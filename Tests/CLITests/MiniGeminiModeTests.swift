import Foundation
import XCTest

/// Mini-Gemini's `--ocr` and `--gen` through the command line and the app. The text transforms do not depend on
/// the model, so these run on the random-weight MiniGPT-v2 pair (LLaMA-2's vocabulary: its prompt tokens read back
/// as text) and the built-in `shapes`; Tesseract reads `Tests/Fixtures/ocr/ocr-text.png` (black-on-white text drawn
/// with Pillow: "OPEN DAILY" over "COFFEE 3 EURO").
extension BadInputTests {
    static var ocrImage: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/ocr/ocr-text.png").path
    }

    static var tesseractInstalled: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/tesseract") }
    }

    /// The prompt `--verbose-prompt` lists, read back as text (SentencePiece pieces: "▁" a space, <0x0A> a new line).
    func promptText(_ stderr: String) -> String {
        stderr.split(separator: "\n").compactMap { line -> String? in
            guard let arrow = line.range(of: "-> '"), line.hasSuffix("'") else { return nil }
            let piece = String(line[arrow.upperBound...].dropLast())
            return piece == "<s>" ? nil : piece
        }.joined().replacingOccurrences(of: "▁", with: " ").replacingOccurrences(of: "<0x0A>", with: "\n")
    }

    func testOCRPutsTheImagesTextInThePromptAsMGMDoes() throws {
        guard Self.tesseractInstalled else { throw XCTSkip("tesseract is not installed (scripts/setup installs tesseract-ocr)") }
        let m = Self.models
        let o = try run(#"$GLIMPSE ask -m \#(m)/test-minigptv2.gguf --image \#(Self.ocrImage) --ocr --gen --verbose-prompt -n 2 --temp 0 "what does it say?""#)
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.stderr.contains("OCR (Tesseract): OPEN DAILY, COFFEE 3 EURO"), o.stderr)
        XCTAssertTrue(o.stderr.contains("is not a Mini-Gemini model"), "MiniGPT-v2 was not trained on it: \(o.stderr)")
        // cli.py: inp + "\nReference OCR Token: " + text + "\n", then " <GEN>"; the image goes in front.
        let prompt = promptText(o.stderr)
        XCTAssertTrue(prompt.contains("</Img> what does it say?\nReference OCR Token: OPEN DAILY, COFFEE 3 EURO\n <GEN> [/INST]"), prompt)

        let json = try run(#"$GLIMPSE ask -m \#(m)/test-minigptv2.gguf --image \#(Self.ocrImage) --ocr --json -n 2 --temp 0 "what does it say?""#)
        XCTAssertEqual(json.status, 0, json.stderr)
        XCTAssertTrue(json.stdout.contains(#""ocr_text":"OPEN DAILY, COFFEE 3 EURO""#), json.stdout)
        XCTAssertFalse(json.stdout.contains("generation_prompt"), "only with --gen")
    }

    func testWithoutTesseractTheQuestionIsStillAnswered() throws {
        let o = try run(#"GLIMPSE_TESSERACT=/no/such/tesseract $GLIMPSE ask -m \#(Self.models)/test-minigptv2.gguf --image \#(Self.ocrImage) --ocr --verbose-prompt -n 3 --temp 0 "what does it say?""#)
        XCTAssertEqual(o.status, 0, o.stderr)
        let notes = o.stderr.split(separator: "\n").filter { $0.contains("Tesseract") }
        XCTAssertEqual(notes.count, 1, o.stderr)
        XCTAssertTrue(notes.first?.contains("sudo apt-get install tesseract-ocr") == true, o.stderr)
        XCTAssertFalse(promptText(o.stderr).contains("Reference OCR Token"), "no OCR line without Tesseract")
        XCTAssertFalse(o.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "answered")
    }

    func testGenAppendsItsMarkerAndSaysWhenTheAnswerHasNoPrompt() throws {
        let o = try run(#"$GLIMPSE ask -m \#(Self.models)/test-minigptv2.gguf --gen --verbose-prompt --json -n 2 --temp 0 "a poster of a cat""#)
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(promptText(o.stderr).contains("a poster of a cat <GEN> [/INST]"), promptText(o.stderr))
        // Random weights write no <h>...</h>: the JSON has no prompt and stderr says so (tests/TasksTests take it apart).
        XCTAssertTrue(o.stderr.contains("no <h>...</h> image-generation prompt"), o.stderr)
        XCTAssertFalse(o.stdout.contains("generation_prompt"), o.stdout)
    }
}

extension BadInputTests {
    /// The token ids `--verbose-prompt` lists (a piece that is a line break spans two lines; ids start the lines).
    func promptIDs(_ stderr: String) -> [Int] {
        stderr.split(separator: "\n").compactMap { line -> Int? in
            let t = line.drop { $0 == " " }
            guard let arrow = t.range(of: " -> ") else { return nil }
            return Int(t[..<arrow.lowerBound])
        }
    }

    /// The random-weight MGM-2B-shaped pair the setup converts (tools/make_test_mgm.py): the OCR line and " <GEN>"
    /// sit in MGM's Gemma conversation where its CLI puts them, after the image and its "\n".
    func testMGMGetsTheOCRLineAndGENWhereItsCLIPutsThem() throws {
        let model = Self.models + "/test-mgm.gguf"
        guard FileManager.default.fileExists(atPath: model) else { throw XCTSkip("no \(model): run scripts/setup") }
        guard Self.tesseractInstalled else { throw XCTSkip("tesseract is not installed (scripts/setup installs tesseract-ocr)") }
        let o = try run(#"$GLIMPSE ask -m \#(model) --image \#(Self.ocrImage) --ocr --gen --verbose-prompt -n 2 --temp 0 "what does it say?""#)
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertFalse(o.stderr.contains("not a Mini-Gemini model"), o.stderr)
        let ids = promptIDs(o.stderr)
        XCTAssertEqual(ids.filter { $0 == -1 }.count, 576, "MGM-2B's image tokens")
        let afterImage = Array(ids[(ids.lastIndex(of: -1)! + 1)...])
        // $'...' keeps the final "\n" that $(printf ...) would strip.
        let expected = try run(#"$GLIMPSE tokenize --model \#(model) --no-special --ids-only $'\nwhat does it say?\nReference OCR Token: OPEN DAILY, COFFEE 3 EURO\n <GEN><end_of_turn>\n<start_of_turn>model\n'"#)
        XCTAssertEqual(expected.status, 0, expected.stderr)
        let expectedIDs = try JSONDecoder().decode([Int].self, from: Data(expected.stdout.utf8))
        XCTAssertEqual(afterImage, expectedIDs, o.stderr)
    }
}

extension TmuxAppTests {
    /// An MGM model in the app: the task selector offers Chat and Generate alone, the image-token count shows, and a
    /// Generate question goes out with MGM's " <GEN>".
    func testAMiniGeminiModelOffersChatAndGenerate() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        let model = BadInputTests.models + "/test-mgm.gguf"
        guard FileManager.default.fileExists(atPath: model) else { throw XCTSkip("no \(model): run scripts/setup") }
        try launch("--model \(model)", image: BadInputTests.ocrImage)
        let ready = waitFor("the model") { $0.contains("test-mgm is ready") && $0.contains("ocr-text.png 520x170") }
        let bar = ready.split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertTrue(bar.contains("Chat") && bar.contains("Generate"), bar)
        XCTAssertFalse(bar.contains("VQA") || bar.contains("Grounding"), "no MiniGPT-v2 tags offered: \(bar)")
        XCTAssertTrue(ready.contains("576 img tok"), ready)
        key("Tab")
        for line in ["/set temperature 0", "/set max-tokens 4", "a poster of this"] {
            type(line)
            key("Enter")
        }
        waitFor("the answer") { s in
            self.lastExchange(s).question == "a poster of this <GEN>" && s.contains("Enter sends") && s.contains("Generate")
        }
        quitAndCheckTerminal()
    }
}

extension TmuxAppTests {
    /// `/ocr` in the app on the built-in model: the status line says so, Tesseract's text is named in the pane before
    /// the answer, the image-token count shows, and `/copy` sends the answer to the terminal as OSC 52 (read from
    /// the pane's raw output).
    func testOCRInTheAppAndCopyingAnAnswer() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        guard BadInputTests.tesseractInstalled else { throw XCTSkip("tesseract is not installed") }
        try launch("", image: BadInputTests.ocrImage)
        waitFor("the model and the image") { $0.contains("shapes is ready") && $0.contains("ocr-text.png 520x170") }
        let raw = tmp.appendingPathComponent("pane-output").path
        _ = tmux("pipe-pane", "-t", session, "-O", "cat >> '\(raw)'")
        for line in ["/ocr", "/set temperature 0", "/set max-tokens 8", "what is this?"] {
            type(line)
            key("Enter")
        }
        let answered = waitFor("the OCR notice and the answer") { s in
            s.contains("OCR (Tesseract): OPEN DAILY, COFFEE 3 EURO") && !self.lastExchange(s).answer.isEmpty && s.contains("Enter sends")
        }
        XCTAssertTrue(answered.contains("Chat + OCR"), answered)
        XCTAssertTrue(answered.contains("36 img tok"), answered)
        let answer = lastExchange(answered).answer
        type("/copy")
        key("Enter")
        waitFor("the copy notice") { $0.contains("Copied the answer") }
        let deadline = Date().addingTimeInterval(10)
        var copied: String? = nil
        while copied == nil && Date() < deadline {
            let output = (try? String(contentsOfFile: raw, encoding: .isoLatin1)) ?? ""
            if let start = output.range(of: "\u{1B}]52;c;"), let end = output[start.upperBound...].firstIndex(of: "\u{07}"),
               let data = Data(base64Encoded: String(output[start.upperBound ..< end])) {
                copied = String(decoding: data, as: UTF8.self)
            } else {
                usleep(50_000)
            }
        }
        XCTAssertEqual(copied?.split(whereSeparator: \.isWhitespace).joined(separator: " "), answer,
                       "the answer, as the pane shows it")
        quitAndCheckTerminal()
    }
}
