import Foundation

/// The input field's text and caret, with readline keys, multi-line editing and history.
public struct LineEditor: Sendable, Equatable {
    public private(set) var text: [Character] = []
    public private(set) var caret = 0
    public private(set) var history: [String] = []
    private var historyIndex: Int? = nil
    private var draft: [Character] = []

    public init(_ text: String = "") {
        self.text = Array(text)
        caret = self.text.count
    }

    /// Earlier runs' entries (oldest first), before this run's.
    public mutating func loadHistory(_ entries: [String]) {
        history = entries + history
        historyIndex = nil
    }

    public var string: String { String(text) }
    public var isEmpty: Bool { text.isEmpty }

    public mutating func set(_ s: String) {
        text = Array(s)
        caret = text.count
    }

    public mutating func insert(_ s: String) {
        // Pasted text: tabs become spaces, carriage returns newlines; other control characters are dropped.
        let clean = s.replacingOccurrences(of: "\r\n", with: "\n").map { c -> Character in c == "\r" ? "\n" : c == "\t" ? " " : c }
            .filter { c in c == "\n" || !(c.unicodeScalars.first.map { $0.value < 0x20 || $0.value == 0x7F } ?? true) }
        text.insert(contentsOf: clean, at: caret)
        caret += clean.count
    }

    public mutating func backspace() { if caret > 0 { text.remove(at: caret - 1); caret -= 1 } }
    public mutating func deleteForward() { if caret < text.count { text.remove(at: caret) } }
    public mutating func left() { caret = max(0, caret - 1) }
    public mutating func right() { caret = min(text.count, caret + 1) }

    /// Start and end of the caret's line.
    var lineBounds: (Int, Int) {
        var start = caret, end = caret
        while start > 0 && text[start - 1] != "\n" { start -= 1 }
        while end < text.count && text[end] != "\n" { end += 1 }
        return (start, end)
    }

    public mutating func home() { caret = lineBounds.0 }
    public mutating func end() { caret = lineBounds.1 }
    /// Ctrl-K: delete to the end of the line.
    public mutating func killToEnd() { text.removeSubrange(caret ..< lineBounds.1) }
    /// Ctrl-U: delete to the start of the line.
    public mutating func killToStart() {
        let start = lineBounds.0
        text.removeSubrange(start ..< caret)
        caret = start
    }

    /// Ctrl-W: delete the word before the caret.
    public mutating func deleteWordBack() {
        let start = wordStart(before: caret)
        text.removeSubrange(start ..< caret)
        caret = start
    }

    public mutating func wordLeft() { caret = wordStart(before: caret) }
    public mutating func wordRight() {
        var i = caret
        while i < text.count && !text[i].isLetterOrNumber { i += 1 }
        while i < text.count && text[i].isLetterOrNumber { i += 1 }
        caret = i
    }

    private func wordStart(before index: Int) -> Int {
        var i = index
        while i > 0 && !text[i - 1].isLetterOrNumber { i -= 1 }
        while i > 0 && text[i - 1].isLetterOrNumber { i -= 1 }
        return i
    }

    /// Up/Down on the first/last line walk the history; inside multi-line text they move between lines.
    public mutating func up() {
        let (start, _) = lineBounds
        if start > 0 {
            let column = caret - start
            var prevStart = start - 1
            while prevStart > 0 && text[prevStart - 1] != "\n" { prevStart -= 1 }
            caret = min(prevStart + column, start - 1)
            return
        }
        guard !history.isEmpty else { return }
        let next = (historyIndex ?? history.count) - 1
        guard next >= 0 else { return }
        if historyIndex == nil { draft = text }
        historyIndex = next
        set(history[next])
    }

    public mutating func down() {
        let (start, end) = lineBounds
        if end < text.count {
            let column = caret - start
            var nextEnd = end + 1
            while nextEnd < text.count && text[nextEnd] != "\n" { nextEnd += 1 }
            caret = min(end + 1 + column, nextEnd)
            return
        }
        guard let i = historyIndex else { return }
        if i + 1 < history.count {
            historyIndex = i + 1
            set(history[i + 1])
        } else {
            historyIndex = nil
            text = draft
            caret = text.count
        }
    }

    /// Takes the text out (on Enter), remembering it in the history.
    public mutating func submit() -> String {
        let s = string
        if !s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && history.last != s { history.append(s) }
        text = []
        caret = 0
        historyIndex = nil
        return s
    }

    /// Lines of the text and the caret's (line, column in characters).
    public var lines: [String] { string.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
    public var caretPosition: (line: Int, column: Int) {
        let before = text[..<caret]
        let line = before.filter { $0 == "\n" }.count
        let lastBreak = before.lastIndex(of: "\n").map { $0 + 1 } ?? 0
        return (line, CharacterWidth.columns(String(text[lastBreak ..< caret])))
    }
}

extension Character {
    var isLetterOrNumber: Bool { isLetter || isNumber }
}
