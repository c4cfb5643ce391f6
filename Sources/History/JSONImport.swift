import Foundation
import GRDB
import UI

extension HistoryDatabase {
    /// Takes in the conversations that earlier Glimpses kept as JSON files (one per conversation, named by its
    /// id), each file once: the files stay where they are, and one deleted here later is not taken in again.
    /// Returns how many came in and, once per file, why one could not be read.
    public func importJSON(folder: String) throws -> (imported: Int, problems: [String]) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
        guard !names.isEmpty else { return (0, []) }
        let done = Set(try run { db in try String.fetchAll(db, sql: "SELECT file FROM imported") })
        var imported = 0, problems: [String] = []
        for name in names where !done.contains(name) {
            let file = folder + "/" + name
            let id = String(name.dropLast(".json".count))
            let now = Date().timeIntervalSince1970
            do {
                let saved = try Self.decodeJSON(file: file)
                let modified = (try? FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date) ?? Date()
                if try !contains(id: id) {
                    try save(saved, id: id, now: modified)
                    imported += 1
                }
                try write { db in
                    try db.execute(sql: "INSERT OR REPLACE INTO imported(file, conversation, problem, at) VALUES (?, ?, NULL, ?)",
                                   arguments: [name, id, now])
                }
            } catch let error as HistoryError where error.kind != .other {
                throw error  // the database itself failed: stop, and try again next time
            } catch {
                problems.append("\(error)")
                try write { db in
                    try db.execute(sql: "INSERT OR REPLACE INTO imported(file, conversation, problem, at) VALUES (?, NULL, ?, ?)",
                                   arguments: [name, "\(error)", now])
                }
            }
        }
        return (imported, problems)
    }

    /// One saved-conversation JSON file, with a message that says where it is wrong.
    public static func decodeJSON(file: String) throws -> SavedConversation {
        guard let data = FileManager.default.contents(atPath: file) else { throw HistoryError(path: file, "cannot be read") }
        let saved: SavedConversation
        do { saved = try JSONDecoder().decode(SavedConversation.self, from: data) } catch {
            throw HistoryError(path: file, "not a saved conversation (\(describe(error)))")
        }
        guard saved.version <= SavedConversation.currentVersion else {
            throw HistoryError(path: file, "saved by a newer Glimpse (version \(saved.version)); update Glimpse to resume it")
        }
        guard !saved.panes.isEmpty else { throw HistoryError(path: file, "not a saved conversation (it has no panes)") }
        return saved
    }

    /// A decoding error in a sentence: where in the file, and what was wrong.
    public static func describe(_ error: Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func at(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? "" : " at \(path)"
        }
        switch e {
        case .dataCorrupted(let c): return "not valid JSON\(at(c))"
        case .keyNotFound(let key, let c): return "'\(key.stringValue)' missing\(at(c))"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\(c.debugDescription)\(at(c))"
        @unknown default: return "\(error)"
        }
    }
}
