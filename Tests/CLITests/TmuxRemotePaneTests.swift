import Foundation
import XCTest

/// Remote panes in the app under tmux: a model behind `glimpse serve` beside the same model in-process, a pane on
/// a dead server, and Esc on a remote answer.
extension TmuxAppTests {
    /// Starts `glimpse serve --port 0 ARGS`; returns the process and its port.
    func startServe(_ args: [String]) throws -> (Process, Int) {
        let log = tmp.appendingPathComponent("serve-\(UUID().uuidString).log")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: BadInputTests.binary)
        p.arguments = ["serve", "--port", "0"] + args
        p.standardOutput = try FileHandle(forWritingTo: log)
        p.standardError = p.standardOutput
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && p.isRunning {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let r = text.range(of: #"127\.0\.0\.1:(\d+)/v1"#, options: .regularExpression) {
                let port = Int(text[r].dropFirst("127.0.0.1:".count).dropLast(3))!
                return (p, port)
            }
            usleep(20_000)
        }
        p.terminate()
        throw XCTSkip("glimpse serve did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    func testARemotePaneBesideALocalOne() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        let (server, port) = try startServe([])
        defer { server.terminate(); server.waitUntilExit() }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        try launch("--compare shapes,http://127.0.0.1:\(port)/v1#shapes,http://127.0.0.1:1/v1#gone",
                   image: root.appendingPathComponent("examples/three-shapes.png").path)
        // The dead server's pane says why at once; the others load.
        waitFor("the dead server's message") { $0.contains("refused the connection") }
        waitFor("both models") { $0.components(separatedBy: "Model shapes is ready").count == 3 }
        let header = waitFor("the remote pane's header") { $0.contains("B shapes @ 127.0.0.1:\(port)") }
        XCTAssertTrue(header.contains("C gone @ 127.0.0.1:1"), header)
        type("/set temperature 0")
        key("Enter")
        type("/task grounding")
        key("Enter")
        key("Enter")  // "describe this image in detail" to every pane
        let s = waitFor("both answers and both sets of boxes") { s in
            s.components(separatedBy: "[grounding] describe this image in").count >= 3 && s.contains("Enter sends")
                && ["A1", "B1"].allSatisfy { s.contains($0) }
        }
        XCTAssertTrue(s.contains("B shapes @ 127.0.0.1:\(port)"), s)
        quitAndCheckTerminal()
    }

    /// A remote answer that would run for long stops on Esc, and the pane asks again.
    func testEscStopsARemoteAnswer() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        let (server, port) = try startServe(["-m", "\(BadInputTests.models)/test-minigptv2.gguf"])
        defer { server.terminate(); server.waitUntilExit() }
        let image = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/images/baseline.jpg").path
        try launch("--model http://127.0.0.1:\(port)/v1#test-minigptv2", image: image)
        waitFor("the model") { $0.contains("test-minigptv2 is ready") }
        type("/set max-tokens 3000")
        key("Enter")
        type("tell me everything")
        key("Enter")
        waitFor("streaming") { $0.contains("Esc stops") }
        let t0 = Date()
        key("Escape")
        waitFor("the stop") { $0.contains("Enter sends") }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 5, "Esc stops a remote answer at once")
        type("again")
        key("Enter")
        waitFor("a second answer streaming") { $0.contains("Esc stops") }
        key("Escape")
        waitFor("the second stop") { $0.contains("Enter sends") }
        quitAndCheckTerminal()
    }
}
