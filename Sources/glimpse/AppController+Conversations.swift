import Engine
import Foundation
import History
import UI
import Vision

/// Keeping conversations: saved as they go (the history database, else JSON files), the input history across
/// runs, and `/resume`, `/conversations`, `/search` and `/save`.
extension AppController {
    /// Saves the conversation when it changed: at once between answers, every couple of seconds while one
    /// streams (a closed terminal loses at most that much), and at quit.
    func keepConversation(evenWhileAnswering: Bool = false) {
        if !evenWhileAnswering, state.panes.contains(where: \.isGenerating), Date().timeIntervalSince(lastSave) < 2 { return }
        guard let conversation = state.savedConversation else { return }
        if let saved, saved.id == state.conversationID, saved.conversation == conversation { return }
        if let id = save(conversation, id: state.conversationID), state.conversationID == nil {
            _ = state.update(.conversationNamed(id))
        }
    }

    /// Writes the conversation (a new one when `id` is nil) and returns its id. When the history database fails
    /// (locked, read-only, full, damaged), the conversation goes to a JSON file instead, which the history takes
    /// in later; when that fails too, it is said once and the app goes on without saving.
    @discardableResult
    func save(_ conversation: SavedConversation, id: String?) -> String? {
        guard let archive, !savingFailed else { return nil }
        let id = id ?? archive.newID()
        let answering = Set(state.panes.indices.filter { state.panes[$0].isGenerating })
        do {
            try archive.save(conversation, id: id, answering: answering)
        } catch {
            let json = ConversationStore.standard()
            guard archive is HistoryArchive, (try? json.save(conversation, id: id)) != nil else {
                savingFailed = true
                _ = state.update(.error("Conversations cannot be saved (\(error)); this one is kept only until you quit."))
                dirty = true
                return nil
            }
            self.archive = json
            _ = state.update(.error("The history cannot be written (\(error)). Conversations go to JSON files in "
                                    + "\(json.folder) for now; the history takes them in next time."))
            dirty = true
        }
        saved = (id, conversation)
        lastSave = Date()
        return id
    }

    func keepInputHistory() {
        guard let inputHistory, state.input.history.count > historySaved else { return }
        for entry in state.input.history[historySaved...] { try? inputHistory.append(entry) }
        historySaved = state.input.history.count
    }

    func listConversations() {
        guard let archive else { return apply(.error("Saving conversations is off (save_conversations = false in config.toml).")) }
        let (list, problems) = archive.list(excluding: state.conversationID)
        apply(.conversationList(list, folder: archive.location))
        for problem in problems { apply(.error("Skipped \(problem)")) }
    }

    /// `/search WORDS`, or `/` in the conversation picker: the conversations whose turns hold the words, best
    /// first, each with its best matching turn.
    func searchConversations(_ words: String) {
        guard let archive else { return apply(.error("Saving conversations is off (save_conversations = false in config.toml).")) }
        do {
            guard let hits = try archive.search(words) else {
                return apply(.error("Search needs the history database, which is off this session (\(archive.location) is in use)."))
            }
            apply(.searchResults(query: words, Self.bestPerConversation(hits, summaries: archive.list(excluding: nil).found)))
        } catch {
            apply(.error("Cannot search: \(error)"))
        }
    }

    /// One line per conversation: its best hit (hits come best first), and how many of its turns matched.
    static func bestPerConversation(_ hits: [SearchHit], summaries: [ConversationSummary]) -> [ConversationSummary] {
        let byID = Dictionary(summaries.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var order: [String] = [], matches: [String: (hit: SearchHit, count: Int)] = [:]
        for hit in hits {
            if let found = matches[hit.conversation] { matches[hit.conversation] = (found.hit, found.count + 1); continue }
            order.append(hit.conversation)
            matches[hit.conversation] = (hit, 1)
        }
        return order.compactMap { id in
            guard var summary = byID[id], let (hit, count) = matches[id] else { return nil }
            let who = hit.role == "user" ? "You" : "Answer"
            summary.match = "\(who): \(hit.snippet)" + (count > 1 ? " (+\(count - 1) more)" : "")
            return summary
        }
    }

    /// Reads the Nth most recent saved conversation (not this one) and its images off the main actor, then takes
    /// it up. At start (`--resume`) with nothing to resume, the initial model loads instead.
    func resumeConversation(_ n: Int) {
        let starting = state.panes.allSatisfy { $0.selectedModel == nil }
        func fail(_ message: String) {
            apply(.error(message))
            if starting, let i = initialModel { perform(state.chooseModel(i)) }
            finishResuming()
        }
        guard let archive else { return fail("Saving conversations is off (save_conversations = false in config.toml).") }
        let (list, _) = archive.list(excluding: state.conversationID)
        guard list.indices.contains(n - 1) else {
            return fail(list.isEmpty ? "No saved conversations in \(archive.location)."
                        : "There are \(list.count) saved conversations: /conversations lists them.")
        }
        resumeConversation(id: list[n - 1].id, starting: starting)
    }

    /// Reads the conversation `id` and its images off the main actor, then takes it up.
    func resumeConversation(id: String, starting: Bool = false) {
        func fail(_ message: String) {
            apply(.error(message))
            if starting, let i = initialModel { perform(state.chooseModel(i)) }
            finishResuming()
        }
        guard let archive else { return fail("Saving conversations is off (save_conversations = false in config.toml).") }
        Task {
            let loaded = await Task.detached { () -> Result<(SavedConversation, [(String, RGBImage)], [String]), Error> in
                Result {
                    var saved = try archive.load(id: id)
                    var decoded: [(String, RGBImage)] = [], missing: [String] = []
                    for path in saved.images {
                        if let image = try? ImageDecoder.load(path: path) { decoded.append((path, image)) } else { missing.append(path) }
                    }
                    // A model file that is gone is looked up by name instead.
                    for k in saved.panes.indices where saved.panes[k].path.map({ !FileManager.default.fileExists(atPath: $0) }) ?? false {
                        saved.panes[k].path = nil
                    }
                    return (saved, decoded, missing)
                }
            }.value
            switch loaded {
            case .success(let (conversation, decoded, missing)):
                for (path, image) in decoded { images[path] = image }
                let entries = decoded.map { path, image in
                    ImageEntry(name: (path as NSString).lastPathComponent, path: path, width: image.width, height: image.height)
                }
                apply(.resumed(conversation, id: id, images: entries, missing: missing))
                finishResuming()
            case .failure(let error):
                fail("\(error)")
            }
        }
    }

    func finishResuming() {
        resumePending = false
        let held = afterResume
        afterResume = []
        perform(held)
    }

    func deleteConversation(_ id: String) {
        guard let archive else { return }
        do { try archive.delete(id: id) } catch {
            apply(.error("Cannot delete \(id) from \(archive.location): \(error)"))
        }
    }

    func exportTranscript(_ text: String, to path: String) {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            apply(.notice("Saved the conversation to \(path)."))
        } catch {
            apply(.error("Cannot write \(path): \((error as NSError).localizedDescription)"))
        }
    }
}
