import Foundation

/// Completion of a typed path against a directory's entries (the app lists the directory; this stays pure).
public enum PathCompletion {
    /// `typed` is what follows "/image "; `entries` are the names in its directory, folders ending in "/".
    /// Returns the completed text and the candidates (more than one: the user picks by typing more).
    public static func complete(_ typed: String, entries: [String]) -> (text: String, candidates: [String]) {
        let (dir, partial) = split(typed)
        let matches = entries.filter { $0.hasPrefix(partial) && !$0.hasPrefix(".") || (partial.hasPrefix(".") && $0.hasPrefix(partial)) }
            .sorted()
        guard let first = matches.first else { return (typed, []) }
        var common = first
        for m in matches.dropFirst() {
            while !m.hasPrefix(common) { common.removeLast() }
        }
        return (dir + common, matches.count > 1 ? matches : [])
    }

    /// The directory part (kept as typed, with its trailing "/") and the name being typed.
    public static func split(_ typed: String) -> (directory: String, partial: String) {
        guard let slash = typed.lastIndex(of: "/") else { return ("", typed) }
        return (String(typed[...slash]), String(typed[typed.index(after: slash)...]))
    }

    /// A pasted or dropped text that is one image path (terminals quote it or escape its spaces), unquoted.
    public static func droppedImagePath(_ text: String) -> String? {
        var s = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if s.count >= 2, let q = s.first, q == "'" || q == "\"", s.last == q { s = String(s.dropFirst().dropLast()) }
        if s.hasPrefix("file://") { s = String(s.dropFirst(7)) }
        s = s.replacingOccurrences(of: "\\ ", with: " ")
        guard !s.contains("\n"), s.hasPrefix("/") || s.hasPrefix("~") || s.hasPrefix("./") else { return nil }
        let lower = s.lowercased()
        guard [".png", ".jpg", ".jpeg"].contains(where: { lower.hasSuffix($0) }) else { return nil }
        return s
    }
}
