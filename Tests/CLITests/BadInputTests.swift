import Foundation
import XCTest

/// Every bad input gets one line on stderr and a non-zero exit: never a crash, a hang or a stack of usage text.
final class BadInputTests: XCTestCase {
    static let models = ProcessInfo.processInfo.environment["GLIMPSE_TEST_MODELS"]
        ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/glimpse/test-models"

    /// The `glimpse` executable sits beside the test bundle in the build folder.
    static var binary: String {
        var dir = Bundle(for: BadInputTests.self).bundleURL.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("glimpse").path) {
            dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/release")
        }
        return dir.appendingPathComponent("glimpse").path
    }

    struct Outcome { let status: Int32; let stdout: String; let stderr: String; let signaled: Bool }

    /// Runs a shell command line with `$GLIMPSE` set to the binary (so tests can pass raw, non-UTF-8 bytes).
    func run(_ script: String, timeout: TimeInterval = 60) throws -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", script]
        var env = ProcessInfo.processInfo.environment
        env["GLIMPSE"] = Self.binary
        env["GLIMPSE_MODEL"] = Self.models + "/tiny-llama-q8_0.gguf"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate(); XCTFail("hung: \(script)") }
        p.waitUntilExit()
        return Outcome(status: p.terminationStatus,
                       stdout: String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                       stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                       signaled: p.terminationReason == .uncaughtSignal)
    }

    func assertOneLineFailure(_ script: String, mentions: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let o = try run(script)
        XCTAssertFalse(o.signaled, "crashed: \(script)", file: file, line: line)
        XCTAssertNotEqual(o.status, 0, "succeeded: \(script)", file: file, line: line)
        let lines = o.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        XCTAssertEqual(lines.count, 1, "stderr of \(script):\n\(o.stderr)", file: file, line: line)
        XCTAssertTrue(o.stderr.hasPrefix("glimpse: "), o.stderr, file: file, line: line)
        XCTAssertTrue(o.stderr.contains(mentions), "expected '\(mentions)' in: \(o.stderr)", file: file, line: line)
    }

    func testBadModelFiles() throws {
        let tmp = FileManager.default.temporaryDirectory.path
        try assertOneLineFailure(#"$GLIMPSE ask -m /no/such/model.gguf hi"#, mentions: "/no/such/model.gguf: cannot open")
        try assertOneLineFailure(#"echo 'not a model' > \#(tmp)/text.gguf; $GLIMPSE ask -m \#(tmp)/text.gguf hi"#,
                                 mentions: "not a GGUF file")
        try assertOneLineFailure(#"head -c 4000 \#(Self.models)/tiny-llama-q8_0.gguf > \#(tmp)/cut.gguf; $GLIMPSE info \#(tmp)/cut.gguf"#,
                                 mentions: "truncated")
        try assertOneLineFailure(#"$GLIMPSE ask -m \#(Self.models)/vocab/ggml-vocab-gpt-2.gguf hi"#,
                                 mentions: "unsupported architecture 'gpt2'")
        try assertOneLineFailure(#"$GLIMPSE ask -m \#(Self.models)/vocab/ggml-vocab-llama-spm.gguf hi"#,
                                 mentions: "missing tensor 'token_embd.weight'")
        try assertOneLineFailure(#"$GLIMPSE ask -m \#(tmp) hi"#, mentions: "not a regular file")
        // A qwen2 file whose layer 1 lost a bias (its name changed, same length, so the file stays well formed).
        try assertOneLineFailure(#"perl -pe 's/blk\.1\.attn_k\.bias/blk.1.attn_k.bibs/' \#(Self.models)/tiny-qwen2-q8_0.gguf > \#(tmp)/nobias.gguf; "#
                                 + #"$GLIMPSE ask -m \#(tmp)/nobias.gguf hi"#, mentions: "qwen2 layer 1 lacks its attn_q/k/v.bias")
    }

    func testBadPromptsAndOptions() throws {
        try assertOneLineFailure(#"$GLIMPSE ask -c 16 --raw "$(printf 'word %.0s' {1..40})""#, mentions: "context holds 16")
        try assertOneLineFailure(#"$GLIMPSE ask --template nonsense hi"#, mentions: "unknown template 'nonsense'")
        try assertOneLineFailure(#"$GLIMPSE ask "$(printf 'caf\351')""#, mentions: "not valid UTF-8")
        try assertOneLineFailure(#"$GLIMPSE ask --temp=-1 hi"#, mentions: "--temp")
        try assertOneLineFailure(#"$GLIMPSE ask --top-p 0 hi"#, mentions: "--top-p")
    }

    func testBadImagesAndProjectors() throws {
        let m = Self.models, images = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/images").path
        let pair = "-m \(m)/test-minigptv2.gguf --mmproj \(m)/test-minigptv2-mmproj.gguf"
        try assertOneLineFailure(#"$GLIMPSE ask -m \#(m)/tiny-llama-q8_0.gguf --image \#(images)/rgb.png hi"#, mentions: "needs a vision projector")
        try assertOneLineFailure(#"$GLIMPSE ask \#(pair) --image \#(images)/text.txt.bad hi"#, mentions: "not a JPEG or PNG image")
        try assertOneLineFailure(#"$GLIMPSE ask \#(pair) --image \#(images)/truncated.jpg.bad hi"#, mentions: "truncated JPEG")
        try assertOneLineFailure(#"$GLIMPSE ask \#(pair) --image /no/such.png hi"#, mentions: "/no/such.png: no such file")
        try assertOneLineFailure(#"$GLIMPSE ask \#(pair) "<Img><ImageHere></Img> what?""#, mentions: "image marker")
        try assertOneLineFailure(#"$GLIMPSE ask -m \#(m)/test-minigptv2-mmproj.gguf hi"#, mentions: "vision projector (mmproj) file")
        try assertOneLineFailure(#"$GLIMPSE ask -m \#(m)/gemma-3-270m-q8_0.gguf --mmproj \#(m)/test-minigptv2-mmproj.gguf hi"#,
                                 mentions: "not a pair")
        try assertOneLineFailure(#"$GLIMPSE ask --mmproj \#(m)/tiny-llama-q8_0.gguf hi"#, mentions: "not a vision projector")
        // MiniGPT-4's Q-Former: keys the tensors contradict, a tensor left out, a projector for another model.
        let minigpt4 = "-m \(m)/test-minigpt4.gguf --image \(images)/rgb.png"
        try assertOneLineFailure(#"$GLIMPSE ask \#(minigpt4) --mmproj \#(m)/bad-qformer-freq-mmproj.gguf hi"#,
                                 mentions: "Q-Former layer 2 has cross-attention tensors, but cross_attention_freq 3 says it does not")
        try assertOneLineFailure(#"$GLIMPSE ask \#(minigpt4) --mmproj \#(m)/bad-qformer-missing-mmproj.gguf hi"#,
                                 mentions: "missing tensor 'mm.qformer.blk.1.attn_q.weight'")
        try assertOneLineFailure(#"$GLIMPSE ask -m \#(m)/gemma-3-270m-q8_0.gguf --mmproj \#(m)/test-minigpt4-mmproj.gguf hi"#,
                                 mentions: "not a pair")
    }

    func testBatchGoesOnPastBadLines() throws {
        let m = Self.models, images = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/images").path
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(getpid()).jsonl").path
        let lines = [#"{"id": "1", "image": "\#(images)/baseline.jpg", "prompt": "[vqa] what?"}"#,
                     #"{"id": "2", "image": "\#(images)/missing.png", "prompt": "[vqa] what?"}"#,
                     "not json",
                     #"{"id": "4", "image": "\#(images)/rgb.png", "prompt": "[refer] the red square"}"#]
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let o = try run(#"$GLIMPSE ask -m \#(m)/test-minigptv2.gguf --mmproj \#(m)/test-minigptv2-mmproj.gguf --batch \#(file) -n 3 --temp 0"#,
                        timeout: 120)
        XCTAssertEqual(o.status, 0, o.stderr)
        let answers = o.stdout.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(answers.count, 4)
        XCTAssertEqual(answers[0]?["id"] as? String, "1")
        XCTAssertNotNil(answers[0]?["text"])
        XCTAssertTrue((answers[1]?["error"] as? String)?.contains("missing.png: no such file") ?? false)
        XCTAssertEqual(answers[2]?["line"] as? Int, 3)
        XCTAssertEqual(answers[3]?["id"] as? String, "4")
    }

    func testGoodRunsStillWork() throws {
        let o = try run(#"$GLIMPSE ask --raw --temp 0 -n 8 --json "Hello""#)
        XCTAssertEqual(o.status, 0, o.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as? [String: Any]
        XCTAssertNotNil(json?["text"] as? String)
        let stats = json?["stats"] as? [String: Any]
        XCTAssertEqual(stats?["generated_tokens"] as? Int, 8)
        let info = try run(#"$GLIMPSE info "$GLIMPSE_MODEL""#)
        XCTAssertEqual(info.status, 0)
        XCTAssertTrue(info.stdout.contains("architecture:  llama"), info.stdout)
        XCTAssertTrue(info.stdout.contains("Q8_0"), info.stdout)
    }
}
