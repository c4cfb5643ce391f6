import Foundation
import History
import UI

/// Where the app keeps conversations: the history database, or (while the database cannot be opened or
/// written) JSON files, one per conversation, which the database takes in once it works again.
protocol ConversationArchive: Sendable {
    /// The file or folder, for messages.
    var location: String { get }
    func newID() -> String
    func save(_ conversation: SavedConversation, id: String, answering: Set<Int>) throws
    func load(id: String) throws -> SavedConversation
    func list(excluding current: String?) -> (found: [ConversationSummary], problems: [String])
    func delete(id: String) throws
    /// Full-text search; nil where the archive cannot search (JSON files).
    func search(_ words: String) throws -> [SearchHit]?
}

/// The history database as the app's archive.
struct HistoryArchive: ConversationArchive {
    let database: HistoryDatabase
    var location: String { database.path }

    func newID() -> String {
        ConversationStore.newID { (try? database.contains(id: $0)) ?? false }
    }
    func save(_ conversation: SavedConversation, id: String, answering: Set<Int>) throws {
        try database.save(conversation, id: id, answering: answering)
    }
    func load(id: String) throws -> SavedConversation { try database.load(id: id) }
    func list(excluding current: String?) -> (found: [ConversationSummary], problems: [String]) {
        do { return (try database.list(excluding: current), []) } catch { return ([], ["\(error)"]) }
    }
    func delete(id: String) throws { try database.delete(id: id) }
    func search(_ words: String) throws -> [SearchHit]? { try database.search(words) }
}

extension ConversationStore: ConversationArchive {
    var location: String { folder }
    func save(_ conversation: SavedConversation, id: String, answering: Set<Int>) throws { try save(conversation, id: id) }
    func delete(id: String) throws { try FileManager.default.removeItem(atPath: path(of: id)) }
    func search(_ words: String) throws -> [SearchHit]? { nil }
}

enum Archives {
    static func databasePath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        (ConversationStore.standard(environment: environment).folder as NSString).deletingLastPathComponent + "/history.sqlite"
    }

    /// The history database, with the JSON files of earlier Glimpses (or of a session that could not open it)
    /// taken in; else the JSON folder, with a notice that says why.
    static func open(environment: [String: String] = ProcessInfo.processInfo.environment) -> (ConversationArchive, [String]) {
        let json = ConversationStore.standard(environment: environment)
        let path = databasePath(environment: environment)
        do {
            let database = try HistoryDatabase(path: path)
            var notices: [String] = []
            let (imported, problems) = try database.importJSON(folder: json.folder)
            if imported > 0 {
                notices.append("Took \(imported) saved conversation\(imported == 1 ? "" : "s") from \(json.folder) into the history (the files are kept).")
            }
            notices += problems.map { "Not taken into the history: \($0)" }
            return (HistoryArchive(database: database), notices)
        } catch {
            return (json, ["History is off (\(error)). Conversations are kept as JSON files in \(json.folder) "
                           + "meanwhile; the history takes them in once it opens."])
        }
    }
}
