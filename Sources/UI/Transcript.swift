import Foundation
import Tasks

/// `/save FILE`: the conversation as Markdown, to read or share outside the app. Answers read as the app shows
/// them (`large red circle [1]`), each followed by its boxes in MiniGPT-v2's 0-100 coordinates and, with one
/// image attached, in that image's pixels.
extension AppState {
    public var transcript: String {
        var out = ["# Glimpse conversation", ""]
        if !images.isEmpty {
            out.append("Images: " + images.map { "`\($0.path)` (\($0.width)x\($0.height))" }.joined(separator: ", "))
            out.append("")
        }
        let image = images.count == 1 ? images[0] : nil
        for (k, pane) in panes.enumerated() {
            let name = model(of: pane)?.name ?? "no model"
            if panes.count > 1 {
                out += ["## \(Self.paneLetter(k)): \(name)", ""]
            }
            let prompts = Self.generationPrompts(pane.messages)
            for (k, m) in pane.messages.enumerated() {
                switch m.role {
                case .user:
                    out += ["**You:** " + m.text, ""]
                case .assistant:
                    out += ["**\(name):** " + Self.answerWithLabels(m.text), ""]
                    if let prompt = prompts[k] { out += ["Image-generation prompt:", "", "```", prompt, "```", ""] }
                    let boxes = GroundedText(parsing: m.text).boxes
                    for (i, item) in boxes.enumerated() {
                        var line = "- [\(i + 1)] \(item.label.isEmpty ? "(box)" : item.label): \(item.box.text)"
                        if let image {
                            let px = item.box.pixels(width: image.width, height: image.height)
                            line += ", pixels (\(px.x1), \(px.y1))-(\(px.x2), \(px.y2))"
                        }
                        out.append(line)
                    }
                    if !boxes.isEmpty { out.append("") }
                case .notice, .error:
                    continue
                }
            }
        }
        while out.last == "" { out.removeLast() }
        return out.joined(separator: "\n") + "\n"
    }

    /// The image-generation prompts of a conversation's answers (by message index): Mini-Gemini's `<h>...</h>` span of
    /// an answer to a Generate question (one ending in " <GEN>"), as its `--gen` takes it. Streaming answers too.
    public static func generationPrompts(_ messages: [Message]) -> [Int: String] {
        var out: [Int: String] = [:]
        var askedForOne = false
        for (i, m) in messages.enumerated() {
            switch m.role {
            case .user: askedForOne = MiniGemini.isGenerationRequest(m.text)
            case .assistant: if askedForOne, let prompt = MiniGemini.generationPrompt(in: m.text) { out[i] = prompt }
            case .notice, .error: break
            }
        }
        return out
    }

    /// The answer without its tags, each phrase followed by its boxes' numbers: "large red circle [1]".
    static func answerWithLabels(_ text: String) -> String {
        var n = 0
        return GroundedText(parsing: text).segments.map { segment -> String in
            switch segment {
            case .text(let t): return t
            case .phrase(let p, let boxes):
                let labels = boxes.map { _ in n += 1; return "\(n)" }
                return labels.isEmpty ? p : "\(p) [\(labels.joined(separator: ","))]"
            case .box:
                n += 1
                return "[\(n)]"
            }
        }.joined()
    }
}

extension SavedConversation {
    /// The conversation as Markdown, from what was kept (`glimpse history --show`): the transcript `/save` writes,
    /// less the image sizes and pixel boxes, which need the images.
    public func markdown(title: String) -> String {
        var out = ["# \(title)", ""]
        if !images.isEmpty {
            out += ["Images: " + images.map { "`\($0)`" }.joined(separator: ", "), ""]
        }
        for (k, pane) in panes.enumerated() {
            let name = pane.model ?? "no model"
            if panes.count > 1 { out += ["## \(AppState.paneLetter(k)): \(name)", ""] }
            for turn in pane.turns {
                if turn.role == "user" { out += ["**You:** " + turn.text, ""]; continue }
                out += ["**\(name):** " + AppState.answerWithLabels(turn.text), ""]
                let boxes = GroundedText(parsing: turn.text).boxes
                for (i, item) in boxes.enumerated() {
                    out.append("- [\(i + 1)] \(item.label.isEmpty ? "(box)" : item.label): \(item.box.text)")
                }
                if !boxes.isEmpty { out.append("") }
            }
        }
        while out.last == "" { out.removeLast() }
        return out.joined(separator: "\n") + "\n"
    }
}
