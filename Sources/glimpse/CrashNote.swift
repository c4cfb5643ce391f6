import Foundation

/// Where a crash leaves its note: `$XDG_STATE_HOME/glimpse/crash.txt` (default `~/.local/state`). The terminal
/// guard writes it from the signal handler; the next start says so once and keeps the note under a dated name.
struct CrashNote {
    let folder: String
    var path: String { folder + "/crash.txt" }

    static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> CrashNote {
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.local/state"
        return CrashNote(folder: base + "/glimpse")
    }

    /// A note left by the last run, as a sentence for the notices; the note itself moves to `crash-DATE.txt`.
    func takeLast() -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? Date()
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.dateFormat = "yyyy-MM-dd-HHmmss"
        let kept = "\(folder)/crash-\(format.string(from: modified)).txt"
        let destination = rename(path, kept) == 0 ? kept : path
        let first = text.split(separator: "\n").first.map(String.init) ?? "Glimpse crashed"
        return "The last run ended in a crash (\(first.replacingOccurrences(of: "Glimpse crashed: ", with: ""))); "
            + "its note is \(destination). /resume takes the conversation up again."
    }
}
