import Foundation
import Tasks
import UI
import XCTest

/// Keeping conversations: what is saved, what resuming rebuilds, the Markdown transcript, and the commands.
final class SavedConversationTests: XCTestCase {
    let models = [ModelEntry(name: "shapes", path: "/m/shapes.gguf", mmproj: "/m/shapes-mmproj.gguf"),
                  ModelEntry(name: "other", path: "/m/other.gguf")]

    /// One pane on shapes with an image, a grounding answer and a VQA answer (notices and an error between).
    func conversation() -> AppState {
        var s = AppState(width: 100, height: 30, models: models)
        s.selectedModel = 0
        _ = s.send(.modelReady("shapes"))
        _ = s.send(.imageAttached(ImageEntry(name: "scene.png", path: "/img/scene.png", width: 200, height: 100)))
        s.type("/task grounding")
        _ = s.send(.key(.enter), .key(.enter))  // the pre-filled instruction
        _ = s.send(.token(generation: 1, text: "<p>large red circle</p> {<10><20><30><40>}"), .finished(generation: 1))
        s.type("/set temperature 0")
        _ = s.send(.key(.enter))
        s.type("/task vqa")
        _ = s.send(.key(.enter))
        s.type("how many objects are there?")
        _ = s.send(.key(.enter), .token(generation: 2, text: "1"), .finished(generation: 2))
        return s
    }

    func testNothingIsSavedUntilSomethingIsAsked() {
        var s = AppState(width: 100, height: 30, models: models)
        s.selectedModel = 0
        _ = s.send(.modelReady("shapes"))
        XCTAssertNil(s.savedConversation)
        s.type("hi")
        _ = s.send(.key(.enter))
        XCTAssertEqual(s.savedConversation?.panes[0].turns, [.init(role: "user", text: "hi"), .init(role: "assistant", text: "")],
                       "a question is kept at once, its answer as far as it has come")
    }

    func testTheSavedConversationHoldsTurnsModelTaskSettingsAndImages() throws {
        let saved = try XCTUnwrap(conversation().savedConversation)
        XCTAssertEqual(saved.images, ["/img/scene.png"])
        let pane = saved.panes[0]
        XCTAssertEqual(pane.model, "shapes")
        XCTAssertEqual(pane.path, "/m/shapes.gguf")
        XCTAssertEqual(pane.mmproj, "/m/shapes-mmproj.gguf")
        XCTAssertEqual(pane.task, .vqa)
        XCTAssertEqual(pane.settings.temperature, 0)
        XCTAssertEqual(pane.turns.map(\.role), ["user", "assistant", "user", "assistant"], "notices and errors are not kept")
        XCTAssertEqual(pane.turns[1].text, "<p>large red circle</p> {<10><20><30><40>}", "answers as the model wrote them")
        XCTAssertEqual(saved.firstQuestion, "[grounding] describe this image in detail")
        XCTAssertEqual(saved.questionCount, 2)
    }

    func testResumingRebuildsTheConversationAndGoesOn() throws {
        let data = try JSONEncoder().encode(try XCTUnwrap(conversation().savedConversation))
        let saved = try JSONDecoder().decode(SavedConversation.self, from: data)

        var s = AppState(width: 100, height: 30, models: models)
        let image = ImageEntry(name: "scene.png", path: "/img/scene.png", width: 200, height: 100)
        let effects = s.send(.resumed(saved, id: "2026-11-23-131525", images: [image], missing: []))
        XCTAssertEqual(effects, [.loadModel(models[0], pane: 0)])
        XCTAssertEqual(s.conversationID, "2026-11-23-131525")
        XCTAssertEqual(s.images.map(\.path), ["/img/scene.png"])
        XCTAssertEqual(s.task, .vqa)
        XCTAssertEqual(s.settings.temperature, 0)
        XCTAssertEqual(s.savedConversation, saved, "resumed, it saves as it was")
        XCTAssertTrue(s.render().text.contains("large red circle\u{A0}[1]"), "answers show as they did")

        // Once the model is ready, a follow-up goes with the earlier turns.
        _ = s.send(.modelReady("shapes"))
        s.type("is there a red circle?")
        guard case .generate(_, let history, let paths, _) = s.send(.key(.enter)).first else { return XCTFail("not sent") }
        XCTAssertEqual(history.map(\.text), ["[grounding] describe this image in detail", "<p>large red circle</p> {<10><20><30><40>}",
                                             "[vqa] how many objects are there?", "1", "[vqa] is there a red circle?"])
        XCTAssertEqual(paths, ["/img/scene.png"])

        _ = s.send(.key(.ctrl("n")))
        XCTAssertNil(s.conversationID, "a new conversation is kept in a new file")
    }

    func testResumingKeepsAReadyModelAndClosesExtraPanes() throws {
        let saved = try XCTUnwrap(conversation().savedConversation)
        var s = AppState(width: 120, height: 40, models: models)
        s.selectedModel = 0
        _ = s.send(.modelReady("shapes"))
        s.type("/split other")
        _ = s.send(.key(.enter))
        XCTAssertEqual(s.panes.count, 2)
        let effects = s.send(.resumed(saved, id: "x", images: [], missing: ["/img/scene.png"]))
        XCTAssertEqual(effects, [.closePane(1)], "the first pane's model is ready: not loaded again")
        XCTAssertEqual(s.panes.count, 1)
        XCTAssertTrue(s.messages.contains { $0.role == .error && $0.text.contains("/img/scene.png") }, "missing images are named")
    }

    func testAPaneWhoseModelIsUnknownSaysSo() throws {
        var saved = try XCTUnwrap(conversation().savedConversation)
        saved.panes[0].model = "llava"
        saved.panes[0].path = nil  // the app drops the path of a file that is gone
        var s = AppState(width: 100, height: 30, models: models)
        XCTAssertEqual(s.send(.resumed(saved, id: "x", images: [], missing: [])), [])
        XCTAssertNil(s.selectedModel)
        XCTAssertTrue(s.messages.contains { $0.role == .error && $0.text.contains("F2") })

        // A file not offered but still there (the app kept its path) is added to the models.
        saved.panes[0].path = "/elsewhere/llava.gguf"
        var t = AppState(width: 100, height: 30, models: models)
        let effects = t.send(.resumed(saved, id: "x", images: [], missing: []))
        XCTAssertEqual(t.models.last, ModelEntry(name: "llava", path: "/elsewhere/llava.gguf", mmproj: "/m/shapes-mmproj.gguf"))
        XCTAssertEqual(effects, [.loadModel(t.models[2], pane: 0)])
    }

    func testANewConversationKeepsTheOldOneFirstAnAnswerCutShortIncluded() {
        var s = conversation()
        _ = s.send(.conversationNamed("c1"))
        s.type("what color is the circle?")
        _ = s.send(.key(.enter), .token(generation: 3, text: "re"))
        let effects = s.send(.key(.ctrl("n")))
        guard case .saveConversation(let kept, let id) = effects.first else { return XCTFail("\(effects)") }
        XCTAssertEqual(id, "c1", "into its own file")
        XCTAssertEqual(kept.panes[0].turns.suffix(2), [.init(role: "user", text: "[vqa] what color is the circle?"),
                                                       .init(role: "assistant", text: "re")])
        XCTAssertEqual(Array(effects.dropFirst()), [.stop])
        XCTAssertNil(s.savedConversation)
        XCTAssertEqual(s.send(.key(.ctrl("n"))), [], "nothing asked since: nothing to keep")
    }

    func testTwoPanesComeBackSideBySide() throws {
        var s = conversation()
        s.type("/split other")
        _ = s.send(.key(.enter), .modelReady("other", pane: 1))
        s.type("what color is the circle?")
        _ = s.send(.key(.enter), .finished(generation: 3), .finished(generation: 4))
        let saved = try XCTUnwrap(s.savedConversation)
        XCTAssertEqual(saved.panes.map(\.model), ["shapes", "other"])

        var t = AppState(width: 120, height: 40, models: models)
        let effects = t.send(.resumed(saved, id: "x", images: [], missing: []))
        XCTAssertEqual(effects, [.loadModel(models[0], pane: 0), .loadModel(models[1], pane: 1)])
        XCTAssertEqual(t.panes.map { $0.messages.filter { $0.role == .user }.count }, [3, 1])
    }

    func testTheTranscriptReadsLikeTheApp() {
        let text = conversation().transcript
        XCTAssertTrue(text.hasPrefix("# Glimpse conversation\n"))
        XCTAssertTrue(text.contains("Images: `/img/scene.png` (200x100)"))
        XCTAssertTrue(text.contains("**You:** [grounding] describe this image in detail"))
        XCTAssertTrue(text.contains("**shapes:** large red circle [1]\n"))
        XCTAssertTrue(text.contains("- [1] large red circle: {<10><20><30><40>}, pixels (20, 20)-(60, 40)"), text)
        XCTAssertTrue(text.contains("**shapes:** 1\n"))
        XCTAssertFalse(text.contains("Model shapes is ready"), "notices are left out")
    }

    func testCommands() {
        var s = conversation()
        s.type("/save ~/chat.md")
        guard case .exportTranscript(let path, let text) = s.send(.key(.enter)).first else { return XCTFail("no export") }
        XCTAssertEqual(path, (("~/chat.md") as NSString).expandingTildeInPath)
        XCTAssertEqual(text, s.transcript)
        s.type("/conversations")
        XCTAssertEqual(s.send(.key(.enter)), [.listConversations])
        s.type("/resume")
        XCTAssertEqual(s.send(.key(.enter)), [.resumeConversation(1)])
        s.type("/resume 3")
        XCTAssertEqual(s.send(.key(.enter)), [.resumeConversation(3)])
        s.type("/resume last")
        XCTAssertEqual(s.send(.key(.enter)), [])
        XCTAssertTrue(s.messages.last?.text.contains("/resume takes the number") ?? false)

        var empty = AppState(width: 100, height: 30, models: models)
        empty.type("/save chat.md")
        XCTAssertEqual(empty.send(.key(.enter)), [])
        XCTAssertEqual(empty.messages.last?.text, "nothing to save yet: ask something first")
    }

    func testConversationsArePickedFromAList() {
        var s = AppState(width: 100, height: 30, models: models)
        let list = (1 ... 14).map { i in
            ConversationSummary(id: "c\(i)", updated: Date(timeIntervalSince1970: Double(1000 - i)), models: ["shapes", "other"],
                                firstQuestion: i == 1 ? String(repeating: "long question ", count: 10) : "[vqa] question \(i)",
                                questions: i)
        }
        _ = s.send(.conversationList(list, folder: "/data/conversations"))
        XCTAssertEqual(s.overlay, .conversationPicker(0))
        let lines = s.conversationLines
        XCTAssertEqual(lines.count, 14)
        XCTAssertTrue(lines[0].hasPrefix("1  ") && lines[0].contains("shapes, other, 1 question: long question") && lines[0].hasSuffix("…"))
        XCTAssertTrue(lines[1].hasPrefix("2  ") && lines[1].hasSuffix("2 questions: [vqa] question 2"))
        XCTAssertTrue(s.render().text.contains("Saved conversations (Enter resumes, d deletes, / searches"))

        // Down past the panel's height scrolls; Enter takes up the one chosen, as /resume N would.
        for _ in 0 ..< 13 { _ = s.send(.key(.down)) }
        XCTAssertTrue(s.render().text.contains("[vqa] question 14"), "the selection stays in view")
        _ = s.send(.key(.up))
        XCTAssertEqual(s.send(.key(.enter)), [.resumeConversationID("c13")])
        XCTAssertEqual(s.overlay, Overlay.none)

        _ = s.send(.conversationList([], folder: "/data/conversations"))
        XCTAssertEqual(s.messages.last?.text, "No saved conversations in /data/conversations.")
        XCTAssertEqual(s.overlay, Overlay.none)
    }

    func testDeletingFromThePickerAsksFirst() {
        var s = AppState(width: 100, height: 30, models: models)
        let list = (1 ... 3).map { ConversationSummary(id: "c\($0)", updated: Date(), models: ["shapes"], firstQuestion: "q\($0)", questions: 1) }
        _ = s.send(.conversationList(list, folder: "/data"), .key(.down))
        XCTAssertEqual(s.send(.key(.character("d"))), [], "the first d only asks")
        XCTAssertTrue(s.render().text.contains("Delete conversation 2? d again deletes it"))
        XCTAssertEqual(s.send(.key(.down)), [], "any other key keeps it")
        XCTAssertNil(s.pendingDeletion)
        XCTAssertEqual(s.savedConversations.count, 3)
        _ = s.send(.key(.up), .key(.character("d")))
        XCTAssertEqual(s.send(.key(.character("d"))), [.deleteConversation("c2")])
        XCTAssertEqual(s.savedConversations.map(\.id), ["c1", "c3"])
        XCTAssertEqual(s.overlay, .conversationPicker(1), "the picker stays, on the next one")
        XCTAssertEqual(s.send(.key(.enter)), [.resumeConversationID("c3")], "the list as it is now")
        _ = s.send(.conversationList([list[0]], folder: "/data"), .key(.delete), .key(.delete))
        XCTAssertEqual(s.overlay, Overlay.none, "the last one gone, the picker closes")
    }

    /// Found by the conversation fuzzer: a file listing no panes closed every pane, then crashed.
    func testAConversationWithNoPanesIsRefused() {
        var s = AppState(width: 100, height: 30, models: models)
        XCTAssertEqual(s.resume(SavedConversation(images: [], panes: []), id: "empty", images: [], missing: []), [])
        XCTAssertEqual(s.panes.count, 1)
        XCTAssertEqual(s.messages.last?.text, "The conversation empty has no panes to take up; nothing was changed.")
        _ = s.render()
    }

    func testSearchingFromThePickerAndTheCommandLine() {
        var s = AppState(width: 100, height: 30, models: models)
        s.type("/search red circle")
        XCTAssertEqual(s.send(.key(.enter)), [.searchConversations("red circle")])
        s.type("/search")
        XCTAssertEqual(s.send(.key(.enter)), [])
        XCTAssertTrue(s.messages.last?.text.contains("/search needs words, e.g. /search red circle") ?? false, "\(s.messages.last?.text ?? "")")

        let list = (1 ... 3).map { ConversationSummary(id: "c\($0)", updated: Date(), models: ["shapes"], firstQuestion: "q\($0)", questions: 1) }
        _ = s.send(.conversationList(list, folder: "/data"))
        // `/` starts the words (d is typed, not a deletion), Backspace takes one back, Enter looks them up.
        XCTAssertEqual(s.send(.key(.character("/")), .key(.character("r")), .key(.character("e")), .key(.character("d")),
                              .key(.character("x")), .key(.backspace)), [])
        XCTAssertNil(s.pendingDeletion)
        XCTAssertTrue(s.render().text.contains("Search: red▏ (Enter searches, Esc back)"), s.render().text)
        XCTAssertEqual(s.send(.key(.enter)), [.searchConversations("red")])
        var found = list[2]
        found.match = "You: is there a [red] circle? (+1 more)"
        _ = s.send(.searchResults(query: "red", [found]))
        XCTAssertEqual(s.overlay, .conversationPicker(0))
        let text = s.render().text
        XCTAssertTrue(text.contains("1 conversation with \"red\" (Enter resumes"), text)
        XCTAssertTrue(text.contains("You: is there a [red] circle? (+1 more)"), text)
        XCTAssertEqual(s.send(.key(.enter)), [.resumeConversationID("c3")])
        // Nothing found: the picker stays, saying so, to search again; Esc in the words goes back to the list.
        _ = s.send(.searchResults(query: "zebra", []))
        XCTAssertTrue(s.render().text.contains("0 conversations with \"zebra\""))
        XCTAssertTrue(s.render().text.contains("(none found)"))
        _ = s.send(.key(.character("/")), .key(.character("q")), .key(.escape))
        XCTAssertNil(s.conversationSearch)
        XCTAssertEqual(s.overlay, .conversationPicker(0))
    }

    func testHistoryFromEarlierRunsComesFirst() {
        var editor = LineEditor()
        editor.set("this run")
        _ = editor.submit()
        editor.loadHistory(["first run", "second run"])
        XCTAssertEqual(editor.history, ["first run", "second run", "this run"])
        editor.up(); editor.up()
        XCTAssertEqual(editor.string, "second run")
    }
}
