import UI
import XCTest

final class MarkdownTextTests: XCTestCase {
    let styles = MarkdownText.Styles(text: Style(), code: Style(foreground: .indexed(81)), heading: Style(foreground: .indexed(81), bold: true),
                                     marker: Style(foreground: .indexed(244)))

    func text(_ runs: [(String, Style)]) -> String { runs.map(\.0).joined() }
    func style(of piece: String, in runs: [(String, Style)]) -> Style? { runs.first { $0.0 == piece }?.1 }

    func testStrongCodeHeadingsBulletsAndRules() {
        let answer = "## Three tips\n\n- **Start simple**: boil an egg\n  * use `salt`\n1. taste\n---\nDone."
        let runs = MarkdownText.runs(answer, styles: styles)
        XCTAssertEqual(text(runs), "Three tips\n\n• Start simple: boil an egg\n  • use salt\n1. taste\n───\nDone.")
        XCTAssertEqual(style(of: "Three tips", in: runs), styles.heading)
        XCTAssertEqual(style(of: "Start simple", in: runs), Style(bold: true))
        XCTAssertEqual(style(of: "salt", in: runs), styles.code)
        XCTAssertEqual(style(of: "• ", in: runs), styles.marker)
        XCTAssertEqual(style(of: "───", in: runs), styles.marker)
    }

    func testFencedCodeKeepsItsLinesAndIndentation() {
        let runs = MarkdownText.runs("Try:\n```python\ndef f(x):\n    return x**2  # **not bold**\n```\nok", styles: styles)
        XCTAssertEqual(text(runs), "Try:\n```python\ndef f(x):\n    return x**2  # **not bold**\n```\nok")
        XCTAssertEqual(style(of: "    return x**2  # **not bold**", in: runs), styles.code)
        XCTAssertEqual(style(of: "```python", in: runs), styles.marker)
        XCTAssertEqual(style(of: "ok", in: runs), styles.text, "after the closing fence, text again")
    }

    func testUnclosedAndOrdinaryMarkersStayAsWritten() {
        for plain in ["2 * 3 * 4", "**not closed", "a ` lone tick", "snake_case_name", "#hashtag", "-1 degrees", "**", "a ** b"] {
            XCTAssertEqual(text(MarkdownText.runs(plain, styles: styles)), plain)
        }
    }

    func testWithoutColourCodeKeepsItsBackticks() {
        var mono = styles
        mono.keepsBackticks = true
        XCTAssertEqual(text(MarkdownText.runs("run `ls`", styles: mono)), "run `ls`")
    }

    func testAnswersShowStyledAndBoxAnswersAreLeftAlone() {
        var s = AppState(width: 80, height: 24, models: [ModelEntry(name: "m", path: "/m.gguf")])
        s.selectedModel = 0
        _ = s.send(.modelReady("m"))
        s.type("tips?")
        _ = s.send(.key(.enter), .token(generation: 1, text: "**Tip**: use `salt`\n- one"), .finished(generation: 1))
        let screen = s.render().text
        XCTAssertTrue(screen.contains("Tip: use salt"), screen)
        XCTAssertTrue(screen.contains("• one"), screen)
        s.type("[grounding] x")
        _ = s.send(.key(.enter), .token(generation: 2, text: "<p>a **b**</p> {<1><2><3><4>}"), .finished(generation: 2))
        XCTAssertTrue(s.render().text.contains("a **b**"), "MiniGPT-v2's task language is not Markdown")
    }
}
