import Foundation
import ImagePreview
import Terminal
import UI
import Vision

/// Puts the render's `PixelPlacement` on the terminal in real pixels, beside curses: composes and encodes it
/// off the main thread (never on the keystroke path), writes it when it is ready and still wanted, and takes
/// the old image away when the placement changes or goes (kitty's delete; sixel and iTerm2 cells repainted).
@MainActor
final class PixelPresenter {
    let graphics: GraphicsProtocol
    let multiplexer: GraphicsDetection.Multiplexer
    let cell: CellSize
    /// What is on the terminal now, and what is being encoded.
    private(set) var shown: PixelPlacement?
    private var pending: PixelPlacement?
    /// Bytes of image sequences written so far (bench-ui reports them per answer).
    private(set) var bytesWritten = 0
    /// Called when an encoded image was written (the bench waits for it).
    var onWritten: (() -> Void)?

    init(graphics: GraphicsProtocol, multiplexer: GraphicsDetection.Multiplexer, cell: CellSize) {
        self.graphics = graphics
        self.multiplexer = multiplexer
        self.cell = cell
    }

    /// After each frame: `force` after a resize, when the terminal was cleared whatever the placement.
    func update(_ placement: PixelPlacement?, image: RGBImage?, force: Bool, backend: TerminalBackend) {
        guard graphics.isPixels else { return }
        if !force && (placement == shown && pending == nil || placement != nil && placement == pending) { return }
        // Sixel and iTerm2 images over the same cells replace the old pixels whole: no repaint (no flicker).
        if let old = shown, placement == nil || placement?.rect != old.rect || graphics == .kitty || force {
            remove(old, backend: backend)
        }
        pending = placement
        guard let placement, let image else { return }
        let (graphics, cell) = (self.graphics, self.cell)
        Task {
            let (bytes, picture) = await Task.detached { Self.encode(image, placement, graphics: graphics, cell: cell) }.value
            // A newer frame asked for something else meanwhile.
            guard pending == placement else { return }
            pending = nil
            let wrapped = GraphicsDetection.wrap(bytes, for: multiplexer)
            backend.writeImage(wrapped, x: placement.rect.x, y: placement.rect.y)
            bytesWritten += wrapped.count
            shown = placement
            if let folder = recordFolder { record(picture, placement, bytes: wrapped.count, in: folder) }
            onWritten?()
        }
    }

    /// Takes the image off the terminal (at quit, and before curses lets the terminal go).
    func removeAll(backend: TerminalBackend) {
        pending = nil
        if let old = shown { remove(old, backend: backend) }
    }

    private func remove(_ old: PixelPlacement, backend: TerminalBackend) {
        shown = nil
        if graphics == .kitty {
            backend.writeSequence(GraphicsDetection.wrap(PixelEncoder.kittyDelete, for: multiplexer))
        } else {
            backend.repaint(rows: old.rect.y ..< old.rect.maxY)
        }
    }

    /// The image at the placement's pixel size with its boxes, and that picture as the protocol's sequence.
    nonisolated static func encode(_ image: RGBImage, _ placement: PixelPlacement, graphics: GraphicsProtocol,
                                   cell: CellSize) -> (bytes: [UInt8], picture: RGBPixels) {
        let source = RGBPixels(width: image.width, height: image.height, bytes: image.pixels)
        let size = PixelEncoder.pixelSize(columns: placement.rect.width, rows: placement.rect.height, cell: cell, as: graphics)
        let composed = PixelCompositor.compose(source, width: size.width, height: size.height, boxes: placement.boxes)
        let keep = placement.boxes.map { $0.color.rgb(fallback: PixelCompositor.defaultBoxColour) } + [PixelCompositor.plateColour]
        let bytes = PixelEncoder.encode(composed, columns: placement.rect.width, rows: placement.rect.height, cell: cell,
                                        as: graphics, keep: keep)
        return (bytes, composed)
    }

    // MARK: Recording what was drawn

    /// `GLIMPSE_PREVIEW_RECORD=FOLDER`: each image written is also kept there as `preview.ppm`, with
    /// `preview.txt` saying where it went. For bug reports about a preview ("what did Glimpse mean to draw?") and
    /// for the test that screenshots a real terminal.
    let recordFolder = ProcessInfo.processInfo.environment["GLIMPSE_PREVIEW_RECORD"].flatMap { $0.isEmpty ? nil : $0 }

    private func record(_ picture: RGBPixels, _ placement: PixelPlacement, bytes: Int, in folder: String) {
        var ppm = Data("P6\n\(picture.width) \(picture.height)\n255\n".utf8)
        ppm.append(contentsOf: picture.bytes)
        let r = placement.rect
        let text = "graphics=\(graphics.rawValue) column=\(r.x) row=\(r.y) columns=\(r.width) rows=\(r.height) "
            + "cell=\(cell.width)x\(cell.height) boxes=\(placement.boxes.count) bytes=\(bytes)\n"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // The picture first: a reader that sees preview.txt finds its picture complete.
        try? ppm.write(to: URL(fileURLWithPath: folder + "/preview.ppm"), options: .atomic)
        try? Data(text.utf8).write(to: URL(fileURLWithPath: folder + "/preview.txt"), options: .atomic)
    }
}
