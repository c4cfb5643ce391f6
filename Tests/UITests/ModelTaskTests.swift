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
}
