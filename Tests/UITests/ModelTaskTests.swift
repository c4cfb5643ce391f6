import Foundation
import Tasks
import UI
import XCTest

/// The task selector offers only the modes the pane's model understands: MiniGPT-v2's tags for MiniGPT-v2 and
/// `shapes`, Chat alone for MiniGPT-4, LLaVA and Gemma 3 (the app passes what the model's template says).
final class ModelTaskTests: XCTestCase {
    let models = [ModelEntry(name: "shapes", path: "/m/shapes.gguf"), ModelEntry(name: "minigpt4", path: "/m/minigpt4.gguf")]

    func state(readyWith tasks: [TaskMode], width: Int = 120) -> AppState {
        var s = AppState(width: width, height: 30, models: models)
        s.selectedModel = 1
        _ = s.send(.modelReady("minigpt4", tasks: tasks))
        return s
    }

    func testAChatOnlyModelShowsOnlyChatAndRefusesTags() {
        var s = state(readyWith: [.chat])
        let bar = s.render().text.split(separator: "\n")[0]
        XCTAssertTrue(bar.contains("Chat"), String(bar))
        for other in ["VQA", "Caption", "Grounding", "Detection"] { XCTAssertFalse(bar.contains(other), "\(other) in \(bar)") }
        _ = s.send(.key(.tab))
        XCTAssertEqual(s.task, .chat, "Tab has nothing to move to")
        s.type("/task grounding")
        _ = s.send(.key(.enter))
        XCTAssertEqual(s.task, .chat)
        XCTAssertEqual(s.messages.last?.role, .error)
        XCTAssertTrue(s.messages.last!.text.contains("minigpt4 takes no task tags"), s.messages.last!.text)
        _ = s.send(.key(.function(3)))
        XCTAssertTrue(s.render().text.contains("Chat"))
        XCTAssertFalse(s.render().text.contains("Identify"), "the picker lists Chat alone")
    }

    func testATaskTheNewModelLacksFallsBackToChatAndSaysSo() {
        var s = AppState(width: 120, height: 30, models: models)
        s.selectedModel = 0
        _ = s.send(.modelReady("shapes"))
        _ = s.send(.key(.tab), .key(.tab))
        XCTAssertEqual(s.task, .caption)
        s.selectedModel = 1
        _ = s.send(.modelReady("minigpt4", tasks: [.chat]))
        XCTAssertEqual(s.task, .chat)
        XCTAssertEqual(s.messages.last?.text, "minigpt4 takes no Caption task tag: the task is Chat.")
    }

    func testBroadcastTasksSkipPanesWhoseModelTakesNoTags() {
        var s = AppState(width: 160, height: 30, models: models)
        s.selectedModel = 0
        _ = s.send(.modelReady("shapes"))
        s.type("/split minigpt4")
        _ = s.send(.key(.enter))
        _ = s.send(.modelReady("minigpt4", pane: s.panes[1].id, tasks: [.chat]))
        s.focusedPane = 0
        s.type("/task grounding")
        _ = s.send(.key(.enter))
        XCTAssertEqual(s.panes.map(\.task), [.grounding, .chat], "MiniGPT-4's pane stays on Chat")
        let effects = s.send(.key(.enter))
        let prompts = effects.compactMap { e -> String? in if case .generate(_, let h, _, _) = e { return h.last?.text }; return nil }
        XCTAssertEqual(prompts, ["[grounding] describe this image in detail", "describe this image in detail"])
    }

    // MARK: Mini-Gemini: Chat and Generate, /ocr, the image-generation prompt, the image-token count

    let mgmModels = [ModelEntry(name: "shapes", path: "/m/shapes.gguf"), ModelEntry(name: "mgm-2b", path: "/m/mgm-2b.gguf")]

    func mgmState(width: Int = 120) -> AppState {
        var s = AppState(width: width, height: 30, models: mgmModels)
        s.selectedModel = 1
        _ = s.send(.modelReady("mgm-2b", tasks: TaskMode.offered(understandsTaskTags: false, isMiniGemini: true), imageTokens: 576))
        return s
    }

    func testAMiniGeminiPaneOffersChatAndGenerateOnly() {
        var s = mgmState()
        XCTAssertEqual(s.tasks, [.chat, .generate])
        let bar = s.render().text.split(separator: "\n")[0]
        XCTAssertTrue(bar.contains("Chat") && bar.contains("Generate"), String(bar))
        for other in ["VQA", "Caption", "Grounding", "Refer", "Detection", "Identify"] { XCTAssertFalse(bar.contains(other), "\(other) in \(bar)") }
        _ = s.send(.key(.tab))
        XCTAssertEqual(s.task, .generate)
        _ = s.send(.key(.tab))
        XCTAssertEqual(s.task, .chat, "Tab goes round the two")
        _ = s.send(.key(.backTab))
        XCTAssertEqual(s.task, .generate)
        s.type("/task vqa")
        _ = s.send(.key(.enter))
        XCTAssertEqual(s.task, .generate)
        XCTAssertTrue(s.messages.last!.text.contains("its tasks are chat, generate"), s.messages.last!.text)
        s.type("/task chat")
        _ = s.send(.key(.enter))
        s.type("/task generate")
        _ = s.send(.key(.enter))
        XCTAssertEqual(s.task, .generate, "/task takes generate by name")
        _ = s.send(.key(.function(3)))
        let picker = s.render().text
        XCTAssertTrue(picker.contains("Generate"), picker)
        XCTAssertFalse(picker.contains("Identify"), "the picker lists Chat and Generate")
        // The default list (MiniGPT-v2's) never offers Generate; a Chat-only model refuses it by name.
        XCTAssertFalse(AppState(width: 120, height: 30).tasks.contains(.generate))
        var other = state(readyWith: [.chat])
        other.type("/task generate")
        _ = other.send(.key(.enter))
        XCTAssertEqual(other.task, .chat)
        XCTAssertTrue(other.messages.last!.text.contains("has no Generate mode"), other.messages.last!.text)
    }

    func testGenerateAsksWithGENAndShowsThePromptAsItsOwnCopyableBlock() {
        var s = mgmState()
        _ = s.send(.key(.tab))
        s.type("a poster for a coffee shop")
        let effects = s.send(.key(.enter))
        guard case .generate(let g, let history, _, _)? = effects.first else { return XCTFail("no generation: \(effects)") }
        XCTAssertEqual(history.last?.text, "a poster for a coffee shop <GEN>", "MGM's --gen marker after the question")
        _ = s.send(.token(generation: g, text: "Here is a prompt: <h>a cosy coffee shop poster, warm light, "),
                   .token(generation: g, text: "flat illustration</h>"), .finished(generation: g))
        let screen = s.render().text
        XCTAssertTrue(screen.contains("Image-generation prompt"), screen)
        XCTAssertTrue(screen.contains("▌ a cosy coffee shop poster"), screen)
        let prompts = AppState.generationPrompts(s.messages)
        XCTAssertEqual(Array(prompts.values), ["a cosy coffee shop poster, warm light, flat illustration"])
        s.type("/copy gen")
        XCTAssertEqual(s.send(.key(.enter)), [.copyToClipboard("a cosy coffee shop poster, warm light, flat illustration")])
        XCTAssertTrue(s.messages.last!.text.contains("OSC 52"), s.messages.last!.text)
        s.type("/copy")
        XCTAssertEqual(s.send(.key(.enter)),
                       [.copyToClipboard("Here is a prompt: <h>a cosy coffee shop poster, warm light, flat illustration</h>")])
        XCTAssertTrue(s.transcript.contains("Image-generation prompt:\n\n```\na cosy coffee shop poster"), s.transcript)

        // A Chat answer holding <h>...</h> is not a generation prompt; with none yet, /copy gen says so.
        var chat = mgmState()
        chat.type("hi")
        _ = chat.send(.key(.enter), .token(generation: 1, text: "<h>x</h>"), .finished(generation: 1))
        XCTAssertFalse(chat.render().text.contains("Image-generation prompt"))
        chat.type("/copy gen")
        XCTAssertEqual(chat.send(.key(.enter)), [])
        XCTAssertTrue(chat.messages.last!.text.contains("no image-generation prompt"), chat.messages.last!.text)
    }

    func testOCRIsToggledPerPaneShownAndMarksTheQuestions() {
        var s = mgmState(width: 160)
        s.type("/ocr")
        _ = s.send(.key(.enter))
        XCTAssertTrue(s.panes[0].ocr)
        XCTAssertTrue(s.messages.last!.text.contains("Reference OCR Token"), s.messages.last!.text)
        XCTAssertTrue(s.render().text.contains("Chat + OCR"), "the status line shows it")
        s.type("/split shapes")
        _ = s.send(.key(.enter))
        _ = s.send(.modelReady("shapes", pane: s.panes[1].id, imageTokens: 36))
        XCTAssertFalse(s.panes[1].ocr, "a pane of its own")
        let header = s.render().text.split(separator: "\n")[1]
        XCTAssertTrue(header.contains("mgm-2b · Chat · OCR · 576 img tok"), String(header))
        XCTAssertTrue(header.contains("shapes · Chat · 36 img tok"), String(header))
        s.type("what does the sign say?")
        let effects = s.send(.key(.enter))
        let flags = effects.compactMap { e -> Bool? in if case .generate(_, let h, _, _) = e { return h.last?.ocr }; return nil }
        XCTAssertEqual(flags, [true, false], "the OCR line is asked for in the first pane only")
        XCTAssertEqual(s.savedConversation?.panes.map(\.ocr), [true, nil])
        XCTAssertEqual(s.savedConversation?.panes[0].turns.first?.ocr, true)
        s.type("/ocr off")
        _ = s.send(.key(.enter))
        XCTAssertFalse(s.panes[1].ocr)
        s.type("/ocr maybe")
        _ = s.send(.key(.enter))
        XCTAssertEqual(s.messages.last?.role, .error)
        // One pane: its image-token count is on the status line.
        let single = mgmState().render().text.split(separator: "\n").last!
        XCTAssertTrue(single.contains("576 img tok"), String(single))
    }

    func testOCRFlagsSurviveResumingAndNoticesGoAboveTheAnswer() {
        var s = mgmState()
        s.type("/ocr")
        _ = s.send(.key(.enter))
        s.type("read it")
        _ = s.send(.key(.enter))
        _ = s.send(.generationNotice(generation: 1, "OCR (Tesseract): OPEN DAILY"))
        XCTAssertEqual(s.messages.suffix(2).map(\.role), [.notice, .assistant], "the notice reads before the answer")
        _ = s.send(.token(generation: 1, text: "It says open daily."), .finished(generation: 1))
        XCTAssertEqual(s.messages.last?.text, "It says open daily.")
        guard let saved = s.savedConversation else { return XCTFail("nothing saved") }
        var t = AppState(width: 120, height: 30, models: mgmModels)
        _ = t.send(.resumed(saved, id: "c1", images: [], missing: []))
        XCTAssertTrue(t.panes[0].ocr)
        XCTAssertEqual(t.messages.filter { $0.role == .user }.map(\.ocr), [true])
        // A file from before the flag decodes without it.
        let old = #"{"version":1,"images":[],"panes":[{"task":"chat","settings":{"temperature":0.6,"topP":0.9,"topK":40,"maxTokens":500},"turns":[{"role":"user","text":"hi"}]}]}"#
        let decoded = try? JSONDecoder().decode(SavedConversation.self, from: Data(old.utf8))
        XCTAssertEqual(decoded?.panes.first?.ocr, nil)
        XCTAssertEqual(decoded?.panes.first?.turns.first?.ocr, nil)
    }

    func testAGeneratePaneMovedToAModelWithoutItFallsBackToChat() {
        var s = mgmState()
        _ = s.send(.key(.tab))
        XCTAssertEqual(s.task, .generate)
        s.selectedModel = 0
        _ = s.send(.modelReady("shapes"))
        XCTAssertEqual(s.task, .chat)
        XCTAssertEqual(s.messages.last?.text, "shapes has no Generate mode (Mini-Gemini's): the task is Chat.")
    }
}
