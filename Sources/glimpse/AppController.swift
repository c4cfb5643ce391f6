import Engine
import Foundation
import ImagePreview
import Models
import Remote
import Tasks
import Terminal
import UI
import Vision

/// Runs the terminal app: keys and engine reports go through `AppState.update`, its effects are carried out
/// here (engine, image decoding, chafa), and the state is rendered into the terminal whenever it changed.
@MainActor
final class AppController {
    // Members without `private` are shared with AppController+Conversations.swift.
    var state: AppState
    private let backend: TerminalBackend
    /// One engine per pane id. The cores are split evenly between panes so two answers streaming at once
    /// share them fairly (a remote pane's engine computes nothing here); when a pane opens or closes the others get their new share after the answer they
    /// are writing. Weights and image embeddings are shared through `ModelStore.shared`.
    private var engines: [Int: any GenerationEngine] = [:]
    private var enginePanes = 1
    private let cores = ProcessInfo.processInfo.activeProcessorCount
    var images: [String: RGBImage] = [:]
    var dirty = true
    private var generationTasks: [Int: Task<Void, Never>] = [:]
    /// The last OCR outcome each pane was told of (said again only when it changes).
    private var ocrAnnounced: [Int: String] = [:]
    private let themeFolders: [String]
    /// Where conversations and the input history are kept; nil with `save_conversations = false`.
    var archive: ConversationArchive?
    let inputHistory: InputHistory?
    var saved: (id: String, conversation: SavedConversation)? = nil
    var historySaved = 0
    var savingFailed = false
    var lastSave = Date.distantPast
    let initialModel: Int?
    /// While `--resume` reads its conversation, effects wait here (the image named with it).
    var resumePending = false
    var afterResume: [Effect] = []
    /// Writes the preview in pixels where the terminal has them (nothing in symbols mode).
    let pixels: PixelPresenter
    /// Decoded images of the folder picker, by path (kept while it is open).
    private var pickerImages: [String: Result<RGBImage, Error>] = [:]

    init(models: [ModelEntry], initialModel: Int?, theme: Theme, themeFolders: [String], mouse: Bool = true,
         keyMap: KeyMap = KeyMap(), notices: [String] = [], comparing: [Int] = [], saving: Bool = true,
         resuming: Bool = false, graphics: GraphicsSetup.Choice) {
        let crashNote = CrashNote.standard()
        let lastCrash = crashNote.takeLast()
        backend = TerminalBackend(mouse: mouse, crashNote: crashNote.path)
        let size = backend.size
        state = AppState(width: size.width, height: size.height, theme: theme, models: models)
        state.keyMap = keyMap
        state.graphics = graphics.outcome.graphics
        state.cellSize = graphics.cell
        pixels = PixelPresenter(graphics: graphics.outcome.graphics, multiplexer: graphics.outcome.multiplexer, cell: graphics.cell)
        if graphics.outcome.graphics.isPixels { backend.preparePixelImages() }
        for notice in notices { _ = state.update(.notice(notice)) }
        if let lastCrash { _ = state.update(.notice(lastCrash)) }
        if let hint = graphics.outcome.hint { _ = state.update(.notice(hint)) }
        self.themeFolders = themeFolders
        self.initialModel = initialModel
        if saving {
            let (opened, said) = Archives.open()
            archive = opened
            for notice in said { _ = state.update(.notice(notice)) }
        }
        inputHistory = saving ? .standard() : nil
        if let entries = inputHistory?.load() { state.input.loadHistory(entries) }
        historySaved = state.input.history.count
        // Resuming loads the saved conversation's models instead (the initial one if there is nothing to resume).
        if resuming {
            resumePending = true
            perform([.resumeConversation(1)])
            return
        }
        if let i = initialModel { perform(state.chooseModel(i)) }
        if !comparing.isEmpty { perform(state.openComparison(comparing)) }
    }

    func run(attaching image: String?) async {
        // With --resume the image joins the resumed conversation's, once it is read.
        if let image { if resumePending { afterResume.append(.attachImage(path: image)) } else { perform([.attachImage(path: image)]) } }
        while !state.quitting {
            // SIGTERM, SIGHUP or a kill -INT, or the terminal closed: save and quit as if asked to.
            if backend.quitSignal != 0 || backend.terminalGone { state.quitting = true; break }
            let (keys, resized) = backend.readKeys()
            if resized {
                let size = backend.size
                apply(.resize(width: size.width, height: size.height))
            }
            for key in keys { apply(.key(key)) }
            if dirty || resized {
                let screen = state.render()
                backend.draw(screen)
                let image = screen.pixelImage.flatMap { images[$0.imagePath] }
                pixels.update(screen.pixelImage, image: image, force: resized, backend: backend)
                dirty = false
            }
            try? await Task.sleep(for: .milliseconds(8))
        }
        keepConversation(evenWhileAnswering: true)
        for engine in engines.values { await engine.stopRunning() }
        pixels.removeAll(backend: backend)
        backend.shutdown()
        // Back on the plain terminal: say where the conversation is, and how to go on with it.
        if let saved, let archive, saved.id == state.conversationID {
            print("Conversation \(saved.id) saved in \(archive.location)\n(glimpse --resume takes it up again)")
        }
    }

    /// Restores the terminal on a fatal error.
    func abort() { backend.shutdown() }

    func apply(_ events: AppEvent...) {
        for event in events {
            let effects = state.update(event)
            dirty = true
            perform(effects)
        }
        keepConversation()
        keepInputHistory()
    }

    private func engine(for pane: Int) -> any GenerationEngine {
        if let e = engines[pane] { return e }
        let e = localEngine()
        engines[pane] = e
        return e
    }

    private func localEngine() -> Engine { Engine(threads: max(1, cores / max(1, state.panes.count))) }

    /// After a split or a close: every engine gets an even share of the cores (from its next answer on).
    private func rebalance() {
        guard state.panes.count != enginePanes else { return }
        enginePanes = state.panes.count
        let share = max(1, cores / enginePanes)
        for engine in engines.values { Task { await engine.setThreads(share) } }
    }

    func perform(_ effects: [Effect]) {
        rebalance()
        for effect in effects {
            switch effect {
            case .quit: state.quitting = true
            case .stop: for e in engines.values { Task { await e.stopRunning() } }
            case .stopPane(let id): if let e = engines[id] { Task { await e.stopRunning() } }
            case .closePane(let id):
                if let e = engines.removeValue(forKey: id) { Task { await e.stopRunning() } }
            case .loadModel(let entry, let pane): load(entry, pane: pane)
            case .attachImage(let path): attach(path)
            case .renderPreview(let index, let width, let height): preview(index, width, height)
            case .renderPickerPreview(let path, let width, let height): pickerPreview(path, width, height)
            case .pasteImage: pasteImage()
            case .loadTheme(let name): loadTheme(name)
            case .listDirectory(let typedInput): listDirectory(typedInput)
            case .generate(let id, let messages, let paths, let settings): generate(id, messages, paths, settings)
            case .listConversations: listConversations()
            case .resumeConversation(let n): resumeConversation(n)
            case .resumeConversationID(let id): resumeConversation(id: id)
            case .searchConversations(let words): searchConversations(words)
            case .exportTranscript(let path, let text): exportTranscript(text, to: path)
            case .saveConversation(let conversation, let id): save(conversation, id: id)
            case .deleteConversation(let id): deleteConversation(id)
            case .copyToClipboard(let text): copyToClipboard(text)
            }
        }
    }

    private func load(_ entry: ModelEntry, pane: Int) {
        apply(.modelLoading(entry.name, pane: pane))
        // A pane keeps its local engine from model to model (the store shares weights); a remote model gets its own.
        let previous = engines[pane]
        let engine: any GenerationEngine
        if let remote = entry.remote {
            engine = ModelLoading.remoteEngine(remote)
        } else if let local = previous as? Engine {
            engine = local
        } else {
            engine = localEngine()
        }
        if let previous, previous !== engine { Task { await previous.stopRunning() } }
        engines[pane] = engine
        Task {
            do {
                let loaded = try await ModelLoading.load(entry, into: engine)
                // A pane rebuilt meanwhile has another engine: this load is stale.
                guard engines[pane] === engine else { return }
                apply(.modelReady(entry.name, pane: pane, notes: loaded.notes, tasks: loaded.tasks, imageTokens: loaded.imageTokens))
            } catch {
                if engines[pane] === engine { apply(.modelFailed("\(error)", pane: pane)) }
            }
        }
    }

    private func attach(_ typedPath: String) {
        // Absolute, so a saved conversation finds its images from any directory.
        let path = URL(fileURLWithPath: typedPath).standardizedFileURL.path
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue { return openFolder(path) }
        Task {
            let result = await Task.detached { () -> Result<RGBImage, Error> in Result { try ImageDecoder.load(path: path) } }.value
            switch result {
            case .success(let image):
                images[path] = image
                let name = (path as NSString).lastPathComponent
                apply(.imageAttached(ImageEntry(name: name, path: path, width: image.width, height: image.height)))
                // What the panes' models will make of it (a tiny image enlarged many times, a strip padded to a line).
                var said = Set<String>()
                for engine in engines.values {
                    for note in await engine.notes(for: image) where said.insert(note).inserted { apply(.notice(note)) }
                }
            case .failure(let error):
                apply(.imageFailed("\(error)"))
            }
        }
    }

    private var depth: ChafaPreview.Depth { backend.colors > 256 ? .trueColor : backend.colors >= 256 ? .indexed256 : .indexed16 }

    private func preview(_ index: Int, _ width: Int, _ height: Int) {
        guard index < state.images.count, let image = images[state.images[index].path] else { return }
        let (depth, ratio) = (depth, state.cellSize.ratio)
        Task {
            let cells = await Task.detached {
                ChafaPreview.render(pixels: image.pixels, imageWidth: image.width, imageHeight: image.height,
                                    width: width, height: height, depth: depth, cellRatio: ratio)
            }.value
            apply(.preview(image: index, cells))
        }
    }

    /// `/image FOLDER`: its JPEG and PNG files, sorted, for the picker.
    private func openFolder(_ path: String) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
            .filter { !$0.hasPrefix(".") && PathCompletion.isImageName($0) }.sorted { $0.localizedStandardCompare($1) == .orderedAscending }
        pickerImages = [:]
        apply(.imageFolder(path, names: names))
    }

    private func pickerPreview(_ path: String, _ width: Int, _ height: Int) {
        let (depth, ratio, known) = (depth, state.cellSize.ratio, pickerImages[path])
        Task {
            let decoded = await Task.detached { known ?? Result { try ImageDecoder.load(path: path) } }.value
            pickerImages[path] = decoded
            switch decoded {
            case .success(let image):
                let cells = await Task.detached {
                    ChafaPreview.render(pixels: image.pixels, imageWidth: image.width, imageHeight: image.height,
                                        width: width, height: height, depth: depth, cellRatio: ratio)
                }.value
                apply(.pickerPreview(path: path, cells, problem: nil))
            case .failure(let error):
                apply(.pickerPreview(path: path, nil, problem: "\(error)"))
            }
        }
    }

    /// Ctrl-V: the clipboard's image (saved under ~/.cache/glimpse/pasted) or copied image files.
    private func pasteImage() {
        Task {
            let result = await Task.detached { Result { try Clipboard.paste() } }.value
            switch result {
            case .success(let paths): perform(paths.map { .attachImage(path: $0) })
            case .failure(let error): apply(.error("\(error)"))
            }
        }
    }

    private func listDirectory(_ typedInput: String) {
        let typed = String(typedInput.dropFirst("/image ".count))
        let dir = PathCompletion.split(typed).directory
        let path = dir.isEmpty ? "." : (dir as NSString).expandingTildeInPath
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let entries = names.map { name -> String in
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent(name), isDirectory: &isDir)
            return isDir.boolValue ? name + "/" : name
        }
        apply(.directoryListing(forInput: typedInput, entries: entries))
    }

    private func loadTheme(_ name: String) {
        if name == "dark" { return apply(.theme(.dark)) }
        if name == "mono" { return apply(.theme(.mono)) }
        for folder in themeFolders {
            let path = "\(folder)/\(name).toml"
            guard FileManager.default.fileExists(atPath: path) else { continue }
            do { return apply(.theme(try Theme.load(path: path))) } catch { return apply(.error("\(error)")) }
        }
        apply(.error("no theme '\(name)' in \(themeFolders.joined(separator: ", "))"))
    }

    private func generate(_ id: Int, _ history: [Message], _ paths: [String], _ settings: SessionSettings) {
        var sampling = SamplingParameters()
        sampling.temperature = settings.temperature
        sampling.topP = settings.topP
        sampling.topK = settings.topK
        sampling.seed = settings.seed
        let pictures = paths.compactMap { images[$0] }
        guard let p = state.paneIndex(generation: id) else { return }
        let paneID = state.panes[p].id
        let engine = engine(for: paneID)
        let wantsOCR = !pictures.isEmpty && history.contains { $0.role == .user && $0.ocr }
        generationTasks[paneID] = Task {
            // Questions asked with /ocr get the images' text (Tesseract, cached per image) as MGM's --ocr adds it.
            var ocrText = ""
            if wantsOCR {
                apply(.activity(generation: id, "reading the image's text (Tesseract)"))
                let result = await Task.detached { Result { try TextReader.shared.text(of: pictures) } }.value
                // Stopped, or the pane closed, while Tesseract read.
                guard state.paneIndex(generation: id) != nil else { return }
                switch result {
                case .success(let text):
                    ocrText = text
                    let said = text.isEmpty ? "Tesseract found no text in the image." : "OCR (Tesseract): \(text)"
                    if ocrAnnounced[paneID] != said {
                        ocrAnnounced[paneID] = said
                        apply(.generationNotice(generation: id, said))
                    }
                case .failure(let error):
                    let said = "\(error)"
                    if ocrAnnounced[paneID] != said {
                        ocrAnnounced[paneID] = said
                        apply(.generationNotice(generation: id, said))
                    }
                }
            }
            var messages: [ChatMessage] = settings.systemPrompt.map { [ChatMessage(.system, $0)] } ?? []
            for m in history {
                let text = m.role == .user && m.ocr ? MiniGemini.withOCR(m.text, ocrText) : m.text
                messages.append(ChatMessage(m.role == .user ? .user : .assistant, text))
            }
            let request = GenerationRequest(prompt: .chat(messages), images: pictures,
                                            sampling: sampling, maxTokens: settings.maxTokens)
            for await event in await engine.generate(request) {
                switch event {
                case .phase(.encodingImage(let percent)):
                    apply(.activity(generation: id, "encoding the image" + (percent > 0 ? ", \(percent)%" : "")))
                case .phase(.readingPrompt(let n, let done)):
                    apply(.activity(generation: id, "reading \(n) prompt tokens" + (done > 0 ? ", \(done * 100 / n)%" : "")))
                case .phase(.server(let what)): apply(.activity(generation: id, what))
                case .token(let text): apply(.token(generation: id, text: text))
                case .stats(let s): apply(.figures(generation: id, figures(s)))
                case .finished(_, let s):
                    apply(.figures(generation: id, figures(s)))
                    apply(.finished(generation: id))
                case .failed(let message): apply(.failed(generation: id, message: message))
                }
            }
        }
    }

    /// OSC 52 (`ESC ] 52 ; c ; BASE64 BEL`): the terminal puts the text on the system clipboard, over SSH too.
    /// Written beside ncurses' output; it draws nothing.
    private func copyToClipboard(_ text: String) {
        backend.writeSequence(Array(("\u{1B}]52;c;" + Data(text.utf8).base64EncodedString() + "\u{07}").utf8))
    }

    private func figures(_ s: GenerationStats) -> GenerationFigures {
        var f = GenerationFigures()
        f.promptTokens = s.promptTokens
        f.generatedTokens = s.generatedTokens
        f.tokensPerSecond = s.tokensPerSecond
        f.timeToFirstTokenMs = s.timeToFirstToken * 1000
        f.imageEncodeMs = s.imageEncodeSeconds * 1000
        return f
    }
}
