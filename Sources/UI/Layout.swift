/// Where each part of the screen goes. Conversation panes sit side by side in `conversations` (one today;
/// the comparison view adds more without changing the rest).
public struct Layout: Sendable, Equatable {
    public var topBar: Rect
    public var conversations: [Rect]
    public var image: Rect?
    public var input: Rect
    public var statusBar: Rect

    /// The preview area inside the image pane (below its title line).
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
        if s.images.isEmpty {
            conversations = [Rect(x: 0, y: mainTop, width: w, height: mainHeight)]
            image = nil
        } else {
            // The image pane takes about 40% of the width; terminal cells are about twice as tall as wide,
            // so that keeps a square image close to the pane's height.
            let imageWidth = min(max(w * 2 / 5, 30), 2 * mainHeight + 2)
            conversations = [Rect(x: 0, y: mainTop, width: w - imageWidth, height: mainHeight)]
            image = Rect(x: w - imageWidth, y: mainTop, width: imageWidth, height: mainHeight)
        }
    }
}
