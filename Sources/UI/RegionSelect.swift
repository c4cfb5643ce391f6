import Tasks

/// A cell of the image preview, counted from its top left.
public struct PreviewPoint: Sendable, Equatable {
    public var x: Int
    public var y: Int
}

/// Dragging over the image asks [identify] about that region: the box is written into the prompt as MiniGPT-v2
/// expects it ("what is this {<x1><y1><x2><y2>}"), and drawn on the preview (labelled "?") before it is sent.
/// Typing box coordinates by hand was the only way before.
extension AppState {
    /// The preview cell under a screen cell; with `clamped`, the nearest one for a cell outside the preview.
    func previewPoint(x: Int, y: Int, clamped: Bool) -> PreviewPoint? {
        guard overlay == .none, images.indices.contains(imageInView), let p = images[imageInView].preview,
              let inner = Layout(self).imageInner else { return nil }
        let px = x - inner.x, py = y - inner.y
        let width = min(p.width, inner.width), height = min(p.height, inner.height)
        guard width > 0, height > 0 else { return nil }
        if clamped { return PreviewPoint(x: min(max(px, 0), width - 1), y: min(max(py, 0), height - 1)) }
        guard (0 ..< width).contains(px), (0 ..< height).contains(py) else { return nil }
        return PreviewPoint(x: px, y: py)
    }

    /// The box (0-100, as the model's answers write it) whose outline covers the preview cells from `a` to `b`.
    func box(from a: PreviewPoint, to b: PreviewPoint) -> Box? {
        guard let p = images[imageInView].preview else { return nil }
        // Box.pixels rounds value/100·size: these values land back on exactly the cells dragged over.
        func value(_ cell: Int, _ size: Int) -> Int { min(100, Int((Double(cell) * 100 / Double(size)).rounded())) }
        let x1 = min(a.x, b.x), x2 = max(a.x, b.x) + 1, y1 = min(a.y, b.y), y2 = max(a.y, b.y) + 1
        return Box(value(x1, p.width), value(y1, p.height), value(x2, p.width), value(y2, p.height))
    }

    mutating func release(x: Int, y: Int) -> [Effect] {
        defer { dragStart = nil }
        guard let start = dragStart, let end = previewPoint(x: x, y: y, clamped: true), end != start,
              let box = box(from: start, to: end) else { return [] }
        guard tasks.contains(.identify) else {
            messages.append(Message(.notice, "\(currentModel?.name ?? "This model") takes no [identify] tag: a region cannot be asked about."))
            return []
        }
        if task != .identify { setTask(.identify) }
        // The region replaces a box already in the prompt (a second drag corrects the first).
        var text = input.string
        if let last = GroundedText(parsing: text).boxes.last, let range = text.range(of: last.box.text, options: .backwards) {
            text.replaceSubrange(range, with: box.text)
        } else {
            text += (text.isEmpty || text.hasSuffix(" ") ? "" : " ") + box.text
        }
        input.set(text)
        return []
    }
}
