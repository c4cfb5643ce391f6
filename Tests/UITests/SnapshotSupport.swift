import Foundation
import UI
import XCTest

/// Whole-screen snapshots as text. `GLIMPSE_RECORD_SNAPSHOTS=1 swift test` writes them; review, then commit.
func assertSnapshot(_ screen: Screen, named name: String, file: StaticString = #filePath, line: UInt = #line) {
    let url = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Snapshots/\(name).txt")
    let text = screen.text + "\n"
    if ProcessInfo.processInfo.environment["GLIMPSE_RECORD_SNAPSHOTS"] == "1" {
        try? text.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        XCTFail("no snapshot \(name): record with GLIMPSE_RECORD_SNAPSHOTS=1", file: file, line: line)
        return
    }
    if expected != text {
        XCTFail("screen differs from snapshot \(name):\n\(text)", file: file, line: line)
    }
}

/// A deterministic image preview: a gradient of block cells the size chafa gives a square image in that area
/// (cells are about twice as tall as wide).
func fakePreview(width areaWidth: Int, height areaHeight: Int) -> PreviewCells {
    let height = min(areaHeight, (areaWidth + 1) / 2), width = min(areaWidth, 2 * height)
    var cells: [Cell] = []
    for y in 0 ..< height {
        for x in 0 ..< width {
            cells.append(Cell("░", style: Style(foreground: .rgb(UInt8(x * 4 % 256), UInt8(y * 8 % 256), 128))))
        }
    }
    return PreviewCells(width: width, height: height, cells: cells, areaWidth: areaWidth, areaHeight: areaHeight)
}

extension AppState {
    /// Feeds events, answering preview requests with a fake preview (as the app would with chafa).
    mutating func send(_ events: AppEvent...) -> [Effect] {
        var effects: [Effect] = []
        for e in events {
            for effect in update(e) {
                if case .renderPreview(let i, let w, let h) = effect {
                    _ = update(.preview(image: i, fakePreview(width: w, height: h)))
                } else {
                    effects.append(effect)
                }
            }
        }
        return effects
    }

    mutating func type(_ text: String) {
        for ch in text { _ = update(.key(.character(ch))) }
    }
}
