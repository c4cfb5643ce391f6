import ArgumentParser
import Engine
import Foundation
import ImagePreview
import Models
import Tasks
import UI
import Vision

/// `glimpse bench-ui`: frame time of the app's update + render while an answer streams with an image in view.
struct BenchUI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-ui", abstract: "Measure the app's frame time (update + render into the screen buffer).")

    @Option(help: "Frames to measure per size.")
    var frames = 2000
    @Flag(help: "Also measure keystroke-to-screen time while the built-in model answers on every core.")
    var latency = false

    func run() async throws {
        try frameTimes()
        pixelModes()
        if latency { try await keystrokeLatency() }
    }

    /// Keystrokes typed while the engine generates answer after answer (all cores busy): the time from a key
    /// event to the new screen being rendered, the app's own part of the latency. The run loop's input polling
    /// (at most 8 ms) and the terminal's drawing come on top.
    func keystrokeLatency() async throws {
        let entry: ModelEntry
        do { entry = try ModelCatalog.current().resolve(nil) } catch { throw fail("\(error)") }
        let engine = Engine(threads: ProcessInfo.processInfo.activeProcessorCount)
        try await engine.load(path: entry.path, mmproj: entry.mmproj, contextSize: 2048)
        let image = RGBImage(width: 448, height: 448, pixels: BenchUI.scene())
        let tokens = Counter()
        let generating = Task.detached {
            while !Task.isCancelled {
                let request = GenerationRequest(prompt: .chat([ChatMessage(.user, "[grounding] describe this image in detail")]),
                                                images: [image], sampling: SamplingParameters(), maxTokens: 200)
                for await event in await engine.generate(request) { if case .token = event { tokens.add() } }
                await engine.resetConversation()
            }
        }
        var s = AppState(width: 120, height: 40, models: [entry])
        s.selectedModel = 0
        _ = s.update(.modelReady(entry.name))
        var times: [Double] = []
        let text = Array("what color is the star? ")
        try await Task.sleep(for: .milliseconds(500))
        for i in 0 ..< 1000 {
            let t = DispatchTime.now().uptimeNanoseconds
            _ = s.update(.key(.character(text[i % text.count])))
            let screen = s.render()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
            if screen.width == 0 { print("") }
            if i % text.count == text.count - 1 { _ = s.update(.key(.ctrl("u"))) }
            try await Task.sleep(for: .milliseconds(5))
        }
        generating.cancel()
        await engine.stopRunning()
        times.sort()
        print(String(format: "\nkeystroke to rendered screen at 120x40 while %@ generates (%d tokens meanwhile): mean %.2f ms, p99 %.2f ms, max %.2f ms",
                     entry.name, tokens.value, times.reduce(0, +) / Double(times.count), times[Int(Double(times.count) * 0.99)], times.last!))
    }

    func frameTimes() throws {
        let pixels = BenchUI.scene()
        print("| size | frames | mean ms | p99 ms | max ms |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for (w, h) in [(120, 40), (200, 60)] {
            var s = AppState(width: w, height: h, models: [ModelEntry(name: "bench", path: "/dev/null")])
            s.selectedModel = 0
            _ = s.update(.modelReady("bench"))
            for effect in s.update(.imageAttached(ImageEntry(name: "scene.png", path: "/x", width: 448, height: 448))) {
                if case .renderPreview(let i, let pw, let ph) = effect {
                    _ = s.update(.preview(image: i, ChafaPreview.render(pixels: pixels, imageWidth: 448, imageHeight: 448,
                                                                        width: pw, height: ph, depth: .trueColor)))
                }
            }
            for ch in "[grounding] describe this image in detail" { _ = s.update(.key(.character(ch))) }
            _ = s.update(.key(.enter))
            let pieces = ["a ", "<p>", "large red", " circle", "</p> ", "{<10>", "<10><40><40>}", " next to ", "<p>a small",
                          " blue star</p>", " {<60><55><75><70>}", " on a grey background. "]
            var times: [Double] = []
            for i in 0 ..< frames {
                let t = DispatchTime.now().uptimeNanoseconds
                _ = s.update(.token(generation: 1, text: pieces[i % pieces.count]))
                let screen = s.render()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
                if screen.width == 0 { print("") }
            }
            times.sort()
            let mean = times.reduce(0, +) / Double(times.count)
            print(String(format: "| %dx%d | %d | %.2f | %.2f | %.2f |", w, h, frames, mean,
                         times[Int(Double(times.count) * 0.99)], times.last!))
        }
        print("(terminal output time not included: it depends on the terminal; the answer grows to \(frames) pieces)")
    }

    /// The pixel preview: compose (scale, boxes, labels) and encode for each protocol, as the app does off the
    /// main thread when the image or its boxes change (once per grounding answer), and the bytes written.
    func pixelModes() {
        let flat = RGBImage(width: 448, height: 448, pixels: BenchUI.scene())
        var photo = [UInt8](repeating: 0, count: 1024 * 768 * 3)
        var seed: UInt64 = 7
        for i in 0 ..< photo.count {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            photo[i] = UInt8(truncatingIfNeeded: (i / 3 % 1024) / 5 + (i / 3 / 1024) / 5 + Int(seed >> 60))
        }
        let images = [("448x448 flat scene", flat), ("1024x768 noisy gradient", RGBImage(width: 1024, height: 768, pixels: photo))]
        print("\n| terminal | cells (px) | image | protocol | compose + encode ms (mean of 10) | bytes per image |")
        print("| --- | --- | --- | --- | ---: | ---: |")
        for (w, h, cell) in [(120, 40, CellSize(width: 10, height: 20)), (200, 60, CellSize(width: 10, height: 20))] {
            for (name, image) in images {
                var s = AppState(width: w, height: h, models: [ModelEntry(name: "bench", path: "/dev/null")])
                s.graphics = .sixel
                s.cellSize = cell
                for effect in s.update(.imageAttached(ImageEntry(name: "scene.png", path: "/x", width: image.width, height: image.height))) {
                    if case .renderPreview(let i, let pw, let ph) = effect {
                        let fit = ChafaPreview.fit(imageWidth: image.width, imageHeight: image.height, width: pw, height: ph, cellRatio: cell.ratio)
                        _ = s.update(.preview(image: i, PreviewCells(width: fit.width, height: fit.height, cells: [], areaWidth: pw, areaHeight: ph)))
                    }
                }
                var placement = s.render().pixelImage!
                placement.boxes = [PixelBox(box: Box(10, 10, 40, 40), label: "1", color: .rgb(255, 200, 0)),
                                   PixelBox(box: Box(60, 55, 75, 70), label: "2", color: .rgb(0, 200, 255))]
                for graphics in [GraphicsProtocol.kitty, .sixel, .iterm] {
                    var bytes = 0
                    let start = DispatchTime.now().uptimeNanoseconds
                    for _ in 0 ..< 10 { bytes = PixelPresenter.encode(image, placement, graphics: graphics, cell: cell).bytes.count }
                    let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / 10
                    print(String(format: "| %dx%d | %dx%d (%dx%d) | %@ | %@ | %.1f | %d |", w, h, placement.rect.width, placement.rect.height,
                                 placement.rect.width * cell.width, placement.rect.height * cell.height, name, graphics.rawValue, ms, bytes))
                }
            }
        }
        print("(one image is written per change of image, boxes or layout: a grounding answer costs one; keystrokes none)")
    }

    static func scene() -> [UInt8] {
        var p = [UInt8](repeating: 180, count: 448 * 448 * 3)
        for y in 0 ..< 448 { for x in 0 ..< 448 where (x - 120) * (x - 120) + (y - 120) * (y - 120) < 80 * 80 {
            p[3 * (y * 448 + x)] = 215; p[3 * (y * 448 + x) + 1] = 45; p[3 * (y * 448 + x) + 2] = 45
        } }
        return p
    }
}

/// A count shared with the generating task.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
