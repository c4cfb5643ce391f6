/// A colour as themes name it: the terminal's default, one of the 256 indexed colours, or true colour.
public enum Color: Sendable, Equatable, Hashable {
    case normal
    case indexed(UInt8)
    case rgb(UInt8, UInt8, UInt8)
}

public struct Style: Sendable, Equatable, Hashable {
    public var foreground: Color = .normal
    public var background: Color = .normal
    public var bold = false
    public var underline = false
    public var reverse = false

    public init(foreground: Color = .normal, background: Color = .normal, bold: Bool = false,
                underline: Bool = false, reverse: Bool = false) {
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.underline = underline
        self.reverse = reverse
    }
}

/// One terminal cell. A double-width character occupies its cell and a `continuation` cell after it.
public struct Cell: Sendable, Equatable {
    public var text: String
    public var style: Style
    public var continuation: Bool

    public init(_ text: String = " ", style: Style = Style(), continuation: Bool = false) {
        self.text = text
        self.style = style
        self.continuation = continuation
    }
}

public struct Rect: Sendable, Equatable {
    public var x, y, width, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        (self.x, self.y, self.width, self.height) = (x, y, max(0, width), max(0, height))
    }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }
}

/// The in-memory screen every widget draws into. Tests assert on it; only the terminal backend copies it
/// to ncurses.
public struct Screen: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]
    /// Where the terminal cursor should be shown (the input field's caret), if anywhere.
    public var cursor: (x: Int, y: Int)? = nil
    /// The image to show in real pixels over its (blank) cells, in a pixel graphics mode.
    public var pixelImage: PixelPlacement? = nil

    public init(width: Int, height: Int, style: Style = Style()) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: Cell(style: style), count: self.width * self.height)
    }

    public static func == (a: Screen, b: Screen) -> Bool {
        a.width == b.width && a.height == b.height && a.cells == b.cells && a.cursor?.x == b.cursor?.x && a.cursor?.y == b.cursor?.y
            && a.pixelImage == b.pixelImage
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    public mutating func fill(_ r: Rect, style: Style, text: String = " ") {
        for y in max(0, r.y) ..< min(height, r.maxY) {
            for x in max(0, r.x) ..< min(width, r.maxX) { self[x, y] = Cell(text, style: style) }
        }
    }

    /// Writes `text` from (x, y), clipped at `limit` columns (default: the screen edge). Returns the columns used.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style, limit: Int? = nil) -> Int {
        guard y >= 0, y < height else { return 0 }
        let end = min(width, x + (limit ?? width))
        var col = x
        for ch in text {
            let w = CharacterWidth.columns(ch)
            if w == 0 { continue }
            if col + w > end { break }
            if col >= 0 {
                self[col, y] = Cell(String(ch), style: style)
                if w == 2 { self[col + 1, y] = Cell("", style: style, continuation: true) }
            }
            col += w
        }
        return col - x
    }

    /// The screen as plain text, one line per row (trailing spaces kept): what snapshot tests compare.
    public var text: String {
        var lines: [String] = []
        for y in 0 ..< height {
            var line = ""
            for x in 0 ..< width where !self[x, y].continuation { line += self[x, y].text }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// One row's text (for assertions).
    public func row(_ y: Int) -> String {
        var line = ""
        for x in 0 ..< width where !self[x, y].continuation { line += self[x, y].text }
        return line
    }
}
