import Foundation
import UI
import XCTest

final class ThemeTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("themes")

    func testShippedThemesLoad() throws {
        for name in ["dark", "light", "high-contrast", "mono"] {
            let t = try Theme.load(path: Self.folder.appendingPathComponent("\(name).toml").path)
            XCTAssertEqual(t.name, name)
            XCTAssertFalse(t.boxes.isEmpty)
        }
        XCTAssertEqual(try Theme.load(path: Self.folder.appendingPathComponent("dark.toml").path).boxes, Theme.dark.boxes)
        XCTAssertEqual(try Theme.load(path: Self.folder.appendingPathComponent("mono.toml").path).base, Theme.mono.base)
        XCTAssertEqual(try Theme.load(path: Self.folder.appendingPathComponent("light.toml").path).accent.foreground, .rgb(0x0B, 0x62, 0xA4))
    }

    func testBadThemesNameTheProblem() {
        func message(_ text: String) -> String {
            do { _ = try Theme.parse(text, name: "t", source: "t.toml"); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertTrue(message("base = { fg = 300 }").contains("300 of 'base' is not 0...255"))
        XCTAssertTrue(message("bsae = { fg = 1 }").contains("unknown role 'bsae'"))
        XCTAssertTrue(message("base = { fg = \"#12345\" }").contains("not \"#rrggbb\""))
        XCTAssertTrue(message("base = { colour = 1 }").contains("unknown attribute 'colour'"))
        XCTAssertTrue(message("base = {\n fg = ").hasPrefix("t.toml:"), message("base = {\n fg = "))
    }
}
