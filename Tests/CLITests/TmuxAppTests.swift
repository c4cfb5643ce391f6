import Foundation
import XCTest

/// The terminal app end to end under tmux, on the MiniGPT-v2 test checkpoint (random weights, real shapes):
/// start with an image, ask in every task mode, resize mid-answer, stop with Esc, quit, and check that the
/// terminal settings are restored. It waits for the screen to show each expected state; it never sleeps blindly.
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

    /// Polls the screen until `predicate` holds (every 50 ms, up to `timeout`).
    @discardableResult
    func waitFor(_ what: String, timeout: TimeInterval = 60, file: StaticString = #filePath, line: UInt = #line,
                 _ predicate: (String) -> Bool) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = screen
            if predicate(last) { return last }
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

    func testChatAboutAnImageInEveryTaskMode() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        let m = BadInputTests.models
        let image = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/images/baseline.jpg").path
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        let before = tmp.appendingPathComponent("stty-before").path, after = tmp.appendingPathComponent("stty-after").path
        let command = "stty -g > \(before); TERM=xterm-256color GLIMPSE_MODELS=\(tmp.path) \(BadInputTests.binary) " +
            "--model \(m)/test-minigptv2.gguf \(image); echo EXITED $?; stty -g > \(after); sleep 60"
        startSession(command)

        waitFor("the model") { $0.contains("test-minigptv2 is ready") }
        waitFor("the image") { $0.contains("baseline.jpg 37x23") }
        type("/set max-tokens 6")
        key("Enter")
        for task in ["vqa", "caption", "grounding", "refer", "detection", "identify"] {
            type("/task \(task)")
            key("Enter")
            key("C-u")
            type("what is this \(task)?")
            key("Enter")
            // Sent (the input line is empty again), answered (6 tokens) and finished (Enter sends).
            waitFor("the \(task) answer") { s in
                let lines = s.split(separator: "\n", omittingEmptySubsequences: false)
                let inputLine = lines.count >= 3 ? lines[lines.count - 3] : ""
                return !inputLine.contains("what is this") && s.contains("[\(task)] what is this \(task)?")
                    && s.contains("gen 6") && s.contains("Enter sends")
            }
        }
        // Resize while an answer streams, then stop it.
        type("/set max-tokens 400")
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
        key("C-c")
        waitFor("the exit") { $0.contains("EXITED 0") }
        waitFor("stty") { _ in FileManager.default.fileExists(atPath: after) }
        XCTAssertEqual(try String(contentsOfFile: before, encoding: .utf8), try String(contentsOfFile: after, encoding: .utf8),
                       "terminal settings restored")
    }
}
