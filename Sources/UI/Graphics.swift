import Tasks

/// How the image preview reaches the screen: chafa's symbol art in cells (any terminal), or real pixels through
/// one of the terminal image protocols.
public enum GraphicsProtocol: String, Sendable, Equatable, CaseIterable {
    case symbols, kitty, sixel, iterm

    public var isPixels: Bool { self != .symbols }

    /// The name people know it by, for notices.
    public var title: String {
        switch self {
        case .symbols: return "symbols"
        case .kitty: return "kitty graphics"
        case .sixel: return "sixel"
        case .iterm: return "iTerm2 inline images"
        }
    }
}

/// `--graphics` / config.toml's `graphics`: a protocol, or `auto` (detected at start).
public enum GraphicsRequest: Sendable, Equatable {
    case auto
    case fixed(GraphicsProtocol)

    public static let choices = "auto, kitty, sixel, iterm, symbols"

    public init?(_ text: String) {
        let t = text.lowercased().trimmingCharacters(in: .whitespaces)
        if t == "auto" { self = .auto; return }
        if t == "iterm2" { self = .fixed(.iterm); return }
        guard let p = GraphicsProtocol(rawValue: t) else { return nil }
        self = .fixed(p)
    }
}

/// The size of one terminal cell in pixels (TIOCGWINSZ or the terminal's answer to `CSI 16 t`; 10x20 otherwise).
public struct CellSize: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) {
        self.width = max(1, width)
        self.height = max(1, height)
    }
    public static let assumed = CellSize(width: 10, height: 20)
    /// Width over height: the preview keeps the image's aspect ratio in cells of this shape.
    public var ratio: Double { Double(width) / Double(height) }
}

/// A box to draw into the pixels of the preview, with its label ("2", "B2", "?") in its colour.
public struct PixelBox: Sendable, Equatable {
    public var box: Box
    public var label: String
    public var color: Color
    public init(box: Box, label: String, color: Color) {
        self.box = box
        self.label = label
        self.color = color
    }
}

/// Where the render wants the image in pixels: the cells it covers (left blank in the screen), which image, and
/// the boxes composited into it. The app writes the image when this changes, and removes it when it goes.
public struct PixelPlacement: Sendable, Equatable {
    public var rect: Rect
    public var imagePath: String
    public var boxes: [PixelBox]
    public init(rect: Rect, imagePath: String, boxes: [PixelBox]) {
        self.rect = rect
        self.imagePath = imagePath
        self.boxes = boxes
    }
}
