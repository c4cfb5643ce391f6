import Tasks
import UI
import XCTest

final class ScreenTests: XCTestCase {
    func state(_ w: Int, _ h: Int) -> AppState {
        var s = AppState(width: w, height: h, models: [ModelEntry(name: "shapes", path: "/m/shapes.gguf")])
        s.selectedModel = 0
        _ = s.update(.modelReady("shapes"))
        return s
    }

    func testWelcome80x24() { assertSnapshot(state(80, 24).render(), named: "welcome-80x24") }
    func testWelcome120x40() { assertSnapshot(state(120, 40).render(), named: "welcome-120x40") }

    func testTooSmall() {
        let screen = state(60, 20).render()
        XCTAssertTrue(screen.text.contains("at least 80x24"))
        XCTAssertTrue(screen.text.contains("60x20"))
    }

    func conversationWithImage(_ w: Int, _ h: Int) -> AppState {
        var s = state(w, h)
        _ = s.send(.imageAttached(ImageEntry(name: "scene.png", path: "/x/scene.png", width: 448, height: 448)))
        s.type("describe this image in detail")
        _ = s.send(.key(.enter), .token(generation: 1, text: "a <p>large red circle</p> {<10><10><40><40>} and <p>a small blue star</p> {<60><55><75><70>}"),
                   .finished(generation: 1),
                   .figures(generation: 1, { var f = GenerationFigures(); f.promptTokens = 280; f.generatedTokens = 31; f.tokensPerSecond = 42.5; f.timeToFirstTokenMs = 310; f.imageEncodeMs = 95; return f }()))
        return s
    }

    func testImageAndBoxes120x40() {
        let s = conversationWithImage(120, 40)
        let screen = s.render()
        assertSnapshot(screen, named: "boxes-120x40")
        // The phrase and its box share a colour.
        let boxColor = s.theme.boxes[0].foreground
        let phraseCell = (0 ..< screen.width).compactMap { x in (0 ..< screen.height).first { y in screen[x, y].text == "l" && screen[x, y].style.foreground == boxColor }.map { _ in x } }
        XCTAssertFalse(phraseCell.isEmpty, "the first phrase is drawn in the first box's colour")
        XCTAssertTrue(screen.text.contains("┌1"), "box 1 is outlined and numbered on the preview")
        XCTAssertTrue(screen.text.contains("a large red circle\u{00A0}[1] and a small blue star\u{00A0}[2]"), "each phrase says which box is its")
        XCTAssertTrue(screen.text.contains("42.5 tok/s"))
    }

    func testAPhraseWithSeveralBoxesListsTheirLabelsEachInItsColour() {
        var s = state(120, 40)
        _ = s.send(.imageAttached(ImageEntry(name: "scene.png", path: "/x/scene.png", width: 448, height: 448)))
        s.type("circles")
        _ = s.send(.key(.enter), .token(generation: 1, text: "<p>circles</p> {<10><10><30><30>}<delim>{<60><60><80><80>}"), .finished(generation: 1))
        let screen = s.render()
        XCTAssertTrue(screen.text.contains("circles\u{00A0}[1,2]"))
        XCTAssertTrue(screen.text.contains("┌2"))
        let row = (0 ..< screen.height).first { screen.row($0).contains("circles\u{00A0}[1,2]") }!
        let at = Array(screen.row(row)).firstIndex(of: "[")!
        XCTAssertEqual(screen[at + 1, row].style.foreground, s.theme.boxes[0].foreground)
        XCTAssertEqual(screen[at + 3, row].style.foreground, s.theme.boxes[1].foreground)
    }

    func testDraggingOverTheImageAsksIdentifyAboutThatRegion() {
        var s = state(120, 40)
        _ = s.send(.imageAttached(ImageEntry(name: "scene.png", path: "/x/scene.png", width: 448, height: 448)))
        let inner = Layout(s).imageInner!
        _ = s.send(.key(.click(x: inner.x + 6, y: inner.y + 6)), .key(.release(x: inner.x + 6, y: inner.y + 6)))
        XCTAssertEqual(s.task, .chat, "a click without a drag selects nothing")
        XCTAssertEqual(s.input.string, "")

        _ = s.send(.key(.click(x: inner.x + 5, y: inner.y + 3)), .key(.release(x: inner.x + 15, y: inner.y + 8)))
        XCTAssertEqual(s.task, .identify)
        let box = GroundedText(parsing: s.input.string).boxes.first!.box
        XCTAssertTrue(s.input.string.hasPrefix("what is this {<"), s.input.string)
        let screen = s.render()
        XCTAssertEqual(screen[inner.x + 5, inner.y + 3].text, "┌", "the outline starts on the cell pressed (box \(box))")
        XCTAssertEqual(screen[inner.x + 6, inner.y + 3].text, "?")
        XCTAssertEqual(screen[inner.x + 15, inner.y + 8].text, "┘", "and ends on the cell let go")

        // Dragged the other way, and past the preview's edge: it replaces the box, clamped to the image.
        _ = s.send(.key(.click(x: inner.x + 20, y: inner.y + 12)), .key(.release(x: inner.x - 4, y: inner.y + 10)))
        XCTAssertEqual(GroundedText(parsing: s.input.string).boxes.count, 1, s.input.string)
        XCTAssertEqual(GroundedText(parsing: s.input.string).boxes[0].box.x1, 0)
        XCTAssertEqual(s.render()[inner.x, inner.y + 10].text, "┌")
    }

    func testImageAndBoxes80x24() { assertSnapshot(conversationWithImage(80, 24).render(), named: "boxes-80x24") }

    func testHelpAndPickers() {
        var s = state(100, 30)
        _ = s.send(.key(.function(1)))
        assertSnapshot(s.render(), named: "help-100x30")
        _ = s.send(.key(.character("x")), .key(.function(2)))
        XCTAssertTrue(s.render().text.contains("Model (Enter to load"))
    }

    func testHelpFitsTheSmallestTerminalInPages() {
        var s = state(80, 24)
        _ = s.send(.key(.function(1)))
        let first = s.render().text
        XCTAssertTrue(first.contains("1 of 2"), first)
        XCTAssertTrue(first.contains("Ctrl-C                   quit"))
        _ = s.send(.key(.character("x")))
        let second = s.render().text
        XCTAssertTrue(second.contains("2 of 2"))
        for command in ["/image PATH", "/split [MODEL]", "/quit"] { XCTAssertTrue(second.contains(command), command) }
        _ = s.send(.key(.character("x")))
        XCTAssertEqual(s.overlay, .none)
        XCTAssertEqual(s.input.string, "", "keys that turn the help's pages are not typed")
        _ = s.send(.key(.function(1)), .key(.escape))
        XCTAssertEqual(s.overlay, .none, "Esc closes it from any page")
    }

    func testIdentifyBoxIsDrawnBeforeSending() {
        var s = state(120, 40)
        _ = s.send(.imageAttached(ImageEntry(name: "scene.png", path: "/x/scene.png", width: 448, height: 448)))
        _ = s.send(.key(.ctrl("t")))
        for _ in 0 ..< 6 { _ = s.send(.key(.down)) }
        _ = s.send(.key(.enter))
        XCTAssertEqual(s.task, .identify)
        s.type(" {<20><20><50><50>}")
        XCTAssertTrue(s.render().text.contains("┌?"), "the box asked about, labelled ?")
    }
}

final class TaskSelectorTests: XCTestCase {
    func testEveryTaskIsVisibleAt80Columns() {
        var s = AppState(width: 80, height: 24, models: [ModelEntry(name: "a-model-with-a-long-name-q4_k_m", path: "/m")])
        s.selectedModel = 0
        let top = s.render().row(0)
        for label in ["Chat", "VQA", "Cap", "Ground", "Refer", "Detect", "Ident"] { XCTAssertTrue(top.contains(label), "\(label) in \(top)") }
    }
}
