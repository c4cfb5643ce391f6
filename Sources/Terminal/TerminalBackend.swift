import CNcursesw
import CTerminalGuard
import Foundation
import UI

/// The only code that talks to ncurses: copies a `Screen` to the terminal and turns input into `Key`s.
/// Everything runs on the main actor.
@MainActor
public final class TerminalBackend {
    public private(set) var colors = 0
    private var active = false
    private var pending: [Key] = []

    /// `mouse`: clicks choose tasks and models, the wheel scrolls (the terminal's own text selection then needs Shift).
    /// `crashNote`: where a crash writes what happened (the terminal is restored first, whatever the signal).
    public init(mouse: Bool = true, crashNote: String? = nil) {
        // Before curses changes them: the settings every way out puts back.
        TerminalBackend.installGuard(crashNote: crashNote)
        setlocale(LC_ALL, "")
        if let codeset = nl_langinfo(nl_item(CODESET)), String(cString: codeset) != "UTF-8" {
            // Without a UTF-8 locale every non-ASCII character would vanish.
            setlocale(LC_CTYPE, "C.UTF-8")
        }
        initscr()
        active = true
        raw()               // Ctrl-C arrives as a key (the app quits cleanly) instead of a signal
        noecho()
        keypad(glimpse_stdscr(), true)
        wtimeout(glimpse_stdscr(), 0)
        set_escdelay(25)
        if has_colors() {
            start_color()
            use_default_colors()
        }
        colors = Int(glimpse_colors())
        if mouse { glimpse_enable_mouse() }
        // Bracketed paste: pasted text arrives between ESC[200~ and ESC[201~.
        writeControl("\u{1B}[?2004h")
    }

    /// Restores the terminal. Safe to call twice.
    public func shutdown() {
        guard active else { return }
        active = false
        mousemask(0, nil)
        writeControl("\u{1B}[?2004l")
        endwin()
        glimpse_guard_remove()
    }

    /// SIGTERM, SIGHUP or SIGINT arrived: the app should save and quit (it has a few seconds before the guard
    /// restores the terminal and ends the process itself).
    public var quitSignal: Int32 { glimpse_guard_quit_signal() }

    /// The terminal hung up (its window closed, the ssh connection dropped): nothing more can be shown or read.
    public var terminalGone: Bool { glimpse_guard_terminal_gone() != 0 }

    public var size: (width: Int, height: Int) { (Int(glimpse_cols()), Int(glimpse_lines())) }

    // MARK: Drawing

    private var pairs: [Int64: Int32] = [:]

    private func colorNumber(_ c: Color) -> Int32 {
        switch c {
        case .normal: return -1
        case .indexed(let i):
            return colors >= 256 ? Int32(i) : Int32(Palette.to16(index: i))
        case .rgb(let r, let g, let b):
            if colors > 256 { return Int32(r) << 16 | Int32(g) << 8 | Int32(b) }
            let i = Palette.to256(r, g, b)
            return colors >= 256 ? Int32(i) : Int32(Palette.to16(index: i))
        }
    }

    private func pair(_ style: Style) -> Int32 {
        guard colors > 0 else { return 0 }
        let fg = colorNumber(style.foreground), bg = colorNumber(style.background)
        let key = Int64(fg) << 32 | Int64(UInt32(bitPattern: bg))
        if let p = pairs[key] { return p }
        let p = alloc_pair(fg, bg)
        pairs[key] = max(0, p)
        return max(0, p)
    }

    public func draw(_ screen: Screen) {
        let win = glimpse_stdscr()
        var cc = cchar_t()
        for y in 0 ..< screen.height {
            for x in 0 ..< screen.width {
                let cell = screen[x, y]
                if cell.continuation { continue }
                var attrs: attr_t = 0
                if cell.style.bold { attrs |= glimpse_a_bold() }
                if cell.style.underline { attrs |= glimpse_a_underline() }
                if cell.style.reverse || (colors == 0 && cell.style.background != .normal) { attrs |= glimpse_a_reverse() }
                var wide = Array(cell.text.unicodeScalars.map { wchar_t(bitPattern: $0.value) })
                if wide.isEmpty { wide = [32] }
                wide.append(0)
                _ = glimpse_setcchar(&cc, wide, attrs, pair(cell.style))
                mvwadd_wch(win, Int32(y), Int32(x), &cc)
            }
        }
        if let c = screen.cursor {
            curs_set(1)
            wmove(win, Int32(c.y), Int32(c.x))
        } else {
            curs_set(0)
        }
        wrefresh(win)
    }

    // MARK: Pixel images

    /// Pixels are written beside curses, which knows nothing of them: it must not shift cells sideways with
    /// insert/delete-character (the pixels to the right would not move with them) or scroll lines.
    public func preparePixelImages() {
        idcok(glimpse_stdscr(), false)
        idlok(glimpse_stdscr(), false)
    }

    /// Writes an image sequence with its top left at cell (x, y), the cursor saved and restored around it (sixel
    /// and iTerm2 move it; curses expects it where it left it).
    public func writeImage(_ bytes: [UInt8], x: Int, y: Int) {
        var out = Array("\u{1B}7\u{1B}[\(y + 1);\(x + 1)H".utf8)
        out += bytes
        out += Array("\u{1B}8".utf8)
        writeBytes(out)
    }

    /// Writes a control sequence that draws nothing (kitty's delete).
    public func writeSequence(_ bytes: [UInt8]) { writeBytes(bytes) }

    /// Has curses repaint these rows from its own picture of them: sixel and iTerm2 pixels are gone afterwards.
    public func repaint(rows: Range<Int>) {
        guard !rows.isEmpty else { return }
        wredrawln(glimpse_stdscr(), Int32(rows.lowerBound), Int32(rows.count))
        wrefresh(glimpse_stdscr())
    }

    // MARK: Input

    private func readRaw() -> (code: Int32, isKey: Bool)? {
        var ch: wint_t = 0
        let r = wget_wch(glimpse_stdscr(), &ch)
        if r == ERR { return nil }
        return (Int32(bitPattern: ch), r == KEY_CODE_YES)
    }

    /// Every key waiting, decoded. A resize comes back as `nil` in `resized`.
    public func readKeys() -> (keys: [Key], resized: Bool) {
        var keys: [Key] = []
        var resized = false
        while let (code, isKey) = readRaw() {
            if isKey {
                switch code {
                case KEY_RESIZE: resized = true
                case KEY_UP: keys.append(.up)
                case KEY_DOWN: keys.append(.down)
                case KEY_LEFT: keys.append(.left)
                case KEY_RIGHT: keys.append(.right)
                case KEY_HOME: keys.append(.home)
                case KEY_END: keys.append(.end)
                case KEY_PPAGE: keys.append(.pageUp)
                case KEY_NPAGE: keys.append(.pageDown)
                case KEY_BACKSPACE: keys.append(.backspace)
                case KEY_DC: keys.append(.delete)
                case KEY_BTAB: keys.append(.backTab)
                case KEY_ENTER: keys.append(.enter)
                case glimpse_key_mouse():
                    var x: Int32 = 0, y: Int32 = 0
                    switch glimpse_read_mouse(&x, &y) {
                    case 1: keys.append(.click(x: Int(x), y: Int(y)))
                    case 2: keys.append(.release(x: Int(x), y: Int(y)))
                    case 4: keys.append(.wheel(up: true))
                    case 5: keys.append(.wheel(up: false))
                    default: break
                    }
                default:
                    for n in 1 ... 12 where code == glimpse_key_f(Int32(n)) { keys.append(.function(n)) }
                }
                continue
            }
            keys.append(contentsOf: decode(code))
        }
        return (keys, resized)
    }

    private func decode(_ code: Int32) -> [Key] {
        switch code {
        case 27: return decodeEscape()
        case 13, 10: return [.enter]
        case 9: return [.tab]
        case 127, 8: return [.backspace]
        case 1 ... 26:
            return [.ctrl(Character(Unicode.Scalar(UInt8(code) + 96)))]
        default:
            guard let s = Unicode.Scalar(UInt32(bitPattern: code)) else { return [] }
            return [.character(Character(s))]
        }
    }

    /// ESC alone, Alt+key, Alt-Enter, or a bracketed paste.
    private func decodeEscape() -> [Key] {
        guard let (next, isKey) = readRaw(), !isKey else { return [.escape] }
        if next == 13 || next == 10 { return [.newline] }
        if next == 91 {  // "[": maybe "200~" (paste start)
            var seq = ""
            while let (c, k) = readRaw(), !k, seq.count < 8 {
                seq.unicodeScalars.append(Unicode.Scalar(UInt32(bitPattern: c)) ?? " ")
                if c == 126 { break }
            }
            if seq == "200~" { return [.paste(readPaste())] }
            return []
        }
        guard let s = Unicode.Scalar(UInt32(bitPattern: next)) else { return [.escape] }
        return [.alt(Character(s))]
    }

    private func readPaste() -> String {
        var text = ""
        var idle = 0
        while idle < 200 {
            guard let (c, isKey) = readRaw() else { idle += 1; usleep(1000); continue }
            idle = 0
            if isKey { continue }
            if c == 27 {
                // ESC[201~ ends the paste.
                var tail = ""
                while let (t, _) = readRaw(), tail.count < 5 {
                    tail.unicodeScalars.append(Unicode.Scalar(UInt32(bitPattern: t)) ?? " ")
                    if t == 126 { break }
                }
                if tail == "[201~" { break }
                continue
            }
            if let s = Unicode.Scalar(UInt32(bitPattern: c)) { text.unicodeScalars.append(s) }
        }
        return text
    }

    // MARK: Signals

    /// What undoes the app's terminal modes, for the signal handlers: mouse reports, bracketed paste, colours,
    /// the hidden cursor and the alternate screen (what endwin would do, in plain xterm sequences).
    static let resetSequence = "\u{1B}[?1000l\u{1B}[?1002l\u{1B}[?1003l\u{1B}[?1006l\u{1B}[?2004l\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l\r"

    static func installGuard(crashNote: String?) {
        let reset = Array(resetSequence.utf8)
        if let crashNote {
            try? FileManager.default.createDirectory(atPath: (crashNote as NSString).deletingLastPathComponent,
                                                     withIntermediateDirectories: true)
        }
        _ = glimpse_guard_install(crashNote, reset, reset.count, 3)
    }
}

/// Terminal control sequences straight to the file descriptor (no buffered stdio to flush).
func writeControl(_ s: String) { writeBytes(Array(s.utf8)) }

/// All of it, however many writes the terminal takes (an image is hundreds of kilobytes).
func writeBytes(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = write(STDOUT_FILENO, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            offset += n
        }
    }
}
