import ArgumentParser
import Foundation
import History
import UI

/// `glimpse history`: the saved conversations on the command line: listed, searched, or one shown whole.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List, search or show the saved conversations (the app's /conversations and /search).")

    @Option(help: "Only conversations whose questions or answers hold these words (best match first).")
    var search: String?
    @Option(help: "Print this conversation (an id from the list) as Markdown, or as JSON with --json.")
    var show: String?
    @Flag(help: "JSON instead of text.")
    var json = false
    @Option(help: "At most this many lines.")
    var limit = 50

    func run() throws {
        let path = Archives.databasePath()
        let database: HistoryDatabase
        do {
            // Opening writes (the schema, JSON files taken in); a history that cannot be written is still read.
            if FileManager.default.fileExists(atPath: path) || Self.hasJSON() {
                database = try Self.openTakingJSON(path)
            } else {
                throw fail("no saved conversations yet (the history will be \(path))")
            }
        }
        if let show {
            let saved: SavedConversation
            do { saved = try database.load(id: show) } catch { throw fail("\(error)") }
            print(json ? saved.json : saved.markdown(title: "Glimpse conversation \(show)"), terminator: "")
            return
        }
        let summaries: [ConversationSummary]
        do { summaries = try database.list() } catch { throw fail("\(error)") }
        if let search {
            let hits: [SearchHit]
            do { hits = try database.search(search, limit: limit) } catch { throw fail("\(error)") }
            if json { return print(Self.encode(hits)) }
            if hits.isEmpty { return print("No saved conversation holds \"\(search)\".") }
            for hit in hits {
                print("\(hit.conversation)  \(Self.date(hit.updated))  \(hit.role == "user" ? "You" : "Answer"): \(hit.snippet)")
            }
            return
        }
        let shown = Array(summaries.prefix(limit))
        if json { return print(Self.encode(shown.map(Listed.init))) }
        if shown.isEmpty { return print("No saved conversations in \(path).") }
        for c in shown {
            let question = c.firstQuestion.count > 70 ? String(c.firstQuestion.prefix(69)) + "…" : c.firstQuestion
            print("\(c.id)  \(Self.date(c.updated))  \(c.models.joined(separator: ", "))  \(c.questions)q  \(question)")
        }
        if summaries.count > shown.count { print("(\(summaries.count - shown.count) more: --limit N shows more)") }
    }

    static func openTakingJSON(_ path: String) throws -> HistoryDatabase {
        do {
            let database = try HistoryDatabase(path: path)
            let (_, problems) = try database.importJSON(folder: ConversationStore.standard().folder)
            for problem in problems { FileHandle.standardError.write(Data("glimpse: not taken into the history: \(problem)\n".utf8)) }
            return database
        } catch let error as HistoryError where error.kind == .readOnly || error.kind == .locked {
            do { return try HistoryDatabase(path: path, options: .init(readOnly: true)) } catch { throw fail("\(error)") }
        } catch {
            throw fail("\(error)")
        }
    }

    static func hasJSON() -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: ConversationStore.standard().folder)) ?? []).contains { $0.hasSuffix(".json") }
    }

    /// One conversation in `--json`'s list.
    struct Listed: Encodable {
        var id: String, updated: Date, models: [String], questions: Int, firstQuestion: String
        init(_ c: ConversationSummary) {
            (id, updated, models, questions, firstQuestion) = (c.id, c.updated, c.models, c.questions, c.firstQuestion)
        }
    }

    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: (try? encoder.encode(value)) ?? Data("[]".utf8), as: UTF8.self)
    }

    static func date(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: d)
    }
}
