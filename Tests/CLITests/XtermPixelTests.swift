import Foundation
import XCTest

/// The pixel preview in a real terminal: Debian's xterm, which speaks sixel as a VT340, under Xvfb. The app
/// records the picture it meant to draw (`GLIMPSE_PREVIEW_RECORD`); the test screenshots the X screen with
/// `xwd` and compares the preview's region with that picture. First straight in xterm with the protocol
/// detected from the terminal's answer, then inside tmux with passthrough on, after a grounding answer, boxes
/// and all, and quits to check the terminal is restored.
final class XtermPixelTests: XCTestCase {
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-xterm-\(getpid())")
    let display = ":\(40 + getpid() % 50)"
    let socket = "glimpse-xterm-\(getpid())"
    var server: Process?
    var terminal: Process?

    static let tools = ["/usr/bin/xterm", "/usr/bin/Xvfb", "/usr/bin/xwd", "/usr/bin/tmux"]

    override func setUpWithError() throws {
        for tool in Self.tools where !FileManager.default.isExecutableFile(atPath: tool) {
            throw XCTSkip("\(tool) is not installed (scripts/setup installs xterm, xvfb, x11-apps)")
        }
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        let x = Process()
        x.executableURL = URL(fileURLWithPath: "/usr/bin/Xvfb")
        x.arguments = [display, "-screen", "0", "1200x800x24", "-nolisten", "tcp"]
        x.standardOutput = FileHandle.nullDevice
        x.standardError = FileHandle.nullDevice
        try x.run()
        server = x
        let socketFile = "/tmp/.X11-unix/X\(display.dropFirst())"
        wait("Xvfb's socket") { FileManager.default.fileExists(atPath: socketFile) }
    }

    override func tearDown() {
        let started = Date()
        defer { print(String(format: "xterm test teardown: %.1f s", Date().timeIntervalSince(started))) }
        // tmux first: its server holds the pane (and its `sleep`) after xterm goes.
        _ = system("tmux -L \(socket) kill-server >/dev/null 2>&1")
        terminal?.terminate()
        terminal?.waitUntilExit()
        server?.terminate()
        server?.waitUntilExit()
        try? FileManager.default.removeItem(at: tmp)
    }

    func wait(_ what: String, timeout: TimeInterval = 60, file: StaticString = #filePath, line: UInt = #line, _ done: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if done() { return }
            usleep(50_000)
        }
        XCTFail("timed out waiting for \(what)", file: file, line: line)
    }

    /// xterm as a VT340 with 256 colour registers (its default for sixel is 16), at a fixed font, in the top
    /// left corner without a border, so a cell's pixels are at column x cell width.
    func startXterm(_ command: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/xterm")
        p.arguments = ["-geometry", "110x36+0+0", "-bw", "0", "-b", "0", "-ti", "vt340", "-xrm", "XTerm*decTerminalID: vt340",
                       "-xrm", "XTerm*numColorRegisters: 256", "-fa", "DejaVu Sans Mono", "-fs", "10", "-e", "/bin/bash", "-c", command]
        var env = ProcessInfo.processInfo.environment
        env["DISPLAY"] = display
        env.removeValue(forKey: "TMUX")
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        terminal = p
    }

    var environment: String {
        "GLIMPSE_MODELS=\(tmp.path) XDG_DATA_HOME=\(tmp.path)/data XDG_STATE_HOME=\(tmp.path)/state GLIMPSE_PREVIEW_RECORD=\(tmp.path)/record"
    }

    var image: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/three-shapes.png").path
    }

    struct Record {
        var fields: [String: String]
        var picture: (width: Int, height: Int, rgb: [UInt8])
        func int(_ k: String) -> Int { Int(fields[k] ?? "") ?? -1 }
        var cell: (Int, Int) {
            let p = (fields["cell"] ?? "").split(separator: "x").compactMap { Int($0) }
            return p.count == 2 ? (p[0], p[1]) : (0, 0)
        }
    }

    func record() -> Record? {
        guard let text = try? String(contentsOfFile: tmp.path + "/record/preview.txt", encoding: .utf8),
              let ppm = FileManager.default.contents(atPath: tmp.path + "/record/preview.ppm") else { return nil }
        var fields: [String: String] = [:]
        for kv in text.split(whereSeparator: \.isWhitespace) {
            let p = kv.split(separator: "=", maxSplits: 1)
            if p.count == 2 { fields[String(p[0])] = String(p[1]) }
        }
        guard let picture = Self.ppm([UInt8](ppm)) else { return nil }
        return Record(fields: fields, picture: picture)
    }

    static func ppm(_ b: [UInt8]) -> (width: Int, height: Int, rgb: [UInt8])? {
        var fields: [Int] = [], i = 2
        while fields.count < 3, i < b.count {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A { i += 1 }
            var v = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { v = v * 10 + Int(b[i] - 0x30); i += 1 }
            fields.append(v)
        }
        i += 1
        guard b.starts(with: [0x50, 0x36]), fields.count == 3, b.count - i == fields[0] * fields[1] * 3 else { return nil }
        return (fields[0], fields[1], Array(b[i...]))
    }

    /// The X screen as RGB, from `xwd -root` (ZPixmap, 32 bits a pixel, the byte order it states).
    func screenshot() throws -> (width: Int, height: Int, rgb: [UInt8]) {
        let file = tmp.path + "/shot.xwd"
        XCTAssertEqual(system("DISPLAY=\(display) /usr/bin/xwd -root -silent > \(file)"), 0)
        let d = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        func u32(_ o: Int) -> Int { Int(d[o]) << 24 | Int(d[o + 1]) << 16 | Int(d[o + 2]) << 8 | Int(d[o + 3]) }
        let headerSize = u32(0), width = u32(16), height = u32(20), byteOrder = u32(28), bitsPerPixel = u32(44)
        let bytesPerLine = u32(48), colours = u32(76)
        guard bitsPerPixel == 32 else { throw XCTSkip("xwd wrote \(bitsPerPixel) bits a pixel") }
        let start = headerSize + colours * 12
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0 ..< height {
            for x in 0 ..< width {
                let o = start + y * bytesPerLine + x * 4
                // Least significant byte first: B G R X.
                let (r, g, b) = byteOrder == 0 ? (d[o + 2], d[o + 1], d[o]) : (d[o + 1], d[o + 2], d[o + 3])
                rgb[(y * width + x) * 3] = r; rgb[(y * width + x) * 3 + 1] = g; rgb[(y * width + x) * 3 + 2] = b
            }
        }
        return (width, height, rgb)
    }

    /// The share of the recorded picture's flat pixels (those whose 3x3 neighbourhood is one colour: background,
    /// shapes, box outlines) that the screen shows otherwise, a channel off by more than 40. Sixel's palette moves
    /// the anti-aliased edge pixels by more than that, so they are left out; an image misplaced by two pixels
    /// puts edges onto flat pixels.
    func mismatch(_ r: Record, _ shot: (width: Int, height: Int, rgb: [UInt8]), shift: Int = 0) -> Double {
        let (cw, ch) = r.cell
        let x0 = r.int("column") * cw + shift, y0 = r.int("row") * ch
        let p = r.picture
        guard x0 >= 0, y0 >= 0, x0 + p.width <= shot.width, y0 + p.height <= shot.height else { return 1 }
        var wrong = 0, flat = 0
        func at(_ x: Int, _ y: Int) -> Int { (y * p.width + x) * 3 }
        for y in 1 ..< p.height - 1 {
            for x in 1 ..< p.width - 1 {
                let a = at(x, y)
                let uniform = (-1 ... 1).allSatisfy { dy in (-1 ... 1).allSatisfy { dx in
                    let n = at(x + dx, y + dy)
                    return p.rgb[n] == p.rgb[a] && p.rgb[n + 1] == p.rgb[a + 1] && p.rgb[n + 2] == p.rgb[a + 2]
                } }
                guard uniform else { continue }
                flat += 1
                let b = ((y0 + y) * shot.width + x0 + x) * 3
                if (0 ..< 3).contains(where: { abs(Int(p.rgb[a + $0]) - Int(shot.rgb[b + $0])) > 40 }) { wrong += 1 }
            }
        }
        return Double(wrong) / Double(max(1, flat))
    }

    /// Screenshots until the region matches (the terminal paints a moment after the app writes), or gives up.
    func assertScreenShows(_ r: Record, file: StaticString = #filePath, line: UInt = #line) throws {
        var best = 1.0, shifted = 0.0
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let shot = try screenshot()
            best = min(best, mismatch(r, shot))
            // The control: the same comparison two pixels to the right must fail, or it proves nothing.
            shifted = mismatch(r, shot, shift: 2)
            if best < 0.0005 { break }
            usleep(200_000)
        }
        print(String(format: "xterm sixel preview, %@ boxes, cell %dx%d: %.3f%% of the pixels differ from the composited picture, "
                     + "%.3f%% two pixels to the right", r.fields["boxes"] ?? "?", r.cell.0, r.cell.1, best * 100, shifted * 100))
        // Measured: 0.000% in place; 0.38% (no boxes) and 0.73% (three boxes) two pixels off.
        XCTAssertLessThan(best, 0.0005, "the screenshot's preview region differs from the picture meant (\(r.fields))", file: file, line: line)
        XCTAssertGreaterThan(shifted, 0.002, "a misplaced image would pass", file: file, line: line)
    }

    func testTheSixelPreviewShowsInXtermAndThroughTmux() throws {
        let started = Date()
        defer { print(String(format: "xterm test: %.1f s", Date().timeIntervalSince(started))) }
        // Straight in xterm: the app asks the terminal, which answers as a VT340 with sixel.
        try startXterm("\(environment) \(BadInputTests.binary) \(image)")
        wait("the first preview") { self.record() != nil }
        let first = try XCTUnwrap(record())
        XCTAssertEqual(first.fields["graphics"], "sixel", "detected from xterm's device attributes")
        try assertScreenShows(first)
        terminal?.terminate()
        terminal?.waitUntilExit()
        try FileManager.default.removeItem(atPath: tmp.path + "/record")

        // Inside tmux with passthrough on: tmux cannot say what the terminal is, so sixel is asked for.
        let conf = tmp.path + "/tmux.conf"
        try "set -g allow-passthrough on\nset -g status off\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let stty = tmp.path + "/stty"
        let inner = "stty -g > \(stty)-before; \(environment) \(BadInputTests.binary) --graphics sixel \(image); echo EXITED $?; stty -g > \(stty)-after; sleep 60"
        try startXterm("tmux -L \(socket) -f \(conf) new-session -s x '\(inner)'")
        wait("the preview through tmux") { self.record() != nil }
        XCTAssertEqual(record()?.fields["graphics"], "sixel")
        func keys(_ k: String...) { _ = system("tmux -L \(socket) send-keys -t x " + k.map { "'\($0)'" }.joined(separator: " ")) }
        keys("-l", "/set temperature 0"); keys("Enter")
        keys("-l", "/task grounding"); keys("Enter")
        keys("Enter")  // the pre-filled "describe this image in detail"
        wait("the grounding answer's boxes in the picture") { (self.record()?.int("boxes") ?? 0) >= 3 }
        try assertScreenShows(try XCTUnwrap(record()))
        keys("C-c")
        wait("the exit") { FileManager.default.fileExists(atPath: stty + "-after") }
        XCTAssertEqual(try String(contentsOfFile: stty + "-before", encoding: .utf8), try String(contentsOfFile: stty + "-after", encoding: .utf8))
        var pane = ""
        wait("the shell's screen back") {
            pane = self.capture()
            return pane.contains("EXITED 0")
        }
        XCTAssertFalse(pane.contains("Glimpse"), "the app's screen is gone after quitting: \(pane)")
    }

    func capture() -> String {
        guard let f = popen("tmux -L \(socket) capture-pane -t x -p 2>/dev/null", "r") else { return "" }
        defer { pclose(f) }
        var out = [UInt8](), buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            out += buffer[0 ..< n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
