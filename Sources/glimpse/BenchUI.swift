import ArgumentParser
import Foundation
import ImagePreview
import Tasks
import UI
import Vision

/// `glimpse bench-ui`: frame time of the app's update + render while an answer streams with an image in view.
struct BenchUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-ui", abstract: "Measure the app's frame time (update + render into the screen buffer).")

    @Option(help: "Frames to measure per size.")
    var frames = 2000

    func run() throws {
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

    static func scene() -> [UInt8] {
        var p = [UInt8](repeating: 180, count: 448 * 448 * 3)
        for y in 0 ..< 448 { for x in 0 ..< 448 where (x - 120) * (x - 120) + (y - 120) * (y - 120) < 80 * 80 {
            p[3 * (y * 448 + x)] = 215; p[3 * (y * 448 + x) + 1] = 45; p[3 * (y * 448 + x) + 2] = 45
        } }
        return p
    }
}
