import Tasks
import UI
import XCTest

/// The comparison view: panes side by side (stacked when narrow), prompts to all or to the focused pane,
/// each pane's boxes on the preview in its colour.
final class PaneTests: XCTestCase {
    let models = [ModelEntry(name: "shapes", path: "/m/shapes.gguf"), ModelEntry(name: "shapes-q8", path: "/m/shapes-q8.gguf"),
                  ModelEntry(name: "llava", path: "/m/llava.gguf"), ModelEntry(name: "other", path: "/m/other.gguf")]

    /// `count` panes, each with its model ready, an image attached, and one grounding answer streamed per pane.
    func comparison(_ count: Int, _ w: Int, _ h: Int) -> AppState {
        var s = AppState(width: w, height: h, models: models)
        s.selectedModel = 0
        _ = s.send(.modelReady("shapes"))
        for i in 1 ..< count {
            s.type("/split \(models[i].name)")
            let effects = s.send(.key(.enter))
            XCTAssertEqual(effects, [.loadModel(models[i], pane: i)])
            _ = s.send(.modelReady(models[i].name, pane: i))
        }
        _ = s.send(.imageAttached(ImageEntry(name: "scene.png", path: "/x/scene.png", width: 448, height: 448)))
        s.type("/task grounding")
        _ = s.send(.key(.enter))
        let effects = s.send(.key(.enter))
        XCTAssertEqual(effects.count, count, "the prompt goes to every pane")
        let answers = ["<p>large red circle</p> {<10><10><40><40>}", "<p>large red circle</p> {<10><10><40><40>}, <p>small blue star</p> {<60><55><75><70>}",
                       "<p>small blue star</p> {<58><54><74><69>}", "none"]
        for (k, effect) in effects.enumerated() {
            guard case .generate(let g, let history, _, _) = effect else { return s }
            XCTAssertEqual(history.last?.text, "[grounding] describe this image in detail")
            _ = s.send(.token(generation: g, text: answers[k]), .finished(generation: g))
        }
        return s
    }

    func testSnapshots() {
        for (count, w, h) in [(2, 120, 40), (3, 120, 40), (4, 200, 60), (2, 200, 60), (3, 200, 60)] {
            assertSnapshot(comparison(count, w, h).render(), named: "panes\(count)-\(w)x\(h)")
        }
    }

    func testNarrowTerminalsStackThePanes() {
        let s = comparison(3, 80, 40)
        let layout = Layout(s)
        XCTAssertEqual(Set(layout.conversations.map(\.x)).count, 1, "one column of panes")
        XCTAssertEqual(layout.conversations.count, 3)
        assertSnapshot(s.render(), named: "panes3-stacked-80x40")
    }

    func testEachPanesBoxesAreLabelledAndColouredByPane() {
        let s = comparison(2, 120, 40)
        let screen = s.render()
        for label in ["┌A1", "└B1", "┌B2"] { XCTAssertTrue(screen.text.contains(label), "\(label) on the preview (B1 shares A1's corner)") }
        XCTAssertTrue(screen.text.contains("large red circle\u{00A0}[B1], small blue"), "pane B's phrases name its boxes")
        XCTAssertTrue(screen.text.contains("star\u{00A0}[B2]"), "a label wraps with the word before it")
        XCTAssertTrue(screen.text.contains("large red circle\u{00A0}[A1]"))
        let b = s.theme.boxes[1].foreground
        XCTAssertTrue((0 ..< screen.height).contains { y in (0 ..< screen.width).contains { x in screen[x, y].text == "┌" && screen[x, y].style.foreground == b } },
                      "pane B's boxes in pane B's colour")
        XCTAssertTrue(screen.text.contains("■ A shapes  ■ B shapes-q8"), "a legend under the image says which colour is which pane")
        let four = comparison(4, 200, 60).render()
        XCTAssertTrue(four.text.contains("■ A shapes  ■ B shapes-q8  ■ C llava"), "panes with boxes are in the legend")
        XCTAssertFalse(four.text.contains("■ D"), "pane D answered none: no boxes, not in the legend")
    }

    func testPerPaneModeStopAndFocus() {
        var s = comparison(2, 120, 40)
        XCTAssertEqual(s.focusedPane, 1, "the new pane has the focus")
        _ = s.send(.key(.function(4)))
        XCTAssertFalse(s.broadcast)
        s.type("/task vqa")
        _ = s.send(.key(.enter))
        s.type("what color is the star?")
        let effects = s.send(.key(.enter))
        XCTAssertEqual(effects.count, 1, "only the focused pane answers")
        XCTAssertTrue(s.panes[1].isGenerating)
        XCTAssertFalse(s.panes[0].isGenerating)
        XCTAssertEqual(s.panes[0].task, .grounding, "each pane keeps its own task")
        _ = s.send(.key(.function(6)))
        XCTAssertEqual(s.focusedPane, 0)
        s.type("/task caption")
        _ = s.send(.key(.enter))
        s.type("briefly describe the image")
        XCTAssertEqual(s.send(.key(.enter)).count, 1, "pane A answers while B still streams")
        XCTAssertEqual(s.send(.key(.escape)), [.stopPane(s.panes[0].id)], "Esc stops the focused pane in per-pane mode")
        XCTAssertTrue(s.panes[1].isGenerating)
        _ = s.send(.key(.function(4)))
        XCTAssertEqual(s.send(.key(.escape)), [.stopPane(s.panes[1].id)], "in broadcast mode Esc stops every answer")
    }

    func testZoomCloseAndClick() {
        var s = comparison(3, 120, 40)
        _ = s.send(.key(.function(7)))
        XCTAssertEqual(Layout(s).conversations.count, 1, "zoomed: the focused pane alone")
        _ = s.send(.key(.function(7)))
        let layout = Layout(s)
        let first = layout.conversations[0]
        _ = s.send(.key(.click(x: first.x + 3, y: first.y + 3)))
        XCTAssertEqual(s.focusedPane, 0, "a click focuses the pane under it")
        s.type("/close")
        XCTAssertEqual(s.send(.key(.enter)), [.closePane(0)])
        XCTAssertEqual(s.panes.count, 2)
        s.type("/split nosuch")
        _ = s.send(.key(.enter))
        XCTAssertTrue(s.messages.last?.text.contains("unknown model 'nosuch'") ?? false)
        s.type("/split")
        _ = s.send(.key(.enter))
        s.type("/split")
        _ = s.send(.key(.enter))
        s.type("/split")
        _ = s.send(.key(.enter))
        XCTAssertEqual(s.panes.count, AppState.maximumPanes)
        XCTAssertTrue(s.messages.last?.text.contains("at most 4 panes") ?? false)
    }
}
