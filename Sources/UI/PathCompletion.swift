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

    /// A pasted or dropped text that is one or more image paths, unquoted: terminals quote a dropped file's path
    /// or escape its spaces, some send `file://` URLs (percent-encoded), and several dropped files arrive as one
    /// line of them. Nil when any piece is not an image path (then it is text to type).
    public static func droppedImagePaths(_ text: String) -> [String]? {
        let pieces = words(text.trimmingCharacters(in: .whitespacesAndNewlines))
        guard !pieces.isEmpty else { return nil }
        var paths: [String] = []
        for piece in pieces {
            let s = fileURLPath(piece) ?? piece
            guard s.hasPrefix("/") || s.hasPrefix("~") || s.hasPrefix("./") else { return nil }
            guard isImageName(s) else { return nil }
            paths.append(s)
        }
        return paths
    }

    /// Whether a file name is one Glimpse decodes (JPEG or PNG, by its extension).
    public static func isImageName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return [".png", ".jpg", ".jpeg"].contains { lower.hasSuffix($0) }
    }

    /// The path of a `file://` URL (`file:///a%20b.png`, `file://localhost/...`), nil for anything else.
    public static func fileURLPath(_ text: String) -> String? {
        guard text.lowercased().hasPrefix("file://") else { return nil }
        var rest = String(text.dropFirst(7))
        if !rest.hasPrefix("/") {
            // file://HOST/path: only this machine's files can be read.
            guard let slash = rest.firstIndex(of: "/") else { return nil }
            rest = String(rest[slash...])
        }
        return rest.removingPercentEncoding ?? rest
    }

    /// Splits at unquoted, unescaped whitespace, as a shell would: 'a b.png' "c d.png" e\ f.png. Newlines separate
    /// too (some terminals drop one path a line).
    static func words(_ text: String) -> [String] {
        var out: [String] = [], current = "", quote: Character? = nil, escaped = false, inWord = false
        for ch in text {
            if escaped { current.append(ch); escaped = false; continue }
            if let q = quote {
                if ch == q { quote = nil } else { current.append(ch) }
                continue
            }
            switch ch {
            case "\\": escaped = true; inWord = true
            case "'", "\"": quote = ch; inWord = true
            case " ", "\t", "\n", "\r":
                if inWord { out.append(current) }
                current = ""
                inWord = false
            default: current.append(ch); inWord = true
            }
        }
        if inWord { out.append(current) }
        return out
    }
}
