import Tasks
import UI
import XCTest

/// Pixel previews as the state sees them: which protocol is chosen from what the terminal and tmux say, the
/// placement the render hands the app, the large image, the folder picker, and images in from drops and pastes.
final class GraphicsTests: XCTestCase {
    // MARK: Choosing the protocol

    func testTheTerminalsAnswerAndTheEnvironmentChooseTheProtocol() {
        typealias D = GraphicsDetection
        let kitty = TerminalQuery.Reply(kitty: true, sixel: false)
        let sixel = TerminalQuery.Reply(kitty: false, sixel: true)
        let plain = TerminalQuery.Reply()
        let cases: [(GraphicsRequest, Set<GraphicsProtocol>, TerminalQuery.Reply?, D.Multiplexer, GraphicsProtocol, Bool)] = [
            (.auto, [], kitty, .none, .kitty, false),
            (.auto, [], sixel, .none, .sixel, false),
            (.auto, [.kitty], plain, .none, .kitty, false),     // TERM=xterm-kitty
            (.auto, [.sixel], nil, .none, .sixel, false),       // foot, WezTerm: no answer needed
            (.auto, [.iterm], plain, .none, .iterm, false),     // iTerm2 by TERM_PROGRAM / LC_TERMINAL
            (.auto, [], plain, .none, .symbols, false),
            (.auto, [], nil, .none, .symbols, false),           // a terminal that answers nothing
            (.fixed(.sixel), [], plain, .none, .sixel, false),  // asked for: trusted
            (.fixed(.symbols), [.kitty], kitty, .none, .symbols, false),
            (.auto, [.kitty], nil, .tmux(passthrough: true), .kitty, false),
            (.auto, [.kitty], nil, .tmux(passthrough: false), .symbols, true),
            (.auto, [], nil, .tmux(passthrough: false), .symbols, true),
            (.fixed(.sixel), [], nil, .tmux(passthrough: false), .symbols, true),
            (.fixed(.symbols), [], nil, .tmux(passthrough: false), .symbols, false),
            (.fixed(.kitty), [], nil, .screen, .symbols, true),
        ]
        for (request, offered, probe, mux, expected, hinted) in cases {
            let o = D.choose(request, offered: offered, probe: probe, multiplexer: mux)
            XCTAssertEqual(o.graphics, expected, "\(request) \(offered) \(String(describing: probe)) \(mux)")
            XCTAssertEqual(o.hint != nil, hinted, "\(request) \(mux): \(o.hint ?? "no hint")")
        }
        XCTAssertTrue(D.choose(.auto, offered: [], probe: nil, multiplexer: .tmux(passthrough: false)).hint!.contains("allow-passthrough"))
    }

    func testTheQueryAnswerIsRead() {
        let xterm = Array("\u{1B}[6;17;9t\u{1B}[?63;1;2;4;6;9;15;22c".utf8)
        XCTAssertTrue(TerminalQuery.isComplete(xterm))
        XCTAssertEqual(TerminalQuery.parse(xterm), TerminalQuery.Reply(kitty: false, sixel: true, cellSize: CellSize(width: 9, height: 17)))
        let kitty = Array("\u{1B}_Gi=31;OK\u{1B}\\\u{1B}[6;20;10t\u{1B}[?62;c".utf8)
        XCTAssertEqual(TerminalQuery.parse(kitty), TerminalQuery.Reply(kitty: true, sixel: false, cellSize: CellSize(width: 10, height: 20)))
        // tmux answers for itself: no sixel attribute, no kitty, no cell size.
        XCTAssertEqual(TerminalQuery.parse(Array("\u{1B}[?1;2c".utf8)), TerminalQuery.Reply())
        XCTAssertFalse(TerminalQuery.isComplete(Array("\u{1B}_Gi=31;OK\u{1B}\\".utf8)), "the device attributes end the answer")
        // A kitty error reply is not an OK; attribute 14 is not 4.
        XCTAssertEqual(TerminalQuery.parse(Array("\u{1B}_Gi=31;ENOTSUPPORTED\u{1B}\\\u{1B}[?64;14c".utf8)), TerminalQuery.Reply())
    }

    func testTmuxPassthroughWrapsAndDoublesEscapes() {
        let seq = Array("\u{1B}_Ga=d\u{1B}\\".utf8)
        XCTAssertEqual(GraphicsDetection.wrap(seq, for: .tmux(passthrough: true)), Array("\u{1B}Ptmux;\u{1B}\u{1B}_Ga=d\u{1B}\u{1B}\\\u{1B}\\".utf8))
        XCTAssertEqual(GraphicsDetection.wrap(seq, for: .none), seq)
        XCTAssertTrue(GraphicsDetection.passthroughEnabled("on\n"))
        XCTAssertTrue(GraphicsDetection.passthroughEnabled("all"))
        XCTAssertFalse(GraphicsDetection.passthroughEnabled("off"))
        XCTAssertFalse(GraphicsDetection.passthroughEnabled(""))
    }

    func testGraphicsSettingIsReadAndATypoReported() {
        XCTAssertEqual(Configuration.parse("graphics = \"sixel\"", source: "c.toml").graphics, .fixed(.sixel))
        XCTAssertEqual(Configuration.parse("graphics = \"iTerm2\"", source: "c.toml").graphics, .fixed(.iterm))
        let bad = Configuration.parse("graphics = \"sixels\"\ntheme = \"light\"", source: "c.toml")
        XCTAssertNil(bad.graphics)
        XCTAssertEqual(bad.theme, "light", "the rest still applies")
        XCTAssertEqual(bad.problems, ["c.toml:1: graphics must be one of auto, kitty, sixel, iterm, symbols, not 'sixels'"])
    }

    // MARK: The placement

    func withImage(_ graphics: GraphicsProtocol, width: Int = 120, height: Int = 40) -> AppState {
        var s = AppState(width: width, height: height, models: [ModelEntry(name: "shapes", path: "/m/shapes.gguf")])
        s.graphics = graphics
        s.selectedModel = 0
        _ = s.send(.modelReady("shapes"), .imageAttached(ImageEntry(name: "scene.png", path: "/p/scene.png", width: 512, height: 512)))
        return s
    }

    func answer(_ s: inout AppState, _ text: String) {
        s.type("where is the star?")
        guard case .generate(let g, _, _, _) = s.send(.key(.enter)).first else { return XCTFail("no generation") }
        _ = s.send(.token(generation: g, text: text), .finished(generation: g))
    }

    func testPixelModesLeaveTheCellsBlankAndPlaceTheImageWithItsBoxes() throws {
        var s = withImage(.sixel)
        answer(&s, "<p>star</p>{<10><20><30><40>}")
        let screen = s.render()
        let placement = try XCTUnwrap(screen.pixelImage)
        let inner = try XCTUnwrap(Layout(s).imageInner)
        let preview = try XCTUnwrap(s.images[0].preview)
        XCTAssertEqual(placement.rect, Rect(x: inner.x, y: inner.y, width: preview.width, height: preview.height))
        XCTAssertEqual(placement.imagePath, "/p/scene.png")
        XCTAssertEqual(placement.boxes, [PixelBox(box: Box(10, 20, 30, 40), label: "1", color: s.theme.boxes[0].foreground)])
        for y in placement.rect.y ..< placement.rect.maxY {
            for x in placement.rect.x ..< placement.rect.maxX {
                XCTAssertEqual(screen[x, y].text, " ", "no symbol or box line under the pixels at \(x),\(y)")
            }
        }
        // Symbols: the preview cells and the box outline, no placement.
        var t = withImage(.symbols)
        answer(&t, "<p>star</p>{<10><20><30><40>}")
        let symbols = t.render()
        XCTAssertNil(symbols.pixelImage)
        XCTAssertTrue(symbols.text.contains("┌1"))
    }

    func testAnOverlayTakesThePixelsAwayAndClosingItBringsThemBack() {
        var s = withImage(.kitty)
        XCTAssertNotNil(s.render().pixelImage)
        _ = s.send(.key(.function(1)))
        XCTAssertNil(s.render().pixelImage, "the help panel is drawn in cells: the image must not cover it")
        _ = s.send(.key(.escape))
        XCTAssertNotNil(s.render().pixelImage)
    }

    func testBothPanesBoxesArePlacedWithTheirLetters() throws {
        var s = withImage(.kitty, width: 160, height: 40)
        _ = s.send(.key(.character("/")))
        s.type("split shapes")
        _ = s.send(.key(.enter))
        _ = s.send(.modelReady("shapes", pane: s.panes[1].id))
        s.type("where is the star?")
        let gens = s.send(.key(.enter)).compactMap { e -> Int? in if case .generate(let g, _, _, _) = e { return g } else { return nil } }
        XCTAssertEqual(gens.count, 2)
        _ = s.send(.token(generation: gens[0], text: "{<10><10><20><20>}"), .finished(generation: gens[0]),
                   .token(generation: gens[1], text: "{<50><50><60><60>}"), .finished(generation: gens[1]))
        let placement = try XCTUnwrap(s.render().pixelImage)
        XCTAssertEqual(placement.boxes.map(\.label), ["A1", "B1"])
        XCTAssertNotEqual(placement.boxes[0].color, placement.boxes[1].color)
    }

    // MARK: The large image

    func testF8ShowsTheImageLargeAndEscOrF8BringsTheConversationBack() throws {
        var s = withImage(.sixel)
        let small = try XCTUnwrap(s.render().pixelImage).rect
        let effects = s.update(.key(.function(8)))
        XCTAssertTrue(s.imageZoomed)
        guard case .renderPreview(_, let w, _) = effects.first else { return XCTFail("the preview is rendered for the large area: \(effects)") }
        XCTAssertEqual(w, 118)
        _ = s.update(.preview(image: 0, fakePreview(width: 118, height: 35)))
        let screen = s.render()
        let large = try XCTUnwrap(screen.pixelImage).rect
        XCTAssertGreaterThan(large.width * large.height, small.width * small.height)
        XCTAssertTrue(screen.text.contains("F8 or Esc: back"))
        XCTAssertFalse(screen.text.contains("You"), "no conversation pane while the image is large")
        _ = s.send(.key(.escape))
        XCTAssertFalse(s.imageZoomed)
        _ = s.send(.key(.function(8)), .key(.function(8)))
        XCTAssertFalse(s.imageZoomed)
        // Without an image there is nothing to enlarge.
        var empty = AppState(width: 100, height: 30)
        _ = empty.update(.key(.function(8)))
        XCTAssertFalse(empty.imageZoomed)
        XCTAssertEqual(empty.messages.last?.text, "No image to show large: attach one with /image PATH.")
    }

    // MARK: Images in

    func testAFolderOpensAPickerWithPreviewsAndEnterAttaches() {
        var s = withImage(.symbols)
        s.type("/image ~/pics")
        XCTAssertEqual(s.update(.key(.enter)), [.attachImage(path: NSString(string: "~/pics").expandingTildeInPath)])
        let effects = s.update(.imageFolder("/home/me/pics", names: ["a.png", "b.jpg", "c.png"]))
        XCTAssertEqual(s.overlay, .imagePicker(0))
        guard case .renderPickerPreview(let path, _, _) = effects.first else { return XCTFail("\(effects)") }
        XCTAssertEqual(path, "/home/me/pics/a.png")
        XCTAssertTrue(s.render().text.contains("rendering..."))
        _ = s.update(.pickerPreview(path: "/home/me/pics/a.png", fakePreview(width: 20, height: 10), problem: nil))
        XCTAssertFalse(s.render().text.contains("rendering..."))
        guard case .renderPickerPreview(let next, _, _) = s.update(.key(.down)).first else { return XCTFail("moving renders the next") }
        XCTAssertEqual(next, "/home/me/pics/b.jpg")
        _ = s.update(.pickerPreview(path: next, nil, problem: "b.jpg: not a JPEG or PNG image"))
        XCTAssertTrue(s.render().text.contains("not a JPEG or PNG image"), "a corrupt file says so in the preview")
        XCTAssertEqual(s.update(.key(.enter)), [.attachImage(path: "/home/me/pics/b.jpg")])
        XCTAssertEqual(s.overlay, .none)
        // A folder without images says so and opens nothing.
        _ = s.update(.imageFolder("/tmp/empty", names: []))
        XCTAssertEqual(s.overlay, .none)
        XCTAssertEqual(s.messages.last?.text, "/tmp/empty has no JPEG or PNG images")
    }

    func testSeveralDroppedPathsAndFileURLsAttachEachImage() {
        XCTAssertEqual(PathCompletion.droppedImagePaths("'/a b/c.png' /d/e.JPG /f\\ g.jpeg"), ["/a b/c.png", "/d/e.JPG", "/f g.jpeg"])
        XCTAssertEqual(PathCompletion.droppedImagePaths("file:///home/me/My%20Cat.png\nfile://localhost/tmp/x.jpg"),
                       ["/home/me/My Cat.png", "/tmp/x.jpg"])
        XCTAssertNil(PathCompletion.droppedImagePaths("/a.png and some words"), "text with a path in it is text")
        XCTAssertNil(PathCompletion.droppedImagePaths("/a.png /notes.txt"))
        XCTAssertNil(PathCompletion.droppedImagePaths(""))
        XCTAssertEqual(PathCompletion.fileURLPath("file:///x%2Fy/%C3%A9t%C3%A9.png"), "/x/y/été.png")
        XCTAssertNil(PathCompletion.fileURLPath("https://example.com/a.png"))
        var s = withImage(.symbols)
        XCTAssertEqual(s.update(.key(.paste("/p/one.png '/p/two three.jpg'"))),
                       [.attachImage(path: "/p/one.png"), .attachImage(path: "/p/two three.jpg")])
        s.type("/image file:///p/My%20Scan.png")
        XCTAssertEqual(s.update(.key(.enter)), [.attachImage(path: "/p/My Scan.png")])
        s.type("/image /p/a.png /p/b.png")
        XCTAssertEqual(s.update(.key(.enter)), [.attachImage(path: "/p/a.png"), .attachImage(path: "/p/b.png")])
        s.type("/image /p/with space.png")
        XCTAssertEqual(s.update(.key(.enter)), [.attachImage(path: "/p/with space.png")], "one unquoted path with a space")
    }

    func testCtrlVAndPasteAskForTheClipboardsImage() {
        var s = withImage(.symbols)
        XCTAssertEqual(s.update(.key(.ctrl("v"))), [.pasteImage])
        s.type("/paste")
        XCTAssertEqual(s.update(.key(.enter)), [.pasteImage])
    }
}
