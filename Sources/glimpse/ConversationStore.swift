import Foundation
import History
import UI

/// Conversations as JSON files, one per conversation in `$XDG_DATA_HOME/glimpse/conversations` (default
/// `~/.local/share/glimpse/conversations`), named by when it began (`2026-11-23-134005.json`). Earlier Glimpses
/// kept them so; now it is where conversations go while the history database cannot be used, and the database
/// takes them in from here.
struct ConversationStore: Sendable {
    let folder: String

    static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> ConversationStore {
        let base = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.local/share"
        return ConversationStore(folder: base + "/glimpse/conversations")
    }

    func path(of id: String) -> String { "\(folder)/\(id).json" }

    func newID() -> String { Self.newID { FileManager.default.fileExists(atPath: path(of: $0)) } }

    /// A new id from the time, with a suffix if a conversation began in the same second.
    static func newID(now: Date = Date(), taken: (String) -> Bool) -> String {
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.dateFormat = "yyyy-MM-dd-HHmmss"
        let stem = format.string(from: now)
        var id = stem, n = 1
        while taken(id) { n += 1; id = "\(stem)-\(n)" }
        return id
    }

    /// Written to a temporary file and moved into place, so a crash mid-write leaves the previous version whole.
    func save(_ conversation: SavedConversation, id: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(conversation)
        let temporary = "\(folder)/.\(id).json.tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path(of: id)) == 0 else {
            throw CatalogError("\(path(of: id)): \(String(cString: strerror(errno)))")
        }
    }

    func load(id: String) throws -> SavedConversation { try HistoryDatabase.decodeJSON(file: path(of: id)) }

    /// The saved conversations, most recently changed first, and why any file could not be read.
    func list(excluding current: String? = nil) -> (found: [ConversationSummary], problems: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var found: [ConversationSummary] = [], problems: [String] = []
        for name in names where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let id = String(name.dropLast(".json".count))
            guard id != current else { continue }
            let saved: SavedConversation
            do { saved = try load(id: id) } catch { problems.append("\(error)"); continue }
            let modified = (try? FileManager.default.attributesOfItem(atPath: path(of: id))[.modificationDate] as? Date) ?? nil
            found.append(ConversationSummary(id: id, updated: modified ?? .distantPast,
                                             models: saved.panes.map { $0.model ?? "no model" },
                                             firstQuestion: saved.firstQuestion ?? "", questions: saved.questionCount))
        }
        return (found.sorted { ($0.updated, $0.id) > ($1.updated, $1.id) }, problems)
    }
}

/// The input field's history across runs: `$XDG_STATE_HOME/glimpse/history` (default `~/.local/state`), one JSON
/// string a line so prompts of several lines come back whole. Kept to the last `limit` entries.
struct InputHistory {
    let path: String
    var limit = 1000

    static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> InputHistory {
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.local/state"
        return InputHistory(path: base + "/glimpse/history")
    }

    /// The entries, oldest first; lines that are not JSON strings are skipped. A file grown past twice the limit
    /// is cut back to the limit here, so appending stays cheap.
    func load() -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let entries = data.split(separator: UInt8(ascii: "\n")).compactMap { line in
            try? JSONDecoder().decode(String.self, from: Data(line))
        }
        if entries.count > 2 * limit { rewrite(Array(entries.suffix(limit))) }
        return Array(entries.suffix(limit))
    }

    func append(_ entry: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var line = try Self.encoder.encode(entry)
        line.append(UInt8(ascii: "\n"))
        guard let handle = FileHandle(forWritingAtPath: path) else { return try line.write(to: URL(fileURLWithPath: path)) }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = .withoutEscapingSlashes
        return e
    }()

    private func rewrite(_ entries: [String]) {
        let lines = entries.compactMap { try? Self.encoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) }
        try? (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}
