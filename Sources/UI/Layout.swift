/// Where each part of the screen goes. Conversation panes sit side by side in `conversations` (stacked when
/// each would be narrower than `minimumPaneWidth`); `paneIndices[k]` is the pane drawn in `conversations[k]`.
public struct Layout: Sendable, Equatable {
    public var topBar: Rect
    public var conversations: [Rect]
    public var paneIndices: [Int]
    public var image: Rect?
    public var input: Rect
    public var statusBar: Rect

    public static let minimumPaneWidth = 28

    /// The preview area inside the image pane (below its title line, right of its border).
    public var imageInner: Rect? {
        image.map { Rect(x: $0.x + 1, y: $0.y + 1, width: $0.width - 2, height: $0.height - 1) }
    }

    public init(_ s: AppState) {
        let w = s.width, h = s.height
        topBar = Rect(x: 0, y: 0, width: w, height: 1)
        statusBar = Rect(x: 0, y: h - 1, width: w, height: 1)
        let inputLines = min(max(s.input.lines.count, 1), 5)
        input = Rect(x: 0, y: h - 2 - inputLines, width: w, height: inputLines + 1)
        let mainTop = 1, mainHeight = max(0, input.y - mainTop)
        var area = Rect(x: 0, y: mainTop, width: w, height: mainHeight)
        if s.images.isEmpty {
            image = nil
        } else if s.imageZoomed {
            // The image alone above the input; the conversations come back with the same key.
            image = area
            conversations = []
            paneIndices = []
            return
        } else {
            // The image pane takes about 40% of the width; terminal cells are about twice as tall as wide,
            // so that keeps a square image close to the pane's height.
            let imageWidth = min(max(w * 2 / 5, 30), 2 * mainHeight + 2)
            area.width = w - imageWidth
            image = Rect(x: w - imageWidth, y: mainTop, width: imageWidth, height: mainHeight)
        }
        paneIndices = s.zoomed ? [s.focusedPane] : Array(s.panes.indices)
        let n = paneIndices.count
        if n == 1 {
            conversations = [area]
        } else if area.width / n >= Self.minimumPaneWidth {
            conversations = (0 ..< n).map { k in
                let x0 = area.x + area.width * k / n, x1 = area.x + area.width * (k + 1) / n
                return Rect(x: x0, y: area.y, width: x1 - x0, height: area.height)
            }
        } else {
            conversations = (0 ..< n).map { k in
                let y0 = area.y + area.height * k / n, y1 = area.y + area.height * (k + 1) / n
                return Rect(x: area.x, y: y0, width: area.width, height: y1 - y0)
            }
        }
    }
}
