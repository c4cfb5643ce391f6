/// Server-sent events (the WHATWG format the chat streams use): lines of `field: value`, an event ended by a blank
/// line, `:` starting a comment. Bytes arrive in arbitrary pieces, so the parser keeps what it has not yet seen end.
public struct ServerSentEventParser: Sendable {
    private var pending: [UInt8] = []
    private var data: [String] = []

    public init() {}

    /// Feeds bytes; returns the `data` of every event they complete (multi-line data joined with "\n").
    public mutating func push(_ bytes: some Sequence<UInt8>) -> [String] {
        pending.append(contentsOf: bytes)
        var events: [String] = []
        var start = 0
        var i = 0
        while i < pending.count {
            let b = pending[i]
            guard b == 0x0A || b == 0x0D else { i += 1; continue }
            let line = String(decoding: pending[start ..< i], as: UTF8.self)
            // CRLF is one line end.
            if b == 0x0D, i + 1 < pending.count, pending[i + 1] == 0x0A { i += 1 } else if b == 0x0D, i + 1 == pending.count {
                break  // wait: the LF may be in the next piece
            }
            i += 1
            start = i
            if let event = take(line) { events.append(event) }
        }
        pending.removeFirst(start)
        return events
    }

    /// The event still open when the stream ends (a server that ends without a blank line).
    public mutating func finish() -> String? {
        if !pending.isEmpty {
            let line = String(decoding: pending, as: UTF8.self)
            pending = []
            if let event = take(line) { return event }
        }
        return take("")
    }

    private mutating func take(_ line: String) -> String? {
        if line.isEmpty {
            guard !data.isEmpty else { return nil }
            defer { data = [] }
            return data.joined(separator: "\n")
        }
        if line.hasPrefix(":") { return nil }
        let field: Substring, value: Substring
        if let colon = line.firstIndex(of: ":") {
            field = line[..<colon]
            let rest = line[line.index(after: colon)...]
            value = rest.hasPrefix(" ") ? rest.dropFirst() : rest
        } else {
            field = line[...]
            value = ""
        }
        if field == "data" { data.append(String(value)) }
        return nil
    }

    /// One event carrying `data` (one `data:` line per line of it).
    public static func event(_ data: String) -> String {
        data.split(separator: "\n", omittingEmptySubsequences: false).map { "data: \($0)\n" }.joined() + "\n"
    }
}
