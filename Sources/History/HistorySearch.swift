import Foundation
import GRDB

/// A turn that matched a search: its conversation, where it is, and the text around the words found.
public struct SearchHit: Sendable, Equatable, Codable {
    public var conversation: String
    public var updated: Date
    public var pane: Int
    public var turn: Int
    public var role: String
    /// The matching words with a little text either side ("…the red [circle] is left of…").
    public var snippet: String
}

extension HistoryDatabase {
    /// Full-text search over questions and answers, best match first (FTS5's bm25). Every word must occur;
    /// the last one may be the start of a word (as you type). Words are quoted, so no query syntax can fail.
    public func search(_ words: String, limit: Int = 50, marks: (String, String) = ("[", "]")) throws -> [SearchHit] {
        guard let query = Self.matchQuery(words) else { return [] }
        return try run { db in
            try Row.fetchAll(db, sql: """
                SELECT t.conversation, c.updated, t.pane, t.position, t.role,
                       snippet(turn_search, 0, ?, ?, '…', 12) AS snippet
                FROM turn_search JOIN turn t ON t.id = turn_search.rowid JOIN conversation c ON c.id = t.conversation
                WHERE turn_search MATCH ? ORDER BY bm25(turn_search), c.updated DESC LIMIT ?
                """, arguments: [marks.0, marks.1, query, limit]).map { row in
                SearchHit(conversation: row["conversation"], updated: Date(timeIntervalSince1970: row["updated"]),
                          pane: row["pane"], turn: row["position"], role: row["role"],
                          snippet: (row["snippet"] as String).replacingOccurrences(of: "\n", with: " "))
            }
        }
    }

    /// The words as an FTS5 query: each a quoted string (quotes inside doubled), the last a prefix. Nil when
    /// there is no word to look for.
    public static func matchQuery(_ words: String) -> String? {
        // Control characters (a NUL would end the query early in C) are spaces here.
        let cleaned = String(words.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
        let tokens = cleaned.split(whereSeparator: { $0.isWhitespace }).map { word in
            "\"" + word.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        guard !tokens.isEmpty else { return nil }
        return tokens.dropLast().joined(separator: " ") + (tokens.count > 1 ? " " : "") + tokens.last! + "*"
    }
}
