import Foundation
import Tasks

/// A conversation as it is kept on disk, so that quitting loses nothing (a crash or a closed terminal, at most the
/// last moments of an answer) and `/resume` can take it up again: the images, and each pane's model, task, settings and turns. Notices and
/// errors are not kept: they describe that session, not the conversation. The app writes one JSON file per
/// conversation; this type knows nothing of files.
public struct SavedConversation: Codable, Sendable, Equatable {
    public struct Turn: Codable, Sendable, Equatable {
        /// "user" or "assistant".
        public var role: String
        public var text: String
        /// A question asked with OCR on (`/ocr`); absent otherwise (and in files written before it).
        public var ocr: Bool?
        public init(role: String, text: String, ocr: Bool? = nil) {
            self.role = role
            self.text = text
            self.ocr = ocr
        }
    }

    public struct SavedPane: Codable, Sendable, Equatable {
        /// The model's name and files when the conversation was saved (the name may mean another file later).
        public var model: String?
        public var path: String?
        public var mmproj: String?
        public var task: TaskMode
        public var settings: SessionSettings
        public var turns: [Turn]
        /// The pane's `/ocr` switch, when on (absent in files written before it).
        public var ocr: Bool? = nil
        public init(model: String?, path: String?, mmproj: String?, task: TaskMode, settings: SessionSettings,
                    turns: [Turn], ocr: Bool? = nil) {
            self.model = model
            self.path = path
            self.mmproj = mmproj
            self.task = task
            self.settings = settings
            self.turns = turns
            self.ocr = ocr
        }
    }

    /// Bumped when a field changes meaning; files of a newer version are refused with a message.
    public static let currentVersion = 1
    public var version = SavedConversation.currentVersion
    /// Absolute paths, in the order they were attached (the order the model sees them).
    public var images: [String]
    public var panes: [SavedPane]

    public init(version: Int = SavedConversation.currentVersion, images: [String], panes: [SavedPane]) {
        self.version = version
        self.images = images
        self.panes = panes
    }

    /// The first question, for lists of saved conversations.
    public var firstQuestion: String? {
        panes.lazy.compactMap { $0.turns.first { $0.role == "user" }?.text }.first
    }
    public var questionCount: Int { panes.map { $0.turns.filter { $0.role == "user" }.count }.max() ?? 0 }

    /// As the JSON files are written (`/save FILE.json`, `glimpse history --show ID --json`).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }
}

/// One line of `/conversations`: enough to recognise a conversation without opening it.
public struct ConversationSummary: Sendable, Equatable {
    public var id: String
    public var updated: Date
    public var models: [String]
    public var firstQuestion: String
    public var questions: Int
    /// For a search result: the matching turn's words in context ("You: …a [red] circle…").
    public var match: String?
    public init(id: String, updated: Date, models: [String], firstQuestion: String, questions: Int, match: String? = nil) {
        self.id = id
        self.updated = updated
        self.models = models
        self.firstQuestion = firstQuestion
        self.questions = questions
        self.match = match
    }
}

extension AppState {
    // MARK: Saving

    /// The conversation as it should be kept; nil until something has been asked (an app opened and closed
    /// without a question leaves no file). An answer still streaming is kept as far as it has come.
    public var savedConversation: SavedConversation? {
        let panes = self.panes.map { pane -> SavedConversation.SavedPane in
            let model = self.model(of: pane)
            let turns = pane.messages.compactMap { m -> SavedConversation.Turn? in
                switch m.role {
                case .user: return .init(role: "user", text: m.text, ocr: m.ocr ? true : nil)
                case .assistant: return .init(role: "assistant", text: m.text)
                case .notice, .error: return nil
                }
            }
            return .init(model: model?.name, path: model?.path, mmproj: model?.mmproj, task: pane.task,
                         settings: pane.settings, turns: turns, ocr: pane.ocr ? true : nil)
        }
        guard panes.contains(where: { $0.turns.contains { $0.role == "user" } }) else { return nil }
        return SavedConversation(images: images.map(\.path), panes: panes)
    }

    // MARK: Resuming

    /// Takes up a saved conversation: its panes with their models (loaded again unless the pane already has that
    /// model ready), tasks, settings and turns, and the images that could still be read (`images`; the paths in
    /// `missing` are named in a notice). The conversation goes on in the same file (`id`).
    public mutating func resume(_ saved: SavedConversation, id: String, images found: [ImageEntry], missing: [String]) -> [Effect] {
        // A hand-edited or damaged file may list no panes; the app always has one (found by the conversation fuzzer).
        guard !saved.panes.isEmpty else {
            messages.append(Message(.error, "The conversation \(id) has no panes to take up; nothing was changed."))
            return []
        }
        var effects = newConversation()
        while panes.count > saved.panes.count {
            let closing = panes.removeLast()
            effects.append(.closePane(closing.id))
        }
        focusedPane = 0
        zoomed = false
        for (k, savedPane) in saved.panes.enumerated() {
            if k == panes.count { panes.append(Pane(id: (panes.map(\.id).max() ?? 0) + 1)) }
            panes[k].task = savedPane.task
            panes[k].settings = savedPane.settings
            panes[k].ocr = savedPane.ocr ?? false
            panes[k].messages = savedPane.turns.map { turn in
                var m = Message(turn.role == "user" ? .user : .assistant, turn.text)
                m.ocr = turn.role == "user" && turn.ocr == true
                return m
            }
            guard let index = modelIndex(name: savedPane.model, path: savedPane.path, mmproj: savedPane.mmproj) else {
                panes[k].selectedModel = nil
                panes[k].modelStatus = .none
                panes[k].messages.append(Message(.error, "This conversation's model is not known here: choose one with F2 or /model."))
                continue
            }
            if panes[k].selectedModel == index, panes[k].modelStatus == .ready { continue }
            panes[k].selectedModel = index
            panes[k].modelStatus = .loading(models[index].name)
            effects.append(.loadModel(models[index], pane: panes[k].id))
        }
        images = found
        imageInView = 0
        conversationID = id
        let questions = saved.questionCount
        note("Resumed the conversation \(id) (\(questions) question\(questions == 1 ? "" : "s")).")
        if !missing.isEmpty { messages.append(Message(.error, "Its images are gone: \(missing.joined(separator: ", ")).")) }
        return effects + previewRequest()
    }

    /// The model a saved pane used: the same file if it is offered, else one of the same name, else the file
    /// added to the models offered. (The app leaves out the path of a file that is gone before resuming.)
    mutating func modelIndex(name: String?, path: String?, mmproj: String?) -> Int? {
        if let path, let i = models.firstIndex(where: { $0.path == path }) { return i }
        if let name, let i = models.firstIndex(where: { $0.name == name }) { return i }
        guard let path else { return nil }
        models.append(ModelEntry(name: name ?? (path as NSString).lastPathComponent, path: path, mmproj: mmproj))
        return models.count - 1
    }

    /// `/conversations`: the saved conversations, most recent first, in a picker (numbered as `/resume N` counts).
    mutating func listConversations(_ list: [ConversationSummary], folder: String) {
        savedConversations = list
        searchedFor = nil
        conversationSearch = nil
        guard !list.isEmpty else { return note("No saved conversations in \(folder).") }
        overlay = .conversationPicker(0)
    }

    /// The picker again, listing the conversations a search found (it stays open when none did, to search again).
    mutating func showSearchResults(_ list: [ConversationSummary], query: String) {
        savedConversations = list
        searchedFor = query
        conversationSearch = nil
        pendingDeletion = nil
        overlay = .conversationPicker(0)
    }

    /// Keys in the picker: Enter resumes, `d` twice deletes (the first only asks), `/` searches (words typed,
    /// Enter looks), Up/Down/Esc as in every picker.
    mutating func pickConversation(_ key: Key, index i: Int) -> [Effect] {
        if let words = conversationSearch { return typeSearch(key, words: words) }
        if key == .character("/") {
            pendingDeletion = nil
            conversationSearch = ""
            return []
        }
        guard key == .character("d") || key == .delete else {
            pendingDeletion = nil
            let list = savedConversations
            if key == .escape { searchedFor = nil }
            return pick(key, index: i, count: list.count, make: { .conversationPicker($0) }) { _, i in
                [.resumeConversationID(list[i].id)]
            }
        }
        guard pendingDeletion == i, savedConversations.indices.contains(i) else {
            pendingDeletion = i
            return []
        }
        pendingDeletion = nil
        let id = savedConversations.remove(at: i).id
        overlay = savedConversations.isEmpty ? .none : .conversationPicker(min(i, savedConversations.count - 1))
        note("Deleted the saved conversation \(id).")
        return [.deleteConversation(id)]
    }

    /// Typing the words of a search in the picker.
    mutating func typeSearch(_ key: Key, words: String) -> [Effect] {
        switch key {
        case .character(let c): conversationSearch = words + String(c)
        case .paste(let text): conversationSearch = words + text.replacingOccurrences(of: "\n", with: " ")
        case .backspace: conversationSearch = String(words.dropLast())
        case .escape: conversationSearch = nil
        case .enter:
            conversationSearch = nil
            let query = words.trimmingCharacters(in: .whitespaces)
            return query.isEmpty ? [] : [.searchConversations(query)]
        default: break
        }
        return []
    }

    var conversationPickerTitle: String {
        if let words = conversationSearch { return "Search: \(words)▏ (Enter searches, Esc back)" }
        if let i = pendingDeletion { return "Delete conversation \(i + 1)? d again deletes it, any other key keeps it" }
        if let query = searchedFor {
            let n = savedConversations.count
            return "\(n) conversation\(n == 1 ? "" : "s") with \"\(query)\" (Enter resumes, / searches again, Esc closes)"
        }
        return "Saved conversations (Enter resumes, d deletes, / searches, Esc closes)"
    }

    /// Made once: the picker's lines are drawn every frame it is open. (Render runs on the main thread only.)
    nonisolated(unsafe) static let listDateFormat: DateFormatter = {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f
    }()

    /// The picker's lines: "1  2026-11-23 13:15  shapes, 3 questions: [grounding] describe this image in detail".
    public var conversationLines: [String] {
        let format = Self.listDateFormat
        return savedConversations.enumerated().map { i, c in
            let question = c.firstQuestion.count > 60 ? String(c.firstQuestion.prefix(59)) + "…" : c.firstQuestion
            let questions = "\(c.questions) question\(c.questions == 1 ? "" : "s")"
            if let match = c.match { return "\(i + 1)  \(format.string(from: c.updated))  \(match)" }
            return "\(i + 1)  \(format.string(from: c.updated))  \(c.models.joined(separator: ", ")), \(questions): \(question)"
        }
    }
}
