import Foundation
import UI

/// Asks the terminal what it can show, before curses takes it over: writes `TerminalQuery.bytes` and reads the
/// answer until the device attributes arrive or `timeout` passes (a terminal that answers nothing costs that
/// long once). Also reads the cell size in pixels from the kernel's window size, where the terminal set it.
public enum TerminalProbe {
    public static func ask(timeout: Double = 0.5, wrap: ([UInt8]) -> [UInt8] = { $0 }) -> (reply: TerminalQuery.Reply?, cell: CellSize?) {
        let cell = windowCellSize()
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else { return (nil, cell) }
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return (nil, cell) }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        defer { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        // Inside tmux the kitty question must pass through to the outer terminal; tmux answers the rest itself.
        writeBytes(wrap(TerminalQuery.kittyQuery) + TerminalQuery.cellSizeQuery + TerminalQuery.attributesQuery)
        var answer: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 256)
        while Date() < deadline, !TerminalQuery.isComplete(answer) {
            var fds = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
            let wait = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&fds, 1, wait) > 0 else { break }
            let n = read(STDIN_FILENO, &buffer, buffer.count)
            if n <= 0 { break }
            answer += buffer[0 ..< n]
        }
        guard TerminalQuery.isComplete(answer) else { return (nil, cell) }
        let reply = TerminalQuery.parse(answer)
        return (reply, cell ?? reply.cellSize)
    }

    /// ws_xpixel / ws_ypixel over the columns and rows, where the terminal fills them in (many leave them 0).
    public static func windowCellSize() -> CellSize? {
        var ws = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0, ws.ws_xpixel > 0, ws.ws_ypixel > 0 else { return nil }
        return CellSize(width: Int(ws.ws_xpixel) / Int(ws.ws_col), height: Int(ws.ws_ypixel) / Int(ws.ws_row))
    }
}
