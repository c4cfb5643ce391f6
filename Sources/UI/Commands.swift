import Foundation
import Tasks

extension AppState {
    static let commandHelp: [(String, String)] = [
        ("/image PATH", "attach JPEG/PNG images: paths, a file:// URL, or a folder (picker)"),
        ("/task NAME", "chat vqa caption grounding refer detection identify generate"),
        // One row for both: the help fits 100x30 on one page.
        ("/ocr, /copy [gen]", "Mini-Gemini: OCR on/off in this pane; copy answer or image prompt"),
        ("/model NAME", "switch model (or F2 for the list)"),
        ("/clear", "start a new conversation"),
        ("/resume [N], /search W", "take up conversation N (/conversations lists); find by words"),
        ("/save FILE", "write the conversation as Markdown (FILE.json: as JSON)"),
        ("/split [MODEL]", "compare: a new pane with MODEL (F6 focus, F7 zoom, F4 all or one)"),
        ("/close", "close the focused pane"),
        ("/theme NAME", "dark, light, high-contrast, mono, or a themes/*.toml name"),
        ("/set KEY VALUE", "temperature, top-p, top-k, max-tokens, seed, system"),
        ("/help", "keys and commands"),
        ("/quit", "leave"),
    ]

    mutating func command(_ line: String) -> [Effect] {
        let parts = line.dropFirst().split(separator: " ", maxSplits: 1).map(String.init)
        let name = parts.first?.lowercased() ?? ""
        let argument = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        switch name {
        case "image":
            guard !argument.isEmpty else { return error("/image needs a path, e.g. /image examples/scene.png") }
            // Several quoted or escaped paths (as a drop pastes them), else the whole argument is one path or URL.
            let paths = PathCompletion.droppedImagePaths(argument).flatMap { $0.count > 1 ? $0 : nil }
                ?? [PathCompletion.fileURLPath(argument) ?? argument]
            return paths.map { .attachImage(path: ($0 as NSString).expandingTildeInPath) }
        case "paste": return [.pasteImage]
        case "task":
            guard let mode = TaskMode(rawValue: argument.lowercased()) else {
                return error("unknown task '\(argument)' (\(TaskMode.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard tasks.contains(mode) else {
                let lacking = mode == .generate ? "has no Generate mode (Mini-Gemini models have it)" : "takes no task tags"
                return error("\(currentModel?.name ?? "this model") \(lacking): its tasks are \(tasks.map(\.rawValue).joined(separator: ", "))")
            }
            setTask(mode)
        case "model":
            let wanted = argument.lowercased()
            guard let i = models.firstIndex(where: { $0.name.lowercased() == wanted }) ?? Int(argument).map({ $0 - 1 }),
                  models.indices.contains(i) else {
                return error("unknown model '\(argument)' (\(models.map(\.name).joined(separator: ", ")))")
            }
            return chooseModel(i)
        case "clear": return newConversation()
        case "conversations", "history": return [.listConversations]
        case "search":
            guard !argument.isEmpty else { return error("/search needs words, e.g. /search red circle") }
            return [.searchConversations(argument)]
        case "resume":
            guard let n = argument.isEmpty ? 1 : Int(argument), n >= 1 else {
                return error("/resume takes the number /conversations gives, not '\(argument)'")
            }
            return [.resumeConversation(n)]
        case "save":
            guard !argument.isEmpty else { return error("/save needs a file name, e.g. /save chat.md") }
            guard savedConversation != nil else { return error("nothing to save yet: ask something first") }
            let path = (argument as NSString).expandingTildeInPath
            if path.lowercased().hasSuffix(".json"), let saved = savedConversation {
                return [.exportTranscript(path: path, text: saved.json)]
            }
            return [.exportTranscript(path: path, text: transcript)]
        case "split": return split(argument)
        case "close": return closePane()
        case "theme":
            guard !argument.isEmpty else { return error("/theme needs a name") }
            return [.loadTheme(argument)]
        case "set": return set(argument)
        case "ocr": return toggleOCR(argument)
        case "copy": return copy(argument)
        case "help": overlay = .help(page: 0)
        case "quit", "exit", "q":
            quitting = true
            return [.quit]
        default:
            return error("unknown command '/\(name)': /help lists them")
        }
        return []
    }

    mutating func error(_ text: String) -> [Effect] {
        messages.append(Message(.error, text))
        return []
    }

    /// `/ocr [on|off]`: the focused pane's questions get the images' text appended (the app reads it with
    /// Tesseract), as Mini-Gemini's `--ocr` does. Per pane, so one pane can ask with it and another without.
    mutating func toggleOCR(_ argument: String) -> [Effect] {
        let on: Bool
        switch argument.lowercased() {
        case "": on = !panes[focusedPane].ocr
        case "on": on = true
        case "off": on = false
        default: return error("/ocr takes on or off, not '\(argument)'")
        }
        panes[focusedPane].ocr = on
        guard on else {
            note("OCR is off" + (panes.count > 1 ? " in this pane." : "."))
            return []
        }
        var text = "OCR is on" + (panes.count > 1 ? " in this pane" : "")
            + ": each question gets the image's text, read by Tesseract, as a \"Reference OCR Token:\" line."
        if !tasks.contains(.generate), let name = currentModel?.name {
            text += " (Mini-Gemini was trained on it; \(name) reads it as words of the question.)"
        }
        note(text)
        return []
    }

    /// `/copy`: the focused pane's last answer (as shown, boxes numbered) or, with `gen`, the image-generation prompt
    /// of its last Generate answer, onto the clipboard through the terminal (OSC 52).
    mutating func copy(_ argument: String) -> [Effect] {
        let what = argument.lowercased()
        guard what.isEmpty || what == "gen" || what == "prompt" else { return error("/copy takes nothing or gen, not '\(argument)'") }
        let text: String
        if what.isEmpty {
            guard let last = messages.last(where: { $0.role == .assistant && !$0.streaming }), !last.text.isEmpty else {
                return error("no answer to copy yet")
            }
            text = Self.answerWithLabels(last.text)
        } else {
            let prompts = Self.generationPrompts(messages)
            guard let prompt = prompts.keys.max().flatMap({ prompts[$0] }) else {
                return error("no image-generation prompt to copy: ask in the Generate task (Mini-Gemini models)")
            }
            text = prompt
        }
        note("Copied \(what.isEmpty ? "the answer" : "the image-generation prompt") (\(text.count) characters) through the "
             + "terminal (OSC 52; a terminal that does not allow it, or tmux without set-clipboard on, ignores it).")
        return [.copyToClipboard(text)]
    }

    mutating func set(_ argument: String) -> [Effect] {
        let kv = argument.split(separator: " ", maxSplits: 1).map(String.init)
        guard kv.count == 2 else {
            let s = settings
            note("temperature \(s.temperature), top-p \(s.topP), top-k \(s.topK), max-tokens \(s.maxTokens), seed \(s.seed.map(String.init) ?? "random"), system \(s.systemPrompt.map { "\"\($0)\"" } ?? "none")")
            return []
        }
        let (key, value) = (kv[0].lowercased(), kv[1])
        let change: (inout SessionSettings) -> Void
        switch key {
        case "temperature", "temp":
            guard let v = Float(value), v >= 0, v <= 5 else { return error("temperature must be a number from 0 to 5, not '\(value)'") }
            change = { $0.temperature = v }
        case "top-p", "top_p":
            guard let v = Float(value), v > 0, v <= 1 else { return error("top-p must be in (0, 1], not '\(value)'") }
            change = { $0.topP = v }
        case "top-k", "top_k":
            guard let v = Int(value), v >= 0 else { return error("top-k must be a whole number, 0 or more, not '\(value)'") }
            change = { $0.topK = v }
        case "max-tokens", "max_tokens", "n":
            guard let v = Int(value), v > 0, v <= 100_000 else { return error("max-tokens must be a whole number from 1, not '\(value)'") }
            change = { $0.maxTokens = v }
        case "seed":
            if value == "random" { change = { $0.seed = nil } } else {
                guard let v = UInt64(value) else { return error("seed must be a whole number or 'random', not '\(value)'") }
                change = { $0.seed = v }
            }
        case "system":
            change = { $0.systemPrompt = value == "none" ? nil : value }
        default:
            return error("unknown setting '\(key)' (temperature, top-p, top-k, max-tokens, seed, system)")
        }
        // Like the task: every pane when prompts go to all, else the focused one.
        for p in broadcast ? Array(panes.indices) : [focusedPane] { change(&panes[p].settings) }
        note("\(key) = \(value)" + (panes.count > 1 ? (broadcast ? " (every pane)" : " (this pane)") : ""))
        return []
    }
}
