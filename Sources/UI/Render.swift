import Foundation
import Tasks

extension AppState {
    /// Draws the whole state into a fresh screen.
    public func render() -> Screen {
        var screen = Screen(width: width, height: height, style: theme.base)
        if isTooSmall {
            drawTooSmall(&screen)
            return screen
        }
        let layout = Layout(self)
        drawTopBar(&screen, layout.topBar)
        for (rect, p) in zip(layout.conversations, layout.paneIndices) { drawConversation(&screen, rect, pane: p) }
        if let rect = layout.image { drawImage(&screen, rect) }
        drawInput(&screen, layout.input)
        drawStatus(&screen, layout.statusBar)
        switch overlay {
        case .none: break
        case .help(let page): drawHelp(&screen, page: page)
        case .modelPicker(let i): drawPicker(&screen, title: "Model (Enter to load, Esc to close)", items: models.map(\.name), selected: i)
        case .taskPicker(let i): drawPicker(&screen, title: "Task (Enter to choose)", items: tasks.map(\.title), selected: i)
        case .conversationPicker(let i):
            drawPicker(&screen, title: conversationPickerTitle, items: conversationLines, selected: i)
        case .imagePicker(let i): drawImagePicker(&screen, selected: i)
        }
        return screen
    }

    func drawTooSmall(_ s: inout Screen) {
        let lines = ["Glimpse needs a terminal of at least \(Self.minimumSize.width)x\(Self.minimumSize.height).",
                     "This one is \(width)x\(height): make it larger.", "Ctrl-C quits."]
        for (i, line) in lines.enumerated() {
            let y = height / 2 - 1 + i
            let cols = CharacterWidth.columns(line)
            s.put(line, x: max(0, (width - cols) / 2), y: y, style: i == 0 ? theme.accent : theme.base)
        }
    }

    func drawTopBar(_ s: inout Screen, _ r: Rect) {
        s.fill(r, style: theme.bar)
        for piece in topBarPieces(r) {
            let style: Style
            switch piece.target {
            case .none: style = piece.text == "Glimpse" ? Style(foreground: theme.bar.foreground, background: theme.bar.background, bold: true) : theme.bar
            case .model: style = theme.barActive
            case .task(let mode): style = mode == task ? theme.barActive : theme.bar
            }
            s.put(piece.text, x: piece.x, y: r.y, style: style, limit: piece.width)
        }
    }

    /// The colour of box `i` of pane `p`: with one pane each box has its own; side by side, each pane has one.
    func boxStyle(pane p: Int, box i: Int) -> Style {
        theme.boxes[(panes.count > 1 ? p : i) % theme.boxes.count]
    }

    /// Conversation lines (wrapped), with the style of each run: box phrases carry their box's colour.
    func conversationLines(pane p: Int, width: Int) -> [[(String, Style)]] {
        var out: [[(String, Style)]] = []
        var boxIndex = 0
        let prompts = Self.generationPrompts(panes[p].messages)
        for (k, m) in panes[p].messages.enumerated() {
            switch m.role {
            case .user:
                out.append([("You", theme.user)])
                for line in TextWrap.lines(m.text, width: width) { out.append([(line, theme.base)]) }
            case .assistant:
                out.append([("Model", theme.accent)])
                let g = GroundedText(parsing: m.text)
                var runs: [(String, Style)] = []
                for seg in g.segments {
                    switch seg {
                    // Answers with boxes are MiniGPT-v2's task language, not Markdown.
                    case .text(let t) where g.segments.count == 1: runs += MarkdownText.runs(t, styles: markdownStyles)
                    case .text(let t): runs.append((t, theme.assistant))
                    case .phrase(let phrase, let boxes):
                        runs.append((phrase, boxStyle(pane: p, box: boxIndex)))
                        runs += labelRuns(pane: p, boxes: boxIndex ..< boxIndex + boxes.count)
                        boxIndex += boxes.count
                    case .box:
                        runs.append(("[box \(boxLabel(pane: p, box: boxIndex))]", boxStyle(pane: p, box: boxIndex)))
                        boxIndex += 1
                    }
                }
                if m.streaming {
                    if m.text.isEmpty, let activity = m.activity { runs.append((activity + "… ", theme.dim)) }
                    runs.append(("▍", theme.dim))
                }
                out += wrapRuns(runs, width: width)
                if let prompt = prompts[k] { out += generationPromptLines(prompt, width: width) }
            case .notice:
                for line in TextWrap.lines("· " + m.text, width: width) { out.append([(line, theme.notice)]) }
            case .error:
                for line in TextWrap.lines("! " + m.text, width: width) { out.append([(line, theme.error)]) }
            }
            out.append([])
        }
        return out
    }

    /// Mini-Gemini's image-generation prompt as a block of its own under the answer: a title, then the prompt on
    /// the input field's background behind a bar, so it reads apart from the answer (and `/copy gen` copies it).
    func generationPromptLines(_ prompt: String, width: Int) -> [[(String, Style)]] {
        var body = theme.input
        body.foreground = theme.accent.foreground
        var lines: [[(String, Style)]] = [[]]
        lines.append([("Image-generation prompt", theme.accent), ("  /copy gen copies it", theme.dim)])
        for line in TextWrap.lines(prompt, width: max(1, width - 2)) { lines.append([("▌ ", theme.border), (line, body)]) }
        return lines
    }

    /// Code in the accent's colour (not bold), headings as the accent, markers dim.
    var markdownStyles: MarkdownText.Styles {
        var code = theme.assistant
        code.foreground = theme.accent.foreground
        return MarkdownText.Styles(text: theme.assistant, code: code, heading: theme.accent, marker: theme.dim,
                                   keepsBackticks: code == theme.assistant)
    }

    func wrapRuns(_ runs: [(String, Style)], width: Int) -> [[(String, Style)]] {
        // Wrap the concatenated text, then cut the runs along the wrapped lines.
        let full = runs.map(\.0).joined()
        var styles: [Style] = []
        for (t, st) in runs { styles += Array(repeating: st, count: t.count) }
        var lines: [[(String, Style)]] = []
        var cursor = full.startIndex
        var index = 0
        for line in TextWrap.lines(full, width: width) {
            // Skip the separators the wrapper dropped (spaces, the newline).
            while cursor < full.endIndex, !line.isEmpty, full[cursor...].hasPrefix(line) == false { cursor = full.index(after: cursor); index += 1 }
            var segs: [(String, Style)] = []
            for ch in line {
                let st = index < styles.count ? styles[index] : theme.assistant
                if let last = segs.last, last.1 == st { segs[segs.count - 1].0.append(ch) } else { segs.append((String(ch), st)) }
                cursor = full.index(after: cursor)
                index += 1
            }
            lines.append(segs)
        }
        return lines
    }

    /// " [1]" or " [2,3]" after a phrase, each label in its box's colour: the text names the boxes on the preview
    /// without relying on colour (the mono theme has none, side-by-side panes give all their boxes one, and the
    /// palette repeats after a few boxes).
    func labelRuns(pane p: Int, boxes: Range<Int>) -> [(String, Style)] {
        guard let first = boxes.first else { return [] }
        var runs: [(String, Style)] = [("\u{00A0}[", boxStyle(pane: p, box: first))]   // no line break before it
        for i in boxes {
            if i != first { runs.append((",", boxStyle(pane: p, box: i))) }
            runs.append((boxLabel(pane: p, box: i), boxStyle(pane: p, box: i)))
        }
        runs.append(("]", boxStyle(pane: p, box: boxes.upperBound - 1)))
        return runs
    }

    /// "3" with one pane, "B3" side by side.
    func boxLabel(pane p: Int, box i: Int) -> String { (panes.count > 1 ? Self.paneLetter(p) : "") + "\(i + 1)" }

    func drawConversation(_ s: inout Screen, _ r: Rect, pane p: Int) {
        var r = r
        if panes.count > 1 {
            // A header per pane: letter, model, task and its own figures; the focused pane's stands out.
            let pane = panes[p]
            var head = " \(Self.paneLetter(p)) \(model(of: pane).map { $0.name + $0.location } ?? "no model") · \(pane.task.title)"
            if pane.ocr { head += " · OCR" }
            if case .loading = pane.modelStatus { head += " · loading..." } else if let n = pane.imageTokens { head += " · \(n) img tok" }
            if pane.figures.generatedTokens > 0 {
                head += String(format: " · %.1f tok/s · first %.0f ms", pane.figures.tokensPerSecond, pane.figures.timeToFirstTokenMs)
            }
            if pane.isGenerating { head += " · answering" }
            let style = p == focusedPane ? theme.barActive : theme.bar
            s.fill(Rect(x: r.x, y: r.y, width: r.width, height: 1), style: style)
            s.put(head, x: r.x, y: r.y, style: style, limit: r.width - 1)
            r = Rect(x: r.x, y: r.y + 1, width: r.width, height: r.height - 1)
            if r.x > 0 { for y in r.y ..< r.maxY { s.put("│", x: r.x, y: y, style: theme.border) } }
        }
        let inner = Rect(x: r.x + 1, y: r.y, width: r.width - 2, height: r.height)
        var lines = conversationLines(pane: p, width: inner.width)
        // The welcome stays until the first question, above notices such as "model ready".
        if panes.count == 1 && !panes[p].messages.contains(where: { $0.role == .user }) {
            lines = welcomeLines(width: inner.width) + lines
        }
        let visible = inner.height
        let maxScroll = max(0, lines.count - visible)
        let first = max(0, lines.count - visible - min(panes[p].scroll, maxScroll))
        for (i, line) in lines[first ..< min(lines.count, first + visible)].enumerated() {
            var x = inner.x
            for (text, style) in line { x += s.put(text, x: x, y: inner.y + i, style: style, limit: inner.maxX - x) }
        }
        if first > 0 { s.put("▲", x: r.maxX - 1, y: r.y, style: theme.dim) }
    }

    func welcomeLines(width: Int) -> [[(String, Style)]] {
        let text = [
            ("Welcome to Glimpse.", theme.accent),
            ("Attach an image: /image PATH (Tab completes; try examples/three-shapes.png), or paste or drop a path.", theme.base),
            ("Pick a task with Tab (Grounding, Detection, Refer draw their boxes on the image) and ask, e.g. "
                + "\"what color is the star?\" in VQA.", theme.base),
            ("The built-in model, shapes, knows flat coloured shapes; bring other checkpoints with F2 or --model.", theme.base),
            ("F1 or ? shows every key and command; /conversations takes up an earlier conversation.", theme.dim),
        ]
        return text.flatMap { t, st in TextWrap.lines(t, width: width).map { [($0, st)] } + [[]] }
    }

    func drawImage(_ s: inout Screen, _ r: Rect) {
        if !imageZoomed { for y in r.y ..< r.maxY { s.put("│", x: r.x, y: y, style: theme.border) } }
        guard images.indices.contains(imageInView) else { return }
        let image = images[imageInView]
        let title = "\(image.name) \(image.width)x\(image.height)" + (images.count > 1 ? " (\(imageInView + 1)/\(images.count), Ctrl-L)" : "")
            + (imageZoomed ? " · F8 or Esc: back" : "")
        s.put(title, x: r.x + 2, y: r.y, style: theme.dim, limit: r.width - 3)
        guard let inner = Layout(self).imageInner, let p = image.preview else {
            s.put("rendering...", x: r.x + 2, y: r.y + 2, style: theme.dim)
            return
        }
        let boxes = boxesShown()
        if graphics.isPixels && overlay == .none {
            // The cells stay blank; the app writes the pixels, boxes composited, over them.
            let rect = Rect(x: inner.x, y: inner.y, width: min(p.width, inner.width), height: min(p.height, inner.height))
            s.pixelImage = PixelPlacement(rect: rect, imagePath: image.path,
                                          boxes: boxes.map { PixelBox(box: $0.box, label: $0.label, color: $0.style.foreground) })
        } else {
            for y in 0 ..< min(p.height, inner.height) {
                for x in 0 ..< min(p.width, inner.width) { s[inner.x + x, inner.y + y] = p.cells[y * p.width + x] }
            }
            drawBoxes(&s, boxes, origin: (inner.x, inner.y), preview: p)
        }
        if p.height < inner.height { drawLegend(&s, x: inner.x, y: inner.y + p.height, width: inner.width) }
    }

    /// Side by side, which colour is which pane's boxes: "■ A shapes  ■ B shapes-q8", for panes with boxes.
    func drawLegend(_ s: inout Screen, x: Int, y: Int, width: Int) {
        guard panes.count > 1 else { return }
        var cursor = x
        for k in panes.indices {
            guard let last = panes[k].messages.last(where: { $0.role == .assistant }),
                  !GroundedText(parsing: last.text).boxes.isEmpty else { continue }
            let label = "\(Self.paneLetter(k)) \(model(of: panes[k])?.name ?? "no model")"
            let room = x + width - cursor - 2
            guard room >= 3 else { break }
            s.put("■", x: cursor, y: y, style: boxStyle(pane: k, box: 0))
            cursor += 2 + s.put(label, x: cursor + 2, y: y, style: theme.dim, limit: room) + 2
        }
    }

    /// Boxes of each pane's last answer (and one typed in an [identify] prompt being written), labelled as in
    /// the conversation ("2", or "B2" side by side).
    func boxesShown() -> [(box: Box, label: String, style: Style)] {
        var boxes: [(box: Box, label: String, style: Style)] = []
        for k in panes.indices {
            guard let last = panes[k].messages.last(where: { $0.role == .assistant }) else { continue }
            for (i, item) in GroundedText(parsing: last.text).boxes.enumerated() {
                boxes.append((item.box, boxLabel(pane: k, box: i), boxStyle(pane: k, box: i)))
            }
        }
        // The box an [identify] question asks about: while it is typed, and with its answer.
        var asked: [Box] = []
        if TaskMode.leadingTag(of: input.string) == .identify || (task == .identify && !input.isEmpty) {
            asked = GroundedText(parsing: input.string).boxes.map(\.box)
        } else if let question = messages.last(where: { $0.role == .user }), TaskMode.leadingTag(of: question.text) == .identify {
            asked = GroundedText(parsing: question.text).boxes.map(\.box)
        }
        for box in asked { boxes.append((box, "?", theme.accent)) }
        return boxes
    }

    /// The boxes as outlines of box-drawing characters over the symbol preview.
    func drawBoxes(_ s: inout Screen, _ boxes: [(box: Box, label: String, style: Style)], origin: (Int, Int), preview p: PreviewCells) {
        func mark(_ x: Int, _ y: Int, _ ch: String, _ color: Color) {
            let sx = origin.0 + x, sy = origin.1 + y
            guard sx >= 0, sy >= 0, sx < s.width, sy < s.height else { return }
            var cell = s[sx, sy]
            cell.text = ch
            cell.continuation = false
            cell.style.foreground = color
            cell.style.bold = true
            s[sx, sy] = cell
        }
        var corners: [(x1: Int, y1: Int, x2: Int, y2: Int)] = []
        for (box, _, style) in boxes {
            let c = box.pixels(width: p.width, height: p.height)
            let x1 = min(c.x1, p.width - 1), x2 = min(max(c.x2 - 1, x1), p.width - 1)
            let y1 = min(c.y1, p.height - 1), y2 = min(max(c.y2 - 1, y1), p.height - 1)
            let color = style.foreground
            for x in x1 ... x2 { mark(x, y1, "─", color); mark(x, y2, "─", color) }
            for y in y1 ... y2 { mark(x1, y, "│", color); mark(x2, y, "│", color) }
            mark(x1, y1, "┌", color); mark(x2, y1, "┐", color); mark(x1, y2, "└", color); mark(x2, y2, "┘", color)
            corners.append((x1, y1, x2, y2))
        }
        // Labels after every outline, so a box drawn later cannot hide one; when two boxes (two panes agreeing)
        // share a corner, the later label moves to the bottom edge.
        var taken = Set<Int>()
        for ((_, label, style), c) in zip(boxes, corners) {
            let span = { (y: Int) in (c.x1 ... c.x1 + label.count).map { y * p.width + $0 } }
            let y = span(c.y1).contains(where: taken.contains) ? c.y2 : c.y1
            taken.formUnion(span(y))
            for (k, ch) in label.enumerated() where c.x1 + 1 + k < c.x2 { mark(c.x1 + 1 + k, y, String(ch), style.foreground) }
        }
    }

    func drawInput(_ s: inout Screen, _ r: Rect) {
        s.fill(Rect(x: r.x, y: r.y, width: r.width, height: 1), style: theme.border, text: "─")
        let hint = isGenerating ? " Esc stops " : " Enter sends · Alt-Enter new line · F1 help "
        s.put(hint, x: r.maxX - CharacterWidth.columns(hint) - 1, y: r.y, style: theme.dim)
        let body = Rect(x: r.x, y: r.y + 1, width: r.width, height: r.height - 1)
        s.fill(body, style: theme.input)
        let prefix = task.tag.map { $0 + " " } ?? ""
        let lines = input.lines
        let (caretLine, caretColumn) = input.caretPosition
        let firstLine = max(0, caretLine - body.height + 1)
        let prefixWidth = CharacterWidth.columns(prefix)
        for (i, line) in lines.enumerated() where i >= firstLine && i - firstLine < body.height {
            let y = body.y + i - firstLine
            var x = body.x + 1
            if i == 0 { x += s.put(prefix, x: x, y: y, style: Style(foreground: theme.dim.foreground, background: theme.input.background)) }
            else { x += prefixWidth }
            // Keep the caret in view on long lines.
            let room = body.width - (x - body.x) - 1
            let shift = i == caretLine ? max(0, caretColumn - room + 1) : 0
            s.put(String(line.dropFirst(shift)), x: x, y: y, style: theme.input, limit: room)
            if i == caretLine { s.cursor = (x + caretColumn - shift, y) }
        }
    }

    func drawStatus(_ s: inout Screen, _ r: Rect) {
        s.fill(r, style: theme.bar)
        let f = figures
        var parts = [currentModel.map { $0.name + $0.location } ?? "no model", task.title + (panes[focusedPane].ocr ? " + OCR" : "")]
        if f.promptTokens > 0 || f.generatedTokens > 0 {
            parts.append("prompt \(f.promptTokens) · gen \(f.generatedTokens)")
            parts.append(String(format: "%.1f tok/s", f.tokensPerSecond))
            parts.append(String(format: "first token %.0f ms", f.timeToFirstTokenMs))
            if f.imageEncodeMs > 0 { parts.append(String(format: "image %.0f ms", f.imageEncodeMs)) }
        }
        // With one pane there is no pane header: what an image costs the prompt shows here.
        if panes.count == 1, modelStatus == .ready, let n = panes[focusedPane].imageTokens { parts.append("\(n) img tok") }
        if case .loading(let n) = modelStatus { parts.append("loading \(n)...") }
        if panes[focusedPane].isGenerating { parts.append("answering...") }
        if panes.count > 1 { parts.append("pane \(Self.paneLetter(focusedPane)) of \(panes.count) · prompts to \(broadcast ? "all" : "this pane")") }
        s.put(" " + parts.joined(separator: "  │  "), x: r.x, y: r.y, style: theme.bar, limit: r.width)
    }

    static let keyHelp: [(String, String)] = [
        ("Enter / Alt-Enter", "send / new line"), ("Esc", "stop the answer"), ("Tab / Shift-Tab", "next / previous task"),
        ("F2 or Ctrl-O", "choose model"), ("F3 or Ctrl-T", "choose task"), ("Ctrl-R / Ctrl-N", "regenerate / new conversation"),
        ("Ctrl-L / F8 / Ctrl-V", "next image / image large / paste one"),
        ("F6 / F7 / F4", "next pane / zoom / prompts to all or one"),
        ("Up / Down, PgUp / PgDn", "history, scroll"), ("Ctrl-A/E/K/U/W, Alt-B/F", "edit"),
        ("Drag on the image", "[identify] that region"), ("Ctrl-C", "quit"),
    ]

    /// The help's lines, split into pages the panel can show whole (at 80x24 the commands did not fit under the
    /// keys, and the last ones were cut off).
    func helpPages() -> [[String]] {
        // Descriptions wrap under themselves where the panel (the terminal less 8 columns) is too narrow.
        let descriptionWidth = max(12, width - 8 - 25)
        func rows(_ items: [(String, String)]) -> [String] {
            items.flatMap { key, text in
                TextWrap.lines(text, width: descriptionWidth).enumerated().map { i, part in
                    (i == 0 ? key : "").padding(toLength: 24, withPad: " ", startingAt: 0) + " " + part
                }
            }
        }
        let keys = rows(Self.keyHelp), commands = rows(Self.commandHelp)
        let lines = keys + [""] + commands
        let room = max(1, height - 4)   // the panel's borders and a row of margin above and below
        if lines.count <= room { return [lines] }
        let sections = keys.count <= room && commands.count <= room ? [keys, commands] : [lines]
        return sections.flatMap { section in stride(from: 0, to: section.count, by: room).map { Array(section[$0 ..< min($0 + room, section.count)]) } }
    }

    func drawHelp(_ s: inout Screen, page: Int) {
        let pages = helpPages()
        let title = pages.count == 1 ? "Keys and commands (any key closes)"
            : "Keys and commands, \(page + 1) of \(pages.count) (" + (page + 1 < pages.count ? "any key: next, Esc: close)" : "any key closes)")
        drawPanel(&s, title: title, lines: pages[min(page, pages.count - 1)], selected: nil)
    }

    func drawPicker(_ s: inout Screen, title: String, items: [String], selected: Int) {
        drawPanel(&s, title: title, lines: items.isEmpty ? ["(none found)"] : items, selected: items.isEmpty ? nil : selected)
    }

    func drawPanel(_ s: inout Screen, title: String, lines: [String], selected: Int?) {
        let w = min(width - 4, max(CharacterWidth.columns(title) + 4, (lines.map { CharacterWidth.columns($0) }.max() ?? 0) + 4))
        let h = min(height - 2, lines.count + 2)
        let r = Rect(x: (width - w) / 2, y: (height - h) / 2, width: w, height: h)
        s.fill(r, style: theme.input)
        s.put("┌" + String(repeating: "─", count: w - 2) + "┐", x: r.x, y: r.y, style: theme.border)
        s.put("└" + String(repeating: "─", count: w - 2) + "┘", x: r.x, y: r.maxY - 1, style: theme.border)
        for y in r.y + 1 ..< r.maxY - 1 {
            s.put("│", x: r.x, y: y, style: theme.border)
            s.put("│", x: r.maxX - 1, y: y, style: theme.border)
        }
        s.put(" \(title) ", x: r.x + 2, y: r.y, style: theme.accent, limit: w - 4)
        let first = max(0, (selected ?? 0) - (h - 3))
        for (i, line) in lines.enumerated() where i >= first && i - first < h - 2 {
            let style = i == selected ? theme.barActive : theme.input
            if i == selected { s.fill(Rect(x: r.x + 1, y: r.y + 1 + i - first, width: w - 2, height: 1), style: style) }
            s.put(line, x: r.x + 2, y: r.y + 1 + i - first, style: style, limit: w - 4)
        }
    }
}
