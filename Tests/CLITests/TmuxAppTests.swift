import Foundation
import XCTest

/// The terminal app end to end under tmux, on the built-in `shapes` model and a sample scene: start with the
/// image, ask in every task mode and check the answers and the boxes drawn on the preview, resize mid-answer,
/// stop with Esc, quit, and check that the terminal settings are restored. It waits for the screen to show each
/// expected state; it never sleeps blindly.
final class TmuxAppTests: XCTestCase {
    let session = "glimpse-e2e-\(getpid())"
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-e2e-\(getpid())")

    /// Runs a tmux command through the shell. (Not Foundation's Process: the first tmux command starts the tmux
    /// server, a daemon that would inherit the pipe and keep `waitUntilExit` waiting forever.)
    func tmux(_ args: String...) -> String {
        let quoted = args.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        guard let f = popen("tmux \(quoted) 2>/dev/null </dev/null", "r") else { return "" }
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            out += buffer[0 ..< n]
        }
        pclose(f)
        return String(decoding: out, as: UTF8.self)
    }

    /// Starts the session with the server's output going nowhere.
    func startSession(_ command: String) {
        let quoted = "'" + command.replacingOccurrences(of: "'", with: "'\\''") + "'"
        _ = system("tmux new-session -d -s \(session) -x 120 -y 40 \(quoted) >/dev/null 2>&1 </dev/null")
    }

    var screen: String { tmux("capture-pane", "-t", session, "-p") }

    /// Polls the screen (every 50 ms, up to `timeout`) until it has settled on a state where `predicate` holds:
    /// two captures in a row identical and satisfying it. A capture can catch the terminal half redrawn (the top
    /// new, the hint line still old), so one capture alone is not trusted.
    @discardableResult
    func waitFor(_ what: String, timeout: TimeInterval = 60, file: StaticString = #filePath, line: UInt = #line,
                 _ predicate: (String) -> Bool) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = "", previous: String? = nil
        while Date() < deadline {
            last = screen
            if predicate(last) {
                if last == previous { return last }
                previous = last
            } else {
                previous = nil
            }
            usleep(50_000)
        }
        XCTFail("timed out waiting for \(what); screen:\n\(last)", file: file, line: line)
        return last
    }

    func type(_ text: String) { _ = tmux("send-keys", "-t", session, "-l", text) }
    func key(_ name: String) { _ = tmux("send-keys", "-t", session, name) }

    override func tearDown() {
        _ = tmux("kill-session", "-t", session)
        try? FileManager.default.removeItem(at: tmp)
    }

    /// The last question and its answer in the conversation pane (left of the image pane's border), each
    /// joined into one line; empty strings when there is none yet.
    func lastExchange(_ screen: String) -> (question: String, answer: String) {
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            String(line.split(separator: "│", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        }
        func block(after i: Int) -> String {
            lines[(i + 1)...].prefix { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        }
        guard let you = lines.lastIndex(where: { $0.hasPrefix(" You") }) else { return ("", "") }
        let model = lines.lastIndex(where: { $0.hasPrefix(" Model") }).flatMap { $0 > you ? $0 : nil }
        return (block(after: you), model.map { block(after: $0) } ?? "")
    }

    func testChatAboutAnImageInEveryTaskMode() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        let image = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/three-shapes.png").path
        try launch("", image: image)  // no --model: the built-in model (the models folder is empty)

        waitFor("the model") { $0.contains("shapes is ready") }
        waitFor("the image") { $0.contains("three-shapes.png 512x512") }
        type("/set temperature 0")
        key("Enter")
        // (task, instruction, what the preview must show once answered). Only the shape of the answers is checked
        // here: their content is scored by tools/shapes/evaluate.py, and the engine is held to the PyTorch model by
        // ShapesModelTests.
        let asks: [(String, String, [String])] = [
            ("vqa", "what color is the star?", []),
            ("caption", "briefly describe the image", []),
            ("grounding", "describe this image in detail", ["┌1"]),
            ("refer", "the green cross", ["┌1"]),
            ("detection", "stars", []),
            ("identify", "what is this {<8><10><40><42>}", ["┌?"]),
            ("chat", "describe the image", []),
        ]
        for (task, instruction, preview) in asks {
            type("/task \(task)")
            key("Enter")
            key("C-u")
            type(instruction)
            key("Enter")
            let asked = task == "chat" ? instruction : "[\(task)] \(instruction)"
            // Sent (the question is the conversation's last), answered and finished (Enter sends again).
            let s = waitFor("the \(task) answer") { s in
                let (question, answer) = self.lastExchange(s)
                return question == asked && !answer.isEmpty && s.contains("Enter sends")
            }
            for mark in preview { XCTAssertTrue(s.contains(mark), "\(task): \(mark) on the preview:\n\(s)") }
        }
        quitAndCheckTerminal()
    }

    /// Resize while an answer streams, stop it with Esc, shrink below the minimum and back. On the random-weight
    /// MiniGPT-v2 test checkpoint, whose answers run to the token limit (the built-in model answers too fast).
    /// The limit is set far above what the test needs: the answer must still be streaming after two settled
    /// screens and a resize, and at 350 tokens a second a 400-token answer could end in between.
    func testResizeAndStopMidAnswer() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        let image = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/images/baseline.jpg").path
        try launch("--model \(BadInputTests.models)/test-minigptv2.gguf", image: image)
        waitFor("the model") { $0.contains("test-minigptv2 is ready") }
        waitFor("the image") { $0.contains("baseline.jpg 37x23") }
        type("/set max-tokens 3000")
        key("Enter")
        type("tell me everything")
        key("Enter")
        waitFor("streaming") { $0.contains("Esc stops") }
        _ = tmux("resize-window", "-t", session, "-x", "90", "-y", "30")
        waitFor("the new size") { s in s.split(separator: "\n").first.map { $0.count <= 90 } ?? false && s.contains("Esc stops") }
        key("Escape")
        waitFor("the stop") { $0.contains("Enter sends") }
        _ = tmux("resize-window", "-t", session, "-x", "60", "-y", "20")
        waitFor("the too-small notice") { $0.contains("at least 80x24") }
        _ = tmux("resize-window", "-t", session, "-x", "100", "-y", "30")
        waitFor("the layout back") { $0.contains("Enter sends") }
        quitAndCheckTerminal()
    }

    var sttyBefore: String { tmp.appendingPathComponent("stty-before").path }
    var sttyAfter: String { tmp.appendingPathComponent("stty-after").path }

    /// Starts `glimpse ARGUMENTS IMAGE` in the tmux session, recording the terminal settings before and after.
    func launch(_ arguments: String, image: String) throws {
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        // Conversations and the input history are kept under the test's folder, not the user's home.
        startSession("stty -g > \(sttyBefore); TERM=xterm-256color GLIMPSE_MODELS=\(tmp.path) XDG_DATA_HOME=\(tmp.path)/data "
                     + "XDG_STATE_HOME=\(tmp.path)/state \(BadInputTests.binary) "
                     + "\(arguments) \(image); echo EXITED $?; stty -g > \(sttyAfter); sleep 60")
    }

    /// `glimpse history ARGUMENTS` on the test's data folder, as text.
    func historyText(_ arguments: String...) throws -> String { try historyText(arguments: arguments) }

    /// `glimpse history --json ...`, decoded.
    func history(_ arguments: String...) throws -> [[String: Any]] {
        let text = try historyText(arguments: ["--json"] + arguments.filter { $0 != "--json" })
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], text)
    }

    func historyText(arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: BadInputTests.binary)
        p.arguments = ["history"] + arguments
        p.environment = ["XDG_DATA_HOME": tmp.path + "/data", "XDG_STATE_HOME": tmp.path + "/state", "HOME": tmp.path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    func quitAndCheckTerminal(file: StaticString = #filePath, line: UInt = #line) {
        key("C-c")
        waitFor("the exit", file: file, line: line) { $0.contains("EXITED 0") }
        waitFor("stty", file: file, line: line) { _ in FileManager.default.fileExists(atPath: self.sttyAfter) }
        XCTAssertEqual(try? String(contentsOfFile: sttyBefore, encoding: .utf8), try? String(contentsOfFile: sttyAfter, encoding: .utf8),
                       "terminal settings restored", file: file, line: line)
    }
}

extension TmuxAppTests {
    /// `glimpse --compare`: the built-in model beside its Q8_0 re-encoding (a second checkpoint the setup
    /// derives), one image, [grounding]: both answers and both panes' boxes appear.
    func testComparingTwoCheckpointsInGroundingMode() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let image = root.appendingPathComponent("examples/three-shapes.png").path
        try launch("--compare shapes,\(BadInputTests.models)/shapes-q8_0.gguf", image: image)
        waitFor("both models") { $0.contains("Model shapes is ready") && $0.contains("Model shapes-q8_0 is ready") }
        waitFor("the image") { $0.contains("three-shapes.png 512x512") }
        type("/set temperature 0")
        key("Enter")
        type("/task grounding")
        key("Enter")
        key("Enter")  // the pre-filled "describe this image in detail", to both panes
        let s = waitFor("both answers and both sets of boxes") { s in
            s.components(separatedBy: "[grounding] describe this image in").count == 3 && s.contains("Enter sends")
                && ["A1", "B1"].allSatisfy { s.contains($0) }
        }
        XCTAssertTrue(s.contains("A shapes") && s.contains("B shapes-q8_0"), s)
        quitAndCheckTerminal()
    }
}

extension TmuxAppTests {
    /// A conversation outlives the app: quit, start again with `--resume`, and it is all there (the image, the
    /// task, the turns); Up recalls the last run's question, the follow-up goes on in the same file, and `/save`
    /// writes the Markdown transcript.
    func testAConversationIsKeptAndResumed() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        try launch("", image: root.appendingPathComponent("examples/three-shapes.png").path)
        waitFor("the model") { $0.contains("shapes is ready") }
        waitFor("the image") { $0.contains("three-shapes.png 512x512") }
        for line in ["/set temperature 0", "/task vqa", "how many objects are there?"] {
            type(line)
            key("Enter")
        }
        waitFor("the answer") { s in self.lastExchange(s) == ("[vqa] how many objects are there?", "3") && s.contains("Enter sends") }
        quitAndCheckTerminal()
        waitFor("where it was saved, on the terminal") { $0.contains("\n(glimpse --resume takes it up again)") }

        let listed = try history("--json")
        XCTAssertEqual(listed.count, 1, "one conversation in the history")
        let id = try XCTUnwrap(listed.first?["id"] as? String)
        XCTAssertEqual(listed.first?["firstQuestion"] as? String, "[vqa] how many objects are there?")

        _ = tmux("kill-session", "-t", session)
        try FileManager.default.removeItem(atPath: sttyAfter)
        startSession("stty -g > \(sttyBefore); TERM=xterm-256color GLIMPSE_MODELS=\(tmp.path) XDG_DATA_HOME=\(tmp.path)/data "
                     + "XDG_STATE_HOME=\(tmp.path)/state \(BadInputTests.binary) --resume; echo EXITED $?; stty -g > \(sttyAfter); sleep 60")
        waitFor("the resumed conversation") { s in
            s.contains("Resumed the conversation") && s.contains("shapes is ready") && s.contains("three-shapes.png 512x512")
                && self.lastExchange(s) == ("[vqa] how many objects are there?", "3")
        }
        key("Up")
        waitFor("the last run's question in the input") { $0.contains(" [vqa] how many objects are there?\n") }
        key("C-u")
        type("is there a red circle?")
        key("Enter")
        waitFor("the follow-up in VQA mode") { s in self.lastExchange(s).question == "[vqa] is there a red circle?"
            && !self.lastExchange(s).answer.isEmpty && s.contains("Enter sends") }
        type("/search red circ")
        key("Enter")
        waitFor("the search result") { $0.contains("1 conversation with \"red circ\"") && $0.contains("You: [vqa] is there a [red] [circle]?") }
        key("Escape")
        waitFor("the picker closed") { !$0.contains("conversation with") }
        let transcript = tmp.appendingPathComponent("chat.md").path
        type("/save \(transcript)")
        key("Enter")
        waitFor("the transcript saved") { $0.contains("Saved the conversation") }
        let markdown = try String(contentsOfFile: transcript, encoding: .utf8)
        XCTAssertTrue(markdown.contains("**You:** [vqa] how many objects are there?\n\n**shapes:** 3\n"), markdown)
        XCTAssertTrue(markdown.contains("**You:** [vqa] is there a red circle?"), markdown)
        quitAndCheckTerminal()

        XCTAssertEqual(try history("--json").map { $0["id"] as? String }, [id], "the follow-up went into the same conversation")
        XCTAssertEqual(try history("--json").first?["questions"] as? Int, 2)
        XCTAssertTrue(try historyText("--show", id).contains("**You:** [vqa] is there a red circle?"))
    }
}

extension TmuxAppTests {
    /// MiniGPT-4 (the random-weight Vicuna v0 + Q-Former pair the setup converts) in the app: it loads with its
    /// projector found beside it, the task selector offers Chat alone and `/task vqa` is refused with the reason,
    /// and a question about the image is answered in Chat mode.
    func testMiniGPT4ChatsAboutAnImageInChatModeOnly() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        try launch("--model \(BadInputTests.models)/test-minigpt4.gguf", image: root.appendingPathComponent("examples/three-shapes.png").path)
        let ready = waitFor("the model") { $0.contains("test-minigpt4 is ready") && $0.contains("three-shapes.png 512x512") }
        let bar = ready.split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertTrue(bar.contains("Chat"), bar)
        XCTAssertFalse(bar.contains("VQA") || bar.contains("Grounding"), "no task tags offered: \(bar)")
        type("/task vqa")
        key("Enter")
        waitFor("the refusal") { $0.contains("takes no task tags") }
        for line in ["/set temperature 0", "/set max-tokens 12", "what is in the picture?"] {
            type(line)
            key("Enter")
        }
        waitFor("the answer") { s in
            let (question, answer) = self.lastExchange(s)
            return question == "what is in the picture?" && !answer.isEmpty && s.contains("Enter sends")
        }
        quitAndCheckTerminal()
    }
}
