import Engine
import Foundation
import UI
import Vision

/// Keeping conversations: saved as they go (ConversationStore), the input history across runs, and `/resume`,
/// `/conversations` and `/save`.
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

    /// Writes the conversation (a new file when `id` is nil) and returns its id. A failure is said once; the app
    /// goes on without saving.
    @discardableResult
    func save(_ conversation: SavedConversation, id: String?) -> String? {
        guard let store, !savingFailed else { return nil }
        let id = id ?? store.newID()
        do {
            try store.save(conversation, id: id)
            saved = (id, conversation)
            lastSave = Date()
            return id
        } catch {
            savingFailed = true
            _ = state.update(.error("Conversations cannot be saved (\(error)); this one is kept only until you quit."))
            dirty = true
            return nil
        }
    }

    func keepInputHistory() {
        guard let inputHistory, state.input.history.count > historySaved else { return }
        for entry in state.input.history[historySaved...] { try? inputHistory.append(entry) }
        historySaved = state.input.history.count
    }

    func listConversations() {
        guard let store else { return apply(.error("Saving conversations is off (save_conversations = false in config.toml).")) }
        let (list, problems) = store.list(excluding: state.conversationID)
        apply(.conversationList(list, folder: store.folder))
        for problem in problems { apply(.error("Skipped \(problem)")) }
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
        guard let store else { return fail("Saving conversations is off (save_conversations = false in config.toml).") }
        let (list, _) = store.list(excluding: state.conversationID)
        guard list.indices.contains(n - 1) else {
            return fail(list.isEmpty ? "No saved conversations in \(store.folder)."
                        : "There are \(list.count) saved conversations: /conversations lists them.")
        }
        let id = list[n - 1].id
        Task {
            let loaded = await Task.detached { () -> Result<(SavedConversation, [(String, RGBImage)], [String]), Error> in
                Result {
                    var saved = try store.load(id: id)
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
        guard let store else { return }
        do { try FileManager.default.removeItem(atPath: store.path(of: id)) } catch {
            apply(.error("Cannot delete \(store.path(of: id)): \((error as NSError).localizedDescription)"))
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
