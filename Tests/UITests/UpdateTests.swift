import Tasks
import UI
import XCTest

final class UpdateTests: XCTestCase {
    func readyState(width: Int = 80, height: Int = 24) -> AppState {
        var s = AppState(width: width, height: height, models: [ModelEntry(name: "shapes", path: "/m/shapes.gguf", mmproj: "/m/shapes-mmproj.gguf"),
                                                            ModelEntry(name: "other", path: "/m/other.gguf")])
        s.selectedModel = 0
        _ = s.update(.modelReady("shapes"))
        return s
    }

    func testWhatAModelsFilesLeaveOutIsSaidUnderItsReadyLine() {
        var s = AppState(width: 80, height: 24, models: [ModelEntry(name: "llava-1.6", path: "/m/l.gguf", mmproj: "/m/l-mmproj.gguf")])
        _ = s.update(.modelReady("llava-1.6", notes: ["one 336x336 view"]))
        XCTAssertEqual(s.messages.suffix(2).map(\.text), ["Model llava-1.6 is ready.", "one 336x336 view"])
        XCTAssertEqual(s.messages.last?.role, .notice)
    }

    func testSendingStreamsAndFinishes() {
        var s = readyState()
        s.type("what colour is the circle?")
        _ = s.update(.key(.tab))  // chat -> vqa
        XCTAssertEqual(s.task, .vqa)
        let effects = s.send(.key(.enter))
        guard case .generate(let g, let history, _, _) = effects.first else { return XCTFail("\(effects)") }
        XCTAssertEqual(history.last?.text, "[vqa] what colour is the circle?")
        XCTAssertTrue(s.isGenerating)
        XCTAssertTrue(s.input.isEmpty)
        _ = s.send(.token(generation: g, text: "red"), .token(generation: g + 99, text: " stale"))
        XCTAssertEqual(s.messages.last?.text, "red", "events of other generations are ignored")
        _ = s.send(.finished(generation: g))
        XCTAssertFalse(s.isGenerating)
        XCTAssertEqual(s.messages.last?.streaming, false)
    }

    func testEscapeStopsAndKeystrokesEchoWhileStreaming() {
        var s = readyState()
        s.type("hi")
        _ = s.send(.key(.enter))
        s.type("next question")
        XCTAssertEqual(s.input.string, "next question", "typing works while an answer streams")
        XCTAssertEqual(s.send(.key(.escape)), [.stop])
    }

    func testWhatTheEngineIsDoingShowsUntilTheFirstToken() {
        var s = readyState()
        s.type("hi")
        _ = s.send(.key(.enter), .activity(generation: 1, "encoding the image"))
        XCTAssertTrue(s.render().text.contains("encoding the image… ▍"))
        _ = s.send(.activity(generation: 1, "reading 612 prompt tokens"))
        XCTAssertTrue(s.render().text.contains("reading 612 prompt tokens… ▍"))
        XCTAssertFalse(s.render().text.contains("encoding the image"))
        _ = s.send(.token(generation: 1, text: "a red"))
        XCTAssertFalse(s.render().text.contains("prompt tokens"), "the answer's text replaces it")
        XCTAssertEqual(s.messages.last { $0.role == .assistant }?.text, "a red")
    }

    func testNoticesDuringAnAnswerDoNotCutIt() {
        var s = readyState()
        s.type("first")
        _ = s.send(.key(.enter), .token(generation: 1, text: "a red"))
        s.type("second")
        _ = s.send(.key(.enter))  // refused: still answering (an error message lands after the answer)
        _ = s.send(.token(generation: 1, text: " circle"), .finished(generation: 1))
        let answer = s.messages.first { $0.role == .assistant }!
        XCTAssertEqual(answer.text, "a red circle")
        XCTAssertFalse(answer.streaming)
        XCTAssertFalse(s.isGenerating)
    }

    func testTaskSwitchPrefillsDemoInstructions() {
        var s = readyState()
        _ = s.send(.key(.function(3)))
        for _ in 0 ..< 3 { _ = s.send(.key(.down)) }
        _ = s.send(.key(.enter))
        XCTAssertEqual(s.task, .grounding)
        XCTAssertEqual(s.input.string, "describe this image in detail")
    }

    func testCyclingTasksReplacesAnUntouchedSuggestionButKeepsTypedText() {
        var s = readyState()
        var seen: [(TaskMode, String)] = []
        for _ in 0 ..< 7 {
            _ = s.send(.key(.tab))
            seen.append((s.task, s.input.string))
        }
        XCTAssertEqual(seen.map(\.0), [.vqa, .caption, .grounding, .refer, .detection, .identify, .chat])
        XCTAssertEqual(seen.map(\.1), ["", "", "describe this image in detail", "", "", "what is this", ""])
        for _ in 0 ..< 3 { _ = s.send(.key(.tab)) }
        s.type(" and count them")
        _ = s.send(.key(.tab))
        XCTAssertEqual(s.task, .refer)
        XCTAssertEqual(s.input.string, "describe this image in detail and count them", "an edited suggestion is the user's text")
    }

    func testCommands() {
        var s = readyState()
        func run(_ line: String) -> [Effect] { s.input.set(line); return s.send(.key(.enter)) }
        XCTAssertEqual(run("/image ~/x.png").first, .attachImage(path: NSString(string: "~/x.png").expandingTildeInPath))
        _ = run("/task refer")
        XCTAssertEqual(s.task, .refer)
        _ = run("/set temperature 0.2")
        XCTAssertEqual(s.settings.temperature, 0.2)
        _ = run("/set temperature hot")
        XCTAssertTrue(s.messages.last?.text.contains("temperature must be a number") ?? false)
        XCTAssertEqual(s.settings.temperature, 0.2, "a typo changes nothing")
        _ = run("/frobnicate")
        XCTAssertTrue(s.messages.last?.text.contains("unknown command '/frobnicate'") ?? false)
        XCTAssertEqual(run("/model other"), [.loadModel(ModelEntry(name: "other", path: "/m/other.gguf"))])
        XCTAssertEqual(run("/theme light"), [.loadTheme("light")])
        XCTAssertEqual(run("/quit"), [.quit])
    }

    func testLineEditing() {
        var e = LineEditor("hello brave world")
        e.deleteWordBack()
        XCTAssertEqual(e.string, "hello brave ")
        e.home(); e.wordRight()
        XCTAssertEqual(e.caret, 5)
        e.killToEnd()
        XCTAssertEqual(e.string, "hello")
        e.insert("\n二つ目")
        XCTAssertEqual(e.lines, ["hello", "二つ目"])
        XCTAssertEqual(e.caretPosition.line, 1)
        XCTAssertEqual(e.caretPosition.column, 6, "double-width characters take two columns")
        e.up()
        XCTAssertEqual(e.caretPosition.line, 0)
        _ = e.submit()
        e.insert("second")
        _ = e.submit()
        e.up()
        XCTAssertEqual(e.string, "second")
        e.up()
        XCTAssertEqual(e.string, "hello\n二つ目")
        e.down(); e.down()
        XCTAssertEqual(e.string, "")
    }

    func testSendingWithoutAModelExplains() {
        var s = AppState(width: 80, height: 24)
        s.type("hi")
        XCTAssertEqual(s.send(.key(.enter)), [])
        XCTAssertTrue(s.messages.last?.text.contains("No model is ready") ?? false)
        XCTAssertEqual(s.input.string, "hi", "nothing typed is lost")
    }

    func testResizeMidStreamKeepsEverything() {
        var s = readyState()
        s.type("describe")
        _ = s.send(.key(.enter), .token(generation: 1, text: "a small red circle"), .resize(width: 120, height: 40))
        XCTAssertEqual(s.messages.last?.text, "a small red circle")
        XCTAssertTrue(s.isGenerating)
        XCTAssertEqual(s.render().width, 120)
    }
}

final class PathInputTests: XCTestCase {
    func testCompletion() {
        XCTAssertEqual(PathCompletion.complete("examples/sc", entries: ["scene.png", "scene2.png", "other.jpg"]).text, "examples/scene")
        XCTAssertEqual(PathCompletion.complete("examples/sc", entries: ["scene.png", "scene2.png"]).candidates, ["scene.png", "scene2.png"])
        XCTAssertEqual(PathCompletion.complete("ex", entries: ["examples/", "Sources/"]).text, "examples/")
        XCTAssertEqual(PathCompletion.complete("zz", entries: ["a"]).text, "zz")
    }

    func testTabCompletesImagePathsThroughTheApp() {
        var s = AppState(width: 80, height: 24)
        s.input.set("/image ex")
        XCTAssertEqual(s.update(.key(.tab)), [.listDirectory("/image ex")])
        XCTAssertEqual(s.task, .chat, "Tab completes instead of switching the task")
        _ = s.update(.directoryListing(forInput: "/image ex", entries: ["examples/", "extra.png"]))
        XCTAssertEqual(s.input.string, "/image ex", "two candidates: nothing longer in common")
        XCTAssertTrue(s.messages.last?.text.contains("examples/  extra.png") ?? false)
        _ = s.update(.directoryListing(forInput: "/image ex", entries: ["examples/"]))
        XCTAssertEqual(s.input.string, "/image examples/")
    }

    func testDroppedPathsAttach() {
        var s = AppState(width: 80, height: 24)
        XCTAssertEqual(s.update(.key(.paste("'/home/me/My Pictures/cat.JPG'"))), [.attachImage(path: "/home/me/My Pictures/cat.JPG")])
        XCTAssertEqual(s.update(.key(.paste("/tmp/a\\ b.png"))), [.attachImage(path: "/tmp/a b.png")])
        XCTAssertEqual(s.update(.key(.paste("file:///tmp/x.jpeg\n"))), [.attachImage(path: "/tmp/x.jpeg")])
        XCTAssertEqual(s.update(.key(.paste("some pasted text about a.png"))), [])
        XCTAssertEqual(s.input.string, "some pasted text about a.png")
    }
}

final class MouseTests: XCTestCase {
    /// Clicks land on what the top bar shows, at every width: the column of each label is found on the
    /// rendered screen, not computed again here.
    func testClickingATaskLabelSelectsItAndTheModelOpensThePicker() {
        for (width, labels) in [(80, ["Cap", "Ground", "Ident"]), (140, ["Caption", "Grounding", "Identify"])] {
            var s = AppState(width: width, height: 30, models: [ModelEntry(name: "shapes", path: "/m/shapes.gguf")])
            s.selectedModel = 0
            for (label, mode) in zip(labels, [TaskMode.caption, .grounding, .identify]) {
                let top = s.render().row(0)
                guard let range = top.range(of: " \(label) ") else { return XCTFail("\(label) not in \(top)") }
                let column = top.distance(from: top.startIndex, to: range.lowerBound) + 2
                _ = s.update(.key(.click(x: column, y: 0)))
                XCTAssertEqual(s.task, mode, "click at column \(column) of \(top)")
            }
            let top = s.render().row(0)
            let model = top.distance(from: top.startIndex, to: top.range(of: "shapes")!.lowerBound)
            _ = s.update(.key(.click(x: model + 1, y: 0)))
            XCTAssertEqual(s.overlay, .modelPicker(0))
            _ = s.update(.key(.click(x: 5, y: 10)))
            XCTAssertEqual(s.overlay, .none, "a click elsewhere closes the picker")
            _ = s.update(.key(.click(x: 0, y: 0)))
            XCTAssertEqual(s.task, .identify, "the app name is not a target")
        }
    }

    func testWheelScrollsTheConversation() {
        var s = AppState(width: 80, height: 24)
        _ = s.update(.key(.wheel(up: true)))
        XCTAssertEqual(s.scroll, 3)
        _ = s.update(.key(.wheel(up: false)))
        _ = s.update(.key(.wheel(up: false)))
        XCTAssertEqual(s.scroll, 0)
    }
}
