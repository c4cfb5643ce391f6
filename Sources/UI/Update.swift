import Foundation
import Tasks

/// What happens outside the UI: the engine reports, the terminal resizes.
public enum AppEvent: Sendable, Equatable {
    case key(Key)
    case resize(width: Int, height: Int)
    /// A model loads, is ready, or failed, in the pane of this id.
    case modelLoading(String, pane: Int = 0)
    /// `notes`: what the model's files ask for that Glimpse does not do, shown under the ready line. `tasks`: the
    /// modes the model understands (MiniGPT-v2's tags, Mini-Gemini's Chat and Generate, or Chat alone); the task
    /// selector offers only those. `imageTokens`: what an image costs in the prompt (shown in the pane's header).
    case modelReady(String, pane: Int = 0, notes: [String] = [], tasks: [TaskMode] = TaskMode.miniGPTv2Modes,
                    imageTokens: Int? = nil)
    case modelFailed(String, pane: Int = 0)
    /// What a generation is busy with before its first token.
    case activity(generation: Int, String)
    /// A notice in the pane of this generation (what OCR read, or why it could not).
    case generationNotice(generation: Int, String)
    case token(generation: Int, text: String)
    case figures(generation: Int, GenerationFigures)
    case finished(generation: Int)
    case failed(generation: Int, message: String)
    case imageAttached(ImageEntry)
    /// The entries of the directory a `/image` path is being typed in (folders end in "/").
    case directoryListing(forInput: String, entries: [String])
    case imageFailed(String)
    case preview(image: Int, PreviewCells)
    /// `/image FOLDER`: the folder's images (file names, sorted), for the picker.
    case imageFolder(String, names: [String])
    /// The picker's preview of this image, or why it cannot be shown.
    case pickerPreview(path: String, PreviewCells?, problem: String?)
    case theme(Theme)
    case notice(String)
    case error(String)
    /// The app keeps this conversation in the saved conversation of this id.
    case conversationNamed(String)
    /// `/conversations`: what is saved in `folder`, most recent first (the current conversation left out).
    case conversationList([ConversationSummary], folder: String)
    /// `/search` or `/` in the picker: the conversations matching `query`, best first, each with its best match.
    case searchResults(query: String, [ConversationSummary])
    /// `/resume`: a saved conversation read back, with the images that could still be decoded.
    case resumed(SavedConversation, id: String, images: [ImageEntry], missing: [String])
}

/// What the UI asks the app to do.
public enum Effect: Sendable, Equatable {
    /// Answer the conversation so far (its last user message is the new prompt).
    case generate(generation: Int, messages: [Message], images: [String], settings: SessionSettings)
    /// Stop every pane's answer.
    case stop
    /// Stop the answer of the pane of this id.
    case stopPane(Int)
    /// Load a model into the pane of this id (its engine is made when needed).
    case loadModel(ModelEntry, pane: Int = 0)
    /// The pane of this id was closed: its engine can go.
    case closePane(Int)
    case attachImage(path: String)
    /// Render the image in view for a pane of this many cells.
    case renderPreview(image: Int, width: Int, height: Int)
    /// Render this file (highlighted in the folder picker) in this many cells.
    case renderPickerPreview(path: String, width: Int, height: Int)
    /// Attach the image on the system clipboard (Ctrl-V, `/paste`).
    case pasteImage
    case loadTheme(String)
    /// List the directory of this typed path (Tab after `/image `).
    case listDirectory(String)
    /// List the saved conversations (`/conversations`).
    case listConversations
    /// Take up the Nth most recent saved conversation other than this one (1: the latest).
    case resumeConversation(Int)
    /// Take up the saved conversation of this id (chosen in the picker).
    case resumeConversationID(String)
    /// Search the saved conversations' questions and answers for these words.
    case searchConversations(String)
    /// Delete the saved conversation of this id (its file).
    case deleteConversation(String)
    /// Keep this conversation (about to be cleared) in the saved conversation of this id (nil: a new one).
    case saveConversation(SavedConversation, id: String?)
    /// Write this text (the Markdown transcript) to the file at this path.
    case exportTranscript(path: String, text: String)
    /// Put this text on the terminal's clipboard (OSC 52).
    case copyToClipboard(String)
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
        case .modelLoading(let name, let id):
            guard let p = paneIndex(id: id) else { return [] }
            panes[p].modelStatus = .loading(name)
        case .modelReady(let name, let id, let notes, let tasks, let imageTokens):
            guard let p = paneIndex(id: id) else { return [] }
            panes[p].modelStatus = .ready
            panes[p].imageTokens = imageTokens
            panes[p].messages.append(Message(.notice, "Model \(name) is ready."))
            panes[p].messages += notes.map { Message(.notice, $0) }
            panes[p].tasks = tasks.isEmpty ? [.chat] : tasks
            if !panes[p].tasks.contains(panes[p].task) {
                let lacking = panes[p].task == .generate ? "has no Generate mode (Mini-Gemini's)" : "takes no \(panes[p].task.title) task tag"
                panes[p].messages.append(Message(.notice, "\(name) \(lacking): the task is \(panes[p].tasks[0].title)."))
                panes[p].task = panes[p].tasks[0]
            }
        case .modelFailed(let message, let id):
            guard let p = paneIndex(id: id) else { return [] }
            panes[p].modelStatus = .failed(message)
            panes[p].messages.append(Message(.error, message))
        case .activity(let g, let text):
            guard let p = paneIndex(generation: g), let i = panes[p].streamingMessage, panes[p].messages.indices.contains(i) else { return [] }
            panes[p].messages[i].activity = text
        case .generationNotice(let g, let text):
            guard let p = paneIndex(generation: g) else { return [] }
            // Above an answer that has not begun, so it reads before it.
            if let i = panes[p].streamingMessage, panes[p].messages.indices.contains(i), panes[p].messages[i].text.isEmpty {
                panes[p].messages.insert(Message(.notice, text), at: i)
                panes[p].streamingMessage = i + 1
            } else {
                panes[p].messages.append(Message(.notice, text))
            }
        case .token(let g, let text):
            guard let p = paneIndex(generation: g), let i = panes[p].streamingMessage, panes[p].messages.indices.contains(i) else { return [] }
            panes[p].messages[i].text += text
        case .figures(let g, let f):
            if let p = paneIndex(generation: g) { panes[p].figures = f } else if g == lastGeneration { figures = f }
        case .finished(let g):
            guard let p = paneIndex(generation: g) else { return [] }
            endGeneration(p)
        case .failed(let g, let message):
            guard let p = paneIndex(generation: g) else { return [] }
            endGeneration(p)
            panes[p].messages.append(Message(.error, message))
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
        case .imageFolder(let folder, let names):
            return openFolder(folder, names: names)
        case .pickerPreview(let path, let cells, let problem):
            if folderImages != nil { folderImages?.preview = (path, cells, problem) }
        case .theme(let t):
            theme = t
            note("Theme \(t.name).")
        case .notice(let text):
            note(text)
        case .conversationNamed(let id):
            conversationID = id
        case .conversationList(let list, let folder):
            listConversations(list, folder: folder)
        case .searchResults(let query, let list):
            showSearchResults(list, query: query)
        case .resumed(let saved, let id, let found, let missing):
            return resume(saved, id: id, images: found, missing: missing)
        }
        return []
    }

    mutating func note(_ text: String) { messages.append(Message(.notice, text)) }

    mutating func endGeneration(_ p: Int) {
        if let i = panes[p].streamingMessage, panes[p].messages.indices.contains(i) { panes[p].messages[i].streaming = false }
        panes[p].streamingMessage = nil
        panes[p].generation = nil
    }

    /// Stops the answers a prompt would go to (all panes when broadcasting, else the focused one).
    mutating func stopAnswers() -> [Effect] {
        let targets = broadcast ? Array(panes.indices) : [focusedPane]
        var effects: [Effect] = []
        for p in targets where panes[p].isGenerating {
            effects.append(panes.count == 1 ? .stop : .stopPane(panes[p].id))
            endGeneration(p)
        }
        return effects
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
        if case .release(let x, let y) = key { return release(x: x, y: y) }
        switch overlay {
        case .help(let page):
            overlay = key != .escape && page + 1 < helpPages().count ? .help(page: page + 1) : .none
            return []
        case .modelPicker(let i):
            return pick(key, index: i, count: models.count, make: { .modelPicker($0) }) { s, i in s.chooseModel(i) }
        case .conversationPicker(let i):
            return pickConversation(key, index: i)
        case .taskPicker(let i):
            return pick(key, index: i, count: tasks.count, make: { .taskPicker($0) }) { s, i in
                s.setTask(s.tasks[i])
                return []
            }
        case .imagePicker(let i):
            return pickImage(key, index: i)
        case .none:
            break
        }
        // Esc leaves the large image first (a second one stops the answers).
        if key == .escape && imageZoomed { return perform(.zoomImage) }
        if let action = keyMap.overrides[key] { return perform(action) }
        if let action = KeyMap.defaults[key] { return perform(action) }
        switch key {
        case .enter: return submit()
        case .newline: input.insert("\n")
        case .character(let c):
            if c == "?" && input.isEmpty { overlay = .help(page: 0) } else { input.insert(String(c)) }
        case .paste(let s):
            // Dropped or pasted image paths attach the images (terminals paste a dropped file's path, several
            // dropped files as one line of quoted paths).
            if input.isEmpty, let paths = PathCompletion.droppedImagePaths(s) {
                return paths.map { .attachImage(path: ($0 as NSString).expandingTildeInPath) }
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
        let all = tasks
        switch action {
        case .help: overlay = .help(page: 0)
        case .modelPicker: overlay = .modelPicker(selectedModel ?? 0)
        case .taskPicker: overlay = .taskPicker(all.firstIndex(of: task) ?? 0)
        case .nextTask: setTask(all[((all.firstIndex(of: task) ?? -1) + 1) % all.count])
        case .previousTask: setTask(all[((all.firstIndex(of: task) ?? 0) + all.count - 1) % all.count])
        case .regenerate: return regenerate()
        case .newConversation: return newConversation()
        case .nextImage:
            if !images.isEmpty {
                imageInView = (imageInView + 1) % images.count
                return previewRequest()
            }
        case .stop: return stopAnswers()
        case .nextPane: focusedPane = (focusedPane + 1) % panes.count
        case .zoom: zoomed = panes.count > 1 && !zoomed
        case .zoomImage:
            guard !images.isEmpty || imageZoomed else {
                note("No image to show large: attach one with /image PATH.")
                return []
            }
            imageZoomed.toggle()
            return previewRequest()
        case .pasteImage: return [.pasteImage]
        case .broadcast:
            broadcast.toggle()
            note(broadcast ? "Prompts go to every pane." : "Prompts go to the focused pane only.")
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
        dragStart = previewPoint(x: x, y: y, clamped: false)
        let layout = Layout(self)
        guard y == layout.topBar.y, let target = topBarTarget(atColumn: x) else {
            overlay = .none
            if let k = layout.conversations.firstIndex(where: { $0.contains(x: x, y: y) }) { focusedPane = layout.paneIndices[k] }
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

    /// Switching the task pre-fills MiniGPT-v2's suggested instruction when the input is empty, or still holds
    /// another task's untouched suggestion: cycling through Grounding with Tab must not leave "describe this image
    /// in detail" in front of what is typed for Detection.
    /// With prompts going to every pane the task follows for all of them; otherwise only the focused pane's changes.
    mutating func setTask(_ mode: TaskMode) {
        // A pane whose model takes no such tag keeps its task (MiniGPT-4 beside MiniGPT-v2 stays on Chat).
        for p in broadcast ? Array(panes.indices) : [focusedPane] where panes[p].tasks.contains(mode) { panes[p].task = mode }
        if TaskMode.allCases.contains(where: { $0.suggestedInstruction == input.string }) { input.set(mode.suggestedInstruction) }
    }

    /// Binds model `i` to the focused pane (with its configured task and settings) and asks for it to load.
    public mutating func chooseModel(_ i: Int) -> [Effect] {
        guard models.indices.contains(i) else { return [] }
        let p = focusedPane
        panes[p].selectedModel = i
        panes[p].modelStatus = .loading(models[i].name)
        if let mode = models[i].task { panes[p].task = mode }
        if let chosen = models[i].settings { panes[p].settings = chosen }
        var effects: [Effect] = panes[p].isGenerating ? [panes.count == 1 ? .stop : .stopPane(panes[p].id)] : []
        endGeneration(p)
        effects.append(.loadModel(models[i], pane: panes[p].id))
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
        let targets = (broadcast ? Array(panes.indices) : [focusedPane]).filter { panes[$0].modelStatus == .ready }
        guard !targets.isEmpty else {
            messages.append(Message(.error, "No model is ready: choose one with F2 or /model."))
            input.set(raw)
            return []
        }
        var effects: [Effect] = []
        for p in targets {
            panes[p].scroll = 0
            var question = Message(.user, panes[p].task.prompt(raw))
            question.ocr = panes[p].ocr
            panes[p].messages.append(question)
            effects += startGeneration(p)
        }
        return effects
    }

    mutating func startGeneration(_ p: Int) -> [Effect] {
        lastGeneration += 1
        panes[p].generation = lastGeneration
        let history = panes[p].messages.filter { $0.role == .user || $0.role == .assistant }
        panes[p].messages.append(Message(.assistant, "", streaming: true))
        panes[p].streamingMessage = panes[p].messages.count - 1
        return [.generate(generation: lastGeneration, messages: history, images: images.map(\.path), settings: panes[p].settings)]
    }

    mutating func regenerate() -> [Effect] {
        guard !isGenerating else { return [] }
        var effects: [Effect] = []
        for p in broadcast ? Array(panes.indices) : [focusedPane] {
            guard let lastAnswer = panes[p].messages.lastIndex(where: { $0.role == .assistant }) else { continue }
            panes[p].messages.remove(at: lastAnswer)
            effects += startGeneration(p)
        }
        return effects
    }

    mutating func newConversation() -> [Effect] {
        // Kept as it stands, an answer cut short included: the app saves only between answers otherwise.
        var effects: [Effect] = savedConversation.map { [.saveConversation($0, id: conversationID)] } ?? []
        for p in panes.indices where panes[p].isGenerating {
            effects.append(panes.count == 1 ? .stop : .stopPane(panes[p].id))
            endGeneration(p)
        }
        for p in panes.indices {
            panes[p].messages = []
            panes[p].scroll = 0
            panes[p].figures = GenerationFigures()
        }
        images = []
        imageZoomed = false
        imageInView = 0
        conversationID = nil
        return effects
    }
}
