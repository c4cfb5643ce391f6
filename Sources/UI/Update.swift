import Foundation
import Tasks

/// What happens outside the UI: the engine reports, the terminal resizes.
public enum AppEvent: Sendable, Equatable {
    case key(Key)
    case resize(width: Int, height: Int)
    case modelLoading(String)
    case modelReady(String)
    case modelFailed(String)
    case token(generation: Int, text: String)
    case figures(generation: Int, GenerationFigures)
    case finished(generation: Int)
    case failed(generation: Int, message: String)
    case imageAttached(ImageEntry)
    /// The entries of the directory a `/image` path is being typed in (folders end in "/").
    case directoryListing(forInput: String, entries: [String])
    case imageFailed(String)
    case preview(image: Int, PreviewCells)
    case theme(Theme)
    case notice(String)
    case error(String)
}

/// What the UI asks the app to do.
public enum Effect: Sendable, Equatable {
    /// Answer the conversation so far (its last user message is the new prompt).
    case generate(generation: Int, messages: [Message], images: [String], settings: SessionSettings)
    case stop
    case loadModel(ModelEntry)
    case attachImage(path: String)
    /// Render the image in view for a pane of this many cells.
    case renderPreview(image: Int, width: Int, height: Int)
    case loadTheme(String)
    /// List the directory of this typed path (Tab after `/image `).
    case listDirectory(String)
    case quit
}

extension AppState {
    static let imageCommand = "/image "

    /// Applies one event; returns the effects the app must carry out.
    public mutating func update(_ event: AppEvent) -> [Effect] {
        switch event {
        case .key(let key):
            return handle(key)
        case .resize(let w, let h):
            width = w
            height = h
            return previewRequest()
        case .modelLoading(let name):
            modelStatus = .loading(name)
        case .modelReady(let name):
            modelStatus = .ready
            note("Model \(name) is ready.")
        case .modelFailed(let message):
            modelStatus = .failed(message)
            messages.append(Message(.error, message))
        case .token(let g, let text):
            guard g == generation, let i = streamingMessage, messages.indices.contains(i) else { return [] }
            messages[i].text += text
        case .figures(let g, let f):
            if g == generation || g == lastGeneration { figures = f }
        case .finished(let g):
            guard g == generation else { return [] }
            endGeneration()
        case .failed(let g, let message):
            guard g == generation else { return [] }
            endGeneration()
            messages.append(Message(.error, message))
        case .imageAttached(let image):
            images.append(image)
            imageInView = images.count - 1
            note("Attached \(image.name) (\(image.width)x\(image.height)).")
            return previewRequest()
        case .directoryListing(let forInput, let entries):
            guard input.string == forInput, input.string.hasPrefix(Self.imageCommand) else { return [] }
            let typed = String(forInput.dropFirst(Self.imageCommand.count))
            let (text, candidates) = PathCompletion.complete(typed, entries: entries)
            input.set(Self.imageCommand + text)
            if candidates.count > 1 {
                let shown = candidates.prefix(12).joined(separator: "  ")
                note(candidates.count > 12 ? "\(shown)  ... (\(candidates.count))" : shown)
            }
        case .imageFailed(let message), .error(let message):
            messages.append(Message(.error, message))
        case .preview(let index, let cells):
            if images.indices.contains(index) { images[index].preview = cells }
        case .theme(let t):
            theme = t
            note("Theme \(t.name).")
        case .notice(let text):
            note(text)
        }
        return []
    }

    mutating func note(_ text: String) { messages.append(Message(.notice, text)) }

    mutating func endGeneration() {
        if let i = streamingMessage, messages.indices.contains(i) { messages[i].streaming = false }
        streamingMessage = nil
        generation = nil
    }

    func previewRequest() -> [Effect] {
        guard images.indices.contains(imageInView), let area = Layout(self).imageInner else { return [] }
        if let p = images[imageInView].preview, p.areaWidth == area.width, p.areaHeight == area.height { return [] }
        return [.renderPreview(image: imageInView, width: area.width, height: area.height)]
    }

    // MARK: Keys

    mutating func handle(_ key: Key) -> [Effect] {
        if key == .ctrl("c") { quitting = true; return [.quit] }
        if case .click(let x, let y) = key { return click(x: x, y: y) }
        switch overlay {
        case .help:
            overlay = .none
            return []
        case .modelPicker(let i):
            return pick(key, index: i, count: models.count, make: { .modelPicker($0) }) { s, i in s.chooseModel(i) }
        case .taskPicker(let i):
            return pick(key, index: i, count: TaskMode.allCases.count, make: { .taskPicker($0) }) { s, i in
                s.setTask(TaskMode.allCases[i])
                return []
            }
        case .none:
            break
        }
        if let action = keyMap.overrides[key] { return perform(action) }
        if let action = KeyMap.defaults[key] { return perform(action) }
        switch key {
        case .enter: return submit()
        case .newline: input.insert("\n")
        case .character(let c):
            if c == "?" && input.isEmpty { overlay = .help } else { input.insert(String(c)) }
        case .paste(let s):
            // A dropped or pasted image path attaches the image (terminals paste a dropped file's path).
            if input.isEmpty, let path = PathCompletion.droppedImagePath(s) {
                return [.attachImage(path: (path as NSString).expandingTildeInPath)]
            }
            input.insert(s)
        case .backspace: input.backspace()
        case .delete: input.deleteForward()
        case .left: input.left()
        case .right: input.right()
        case .up: input.up()
        case .down: input.down()
        case .home, .ctrl("a"): input.home()
        case .end, .ctrl("e"): input.end()
        case .ctrl("k"): input.killToEnd()
        case .ctrl("u"): input.killToStart()
        case .ctrl("w"): input.deleteWordBack()
        case .alt("b"): input.wordLeft()
        case .alt("f"): input.wordRight()
        case .pageUp: scroll += max(1, height / 2)
        case .pageDown: scroll = max(0, scroll - max(1, height / 2))
        case .wheel(let up): scroll = up ? scroll + 3 : max(0, scroll - 3)
        case .tab where input.string.hasPrefix(Self.imageCommand):
            return [.listDirectory(input.string)]
        case .tab: return perform(.nextTask)
        default: break
        }
        return []
    }

    /// What a bound key does (KeyMap: the defaults, and the config's overrides first).
    mutating func perform(_ action: Action) -> [Effect] {
        let all = TaskMode.allCases
        switch action {
        case .help: overlay = .help
        case .modelPicker: overlay = .modelPicker(selectedModel ?? 0)
        case .taskPicker: overlay = .taskPicker(all.firstIndex(of: task)!)
        case .nextTask: setTask(all[(all.firstIndex(of: task)! + 1) % all.count])
        case .previousTask: setTask(all[(all.firstIndex(of: task)! + all.count - 1) % all.count])
        case .regenerate: return regenerate()
        case .newConversation: return newConversation()
        case .nextImage:
            if !images.isEmpty {
                imageInView = (imageInView + 1) % images.count
                return previewRequest()
            }
        case .stop: if isGenerating { return [.stop] }
        case .quit:
            quitting = true
            return [.quit]
        }
        return []
    }

    mutating func pick(_ key: Key, index: Int, count: Int, make: (Int) -> Overlay,
                       choose: (inout AppState, Int) -> [Effect]) -> [Effect] {
        switch key {
        case .up: overlay = make(max(0, index - 1))
        case .down: overlay = make(min(max(0, count - 1), index + 1))
        case .enter:
            overlay = .none
            if count > 0 { return choose(&self, index) }
        case .escape: overlay = .none
        default: break
        }
        return []
    }

    /// A click on the top bar chooses a task or opens the model picker; elsewhere it closes an overlay.
    mutating func click(x: Int, y: Int) -> [Effect] {
        guard !isTooSmall else { return [] }
        guard y == Layout(self).topBar.y, let target = topBarTarget(atColumn: x) else {
            overlay = .none
            return []
        }
        switch target {
        case .model: overlay = .modelPicker(selectedModel ?? 0)
        case .task(let mode):
            overlay = .none
            setTask(mode)
        }
        return []
    }

    /// Switching the task pre-fills MiniGPT-v2's suggested instruction when the input is empty.
    mutating func setTask(_ mode: TaskMode) {
        task = mode
        if input.isEmpty && !mode.suggestedInstruction.isEmpty { input.set(mode.suggestedInstruction) }
    }

    mutating func chooseModel(_ i: Int) -> [Effect] {
        guard models.indices.contains(i) else { return [] }
        selectedModel = i
        modelStatus = .loading(models[i].name)
        if let mode = models[i].task { task = mode }
        if let chosen = models[i].settings { settings = chosen }
        var effects: [Effect] = isGenerating ? [.stop] : []
        endGeneration()
        effects.append(.loadModel(models[i]))
        return effects
    }

    mutating func submit() -> [Effect] {
        let raw = input.string.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !raw.isEmpty else { return [] }
        _ = input.submit()
        if raw.hasPrefix("/") { return command(raw) }
        if isGenerating {
            messages.append(Message(.error, "Still answering: press Esc to stop first."))
            input.set(raw)
            return []
        }
        guard modelStatus == .ready else {
            messages.append(Message(.error, "No model is ready: choose one with F2 or /model."))
            input.set(raw)
            return []
        }
        scroll = 0
        messages.append(Message(.user, task.prompt(raw)))
        return startGeneration()
    }

    mutating func startGeneration() -> [Effect] {
        lastGeneration += 1
        generation = lastGeneration
        let history = messages.filter { $0.role == .user || $0.role == .assistant }
        messages.append(Message(.assistant, "", streaming: true))
        streamingMessage = messages.count - 1
        return [.generate(generation: lastGeneration, messages: history, images: images.map(\.path), settings: settings)]
    }

    mutating func regenerate() -> [Effect] {
        guard !isGenerating, let lastAnswer = messages.lastIndex(where: { $0.role == .assistant }) else { return [] }
        messages.remove(at: lastAnswer)
        return startGeneration()
    }

    mutating func newConversation() -> [Effect] {
        let effects: [Effect] = isGenerating ? [.stop] : []
        endGeneration()
        messages = []
        images = []
        imageInView = 0
        scroll = 0
        figures = GenerationFigures()
        return effects
    }
}
