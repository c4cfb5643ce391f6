import Foundation
import XCTest

/// Every way the app can end gives the terminal back as it was (`stty -g` equal before and after) and keeps the
/// conversation: a kill -TERM mid-answer and a closed terminal (SIGHUP) save and quit; a crash (SIGSEGV,
/// SIGABRT) restores the terminal, says where its note is, and the next start mentions it once; a damaged
/// history database is named and the conversation goes to a JSON file that the history takes in later.
extension TmuxAppTests {
    /// The app's process: the child of the pane's shell.
    func appPID() -> pid_t? {
        let shell = tmux("display-message", "-p", "-t", session, "#{pane_pid}").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let f = popen("pgrep -P \(shell) -x glimpse", "r") else { return nil }
        defer { pclose(f) }
        var line = [CChar](repeating: 0, count: 64)
        guard fgets(&line, 64, f) != nil else { return nil }
        return pid_t(String(cString: line).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    var image: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/three-shapes.png").path
    }

    func askAndWaitForTheAnswerToStart(_ question: String) {
        waitFor("the model") { $0.contains("shapes is ready") }
        type("/set max-tokens 400")
        key("Enter")
        type(question)
        key("Enter")
        // One capture is enough here (waitFor wants the screen settled, and a streaming answer never is).
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && !screen.contains("Esc stops") { usleep(20_000) }
        XCTAssertTrue(screen.contains("Esc stops") || screen.contains("Enter sends"), screen)
    }

    func assertTerminalRestored(file: StaticString = #filePath, line: UInt = #line) {
        waitFor("stty", file: file, line: line) { _ in FileManager.default.fileExists(atPath: self.sttyAfter) }
        XCTAssertEqual(try? String(contentsOfFile: sttyBefore, encoding: .utf8), try? String(contentsOfFile: sttyAfter, encoding: .utf8),
                       "terminal settings restored", file: file, line: line)
    }

    func testKillTermMidAnswerSavesAndRestoresTheTerminal() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        try launch("--graphics symbols", image: image)
        askAndWaitForTheAnswerToStart("describe the image")
        let pid = try XCTUnwrap(appPID())
        kill(pid, SIGTERM)
        waitFor("a clean exit") { $0.contains("EXITED 0") && $0.contains("(glimpse --resume takes it up again)") }
        assertTerminalRestored()
        let listed = try history()
        XCTAssertEqual(listed.first?["firstQuestion"] as? String, "describe the image")
        let id = try XCTUnwrap(listed.first?["id"] as? String)
        XCTAssertTrue(try historyText("--show", id).contains("**shapes:** "), "the answer so far is kept")
    }

    func testACrashRestoresTheTerminalAndLeavesANote() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        for (signal, name) in [(SIGSEGV, "SIGSEGV"), (SIGABRT, "SIGABRT")] {
            _ = tmux("kill-session", "-t", session)
            try? FileManager.default.removeItem(atPath: sttyAfter)
            try launch("--graphics symbols", image: image)
            waitFor("the model") { $0.contains("shapes is ready") }
            let pid = try XCTUnwrap(appPID())
            kill(pid, signal)
            let s = waitFor("the crash message and the shell") { $0.contains("Glimpse crashed (\(name)") && $0.contains("EXITED \(128 + signal)") }
            XCTAssertTrue(s.contains("a note is in \(tmp.path)/state/glimpse/crash.txt"), s)
            assertTerminalRestored()
            let note = try String(contentsOfFile: tmp.path + "/state/glimpse/crash.txt", encoding: .utf8)
            XCTAssertTrue(note.hasPrefix("Glimpse crashed: signal \(signal), \(name)"), note)
            XCTAssertTrue(note.contains("backtrace:\n"), note)
        }
        // The next start says so once, and keeps the note under a dated name.
        _ = tmux("kill-session", "-t", session)
        try? FileManager.default.removeItem(atPath: sttyAfter)
        try launch("--graphics symbols", image: image)
        waitFor("the notice of the crash") { $0.contains("The last run ended in a crash") && $0.contains("shapes is ready") }
        let kept = try FileManager.default.contentsOfDirectory(atPath: tmp.path + "/state/glimpse")
        XCTAssertFalse(kept.contains("crash.txt"))
        XCTAssertEqual(kept.filter { $0.hasPrefix("crash-") }.count, 1, "\(kept)")
        quitAndCheckTerminal()
    }

    func testAClosedTerminalSavesTheConversation() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        try launch("--graphics symbols", image: image)
        askAndWaitForTheAnswerToStart("describe the image")
        let pid = try XCTUnwrap(appPID())
        _ = tmux("kill-session", "-t", session)   // the window closes: SIGHUP, and the terminal is gone
        let deadline = Date().addingTimeInterval(10)
        while kill(pid, 0) == 0 && Date() < deadline { usleep(50_000) }
        XCTAssertNotEqual(kill(pid, 0), 0, "the app ended with its terminal")
        XCTAssertEqual(try history().first?["firstQuestion"] as? String, "describe the image")
    }

    func testADamagedHistoryIsNamedAndNothingIsLost() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        let database = tmp.path + "/data/glimpse/history.sqlite"
        try FileManager.default.createDirectory(atPath: tmp.path + "/data/glimpse", withIntermediateDirectories: true)
        try Data(repeating: 0x42, count: 4096).write(to: URL(fileURLWithPath: database))
        try launch("--graphics symbols", image: image)
        waitFor("the message") { $0.contains("History is off") && $0.contains("is damaged") && $0.contains("shapes is ready") }
        type("/task vqa")
        key("Enter")
        type("what color is the star?")
        key("Enter")
        waitFor("the answer") { s in self.lastExchange(s).question == "[vqa] what color is the star?" && s.contains("Enter sends") }
        quitAndCheckTerminal()
        let files = try FileManager.default.contentsOfDirectory(atPath: tmp.path + "/data/glimpse/conversations")
        XCTAssertEqual(files.filter { $0.hasSuffix(".json") }.count, 1, "kept as a JSON file meanwhile")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: database)), Data(repeating: 0x42, count: 4096), "left as it was")
        // The damaged file moved away, the history starts anew and takes the conversation in.
        try FileManager.default.moveItem(atPath: database, toPath: database + ".damaged")
        XCTAssertEqual(try history().first?["firstQuestion"] as? String, "[vqa] what color is the star?")
    }
}
