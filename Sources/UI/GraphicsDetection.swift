/// Which image protocol the terminal speaks, decided at start from three witnesses: the environment (through
/// chafa's terminal database), the terminal's own answer to a query, and the multiplexer in between. Pure, so
/// every combination is tested; the app gathers the witnesses.
public enum GraphicsDetection {
    /// The multiplexer the app runs in. tmux passes image sequences on only with `allow-passthrough` on (off by
    /// default since it appeared in tmux 3.3); GNU screen has no such switch for images.
    public enum Multiplexer: Sendable, Equatable {
        case none
        case tmux(passthrough: Bool)
        case screen
    }

    public struct Outcome: Sendable, Equatable {
        public var graphics: GraphicsProtocol
        /// A one-line hint, when pixels were wanted or possible but cannot be had here.
        public var hint: String?
        public var multiplexer: Multiplexer
    }

    /// `offered`: what chafa's database finds in the environment (for tmux, the outer terminal's name).
    /// `probe`: the terminal's answer to `TerminalQuery.bytes`, nil when it said nothing in time.
    public static func choose(_ request: GraphicsRequest, offered: Set<GraphicsProtocol>, probe: TerminalQuery.Reply?,
                              multiplexer: Multiplexer) -> Outcome {
        func outcome(_ g: GraphicsProtocol, _ hint: String? = nil) -> Outcome { Outcome(graphics: g, hint: hint, multiplexer: multiplexer) }
        let wanted: GraphicsProtocol
        switch request {
        case .fixed(let g): wanted = g
        case .auto:
            // The terminal's own word first: it knows, where the environment only suggests (a TERM copied over ssh).
            if probe?.kitty == true { wanted = .kitty }
            else if offered.contains(.kitty) { wanted = .kitty }
            else if probe?.sixel == true || offered.contains(.sixel) { wanted = .sixel }
            else if offered.contains(.iterm) { wanted = .iterm }
            else { wanted = .symbols }
        }
        switch multiplexer {
        case .none, .tmux(passthrough: true): return outcome(wanted)
        case .tmux(passthrough: false):
            // Inside tmux the terminal cannot be seen, so the hint comes whatever was detected (unless symbols were asked for).
            return outcome(.symbols, request == .fixed(.symbols) ? nil : tmuxHint)
        case .screen:
            return outcome(.symbols, wanted.isPixels ? "GNU screen passes no images through, so the preview is symbols" : nil)
        }
    }

    static let tmuxHint = "tmux's allow-passthrough is off, so the preview is symbols: `set -g allow-passthrough on` in "
        + "~/.tmux.conf shows pixels where the terminal has them (--graphics symbols hides this line)"

    /// `tmux show-options -v allow-passthrough` prints "on", "all" or "off".
    public static func passthroughEnabled(_ tmuxOutput: String) -> Bool {
        let v = tmuxOutput.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return v == "on" || v == "all"
    }

    /// Wraps a sequence for the outer terminal: tmux's `ESC P tmux; ... ESC \` with every ESC inside doubled.
    public static func wrap(_ bytes: [UInt8], for m: Multiplexer) -> [UInt8] {
        guard case .tmux(passthrough: true) = m else { return bytes }
        var out: [UInt8] = Array("\u{1B}Ptmux;".utf8)
        out.reserveCapacity(bytes.count + bytes.count / 64 + 16)
        for b in bytes {
            if b == 0x1B { out.append(0x1B) }
            out.append(b)
        }
        out += [0x1B, 0x5C]
        return out
    }
}

/// The start-up query: a 1x1 kitty graphics query (answered `OK` by terminals that speak it), the cell size in
/// pixels (`CSI 16 t`), and Primary Device Attributes (`CSI c`), which every terminal answers last; attribute 4
/// in that answer is sixel.
public enum TerminalQuery {
    public static let kittyID = 31
    public static let kittyQuery = Array("\u{1B}_Gi=\(kittyID),s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\".utf8)
    public static let cellSizeQuery = Array("\u{1B}[16t".utf8)
    public static let attributesQuery = Array("\u{1B}[c".utf8)
    public static var bytes: [UInt8] { kittyQuery + cellSizeQuery + attributesQuery }

    public struct Reply: Sendable, Equatable {
        public var kitty = false
        public var sixel = false
        public var cellSize: CellSize?
        public init(kitty: Bool = false, sixel: Bool = false, cellSize: CellSize? = nil) {
            self.kitty = kitty
            self.sixel = sixel
            self.cellSize = cellSize
        }
    }

    /// Whether the answer is complete: the device attributes (`ESC [ ? ... c`) arrived.
    public static func isComplete(_ bytes: [UInt8]) -> Bool { deviceAttributes(bytes) != nil }

    /// Reads what the terminal answered; unknown sequences (and any typed keys mixed in) are skipped.
    public static func parse(_ bytes: [UInt8]) -> Reply {
        var reply = Reply()
        let text = String(decoding: bytes, as: UTF8.self)
        reply.kitty = text.contains("\u{1B}_Gi=\(kittyID);OK")
        reply.sixel = deviceAttributes(bytes)?.contains(4) ?? false
        // ESC [ 6 ; HEIGHT ; WIDTH t
        if let r = text.range(of: "\u{1B}[6;") {
            let numbers = text[r.upperBound...].prefix { $0.isNumber || $0 == ";" }
            let parts = numbers.split(separator: ";").compactMap { Int($0) }
            if parts.count == 2, parts[0] > 0, parts[1] > 0, text[r.upperBound...].dropFirst(numbers.count).first == "t" {
                reply.cellSize = CellSize(width: parts[1], height: parts[0])
            }
        }
        return reply
    }

    /// The attributes of `ESC [ ? a ; b ; ... c`.
    static func deviceAttributes(_ bytes: [UInt8]) -> [Int]? {
        var i = 0
        while i + 2 < bytes.count {
            if bytes[i] == 0x1B, bytes[i + 1] == 0x5B, bytes[i + 2] == 0x3F {
                var j = i + 3
                while j < bytes.count, (bytes[j] >= 0x30 && bytes[j] <= 0x39) || bytes[j] == 0x3B { j += 1 }
                if j < bytes.count, bytes[j] == 0x63 {
                    return String(decoding: bytes[(i + 3) ..< j], as: UTF8.self).split(separator: ";").compactMap { Int($0) }
                }
            }
            i += 1
        }
        return nil
    }
}
