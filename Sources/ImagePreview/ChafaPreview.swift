import CChafa
import UI

/// Renders RGB pixels into terminal cells with chafa, cell by cell (so the UI can draw boxes over it and
/// popups can cover it), keeping the image's aspect ratio within the area.
public enum ChafaPreview {
    public enum Depth: Sendable { case trueColor, indexed256, indexed16 }

    /// The cell size the image takes inside `width` x `height` cells, aspect ratio kept. `cellRatio` is a cell's
    /// width over its height: about 0.5 unless the terminal said its cell size.
    public static func fit(imageWidth: Int, imageHeight: Int, width: Int, height: Int, cellRatio: Double = CellSize.assumed.ratio) -> (width: Int, height: Int) {
        guard imageWidth > 0, imageHeight > 0, width > 0, height > 0 else { return (0, 0) }
        let aspect = Double(imageHeight) / Double(imageWidth) * cellRatio
        var w = width, h = Int((Double(w) * aspect).rounded())
        if h > height {
            h = height
            w = Int((Double(h) / aspect).rounded())
        }
        return (max(1, min(w, width)), max(1, min(h, height)))
    }

    public static func render(pixels: [UInt8], imageWidth: Int, imageHeight: Int, width: Int, height: Int,
                              depth: Depth, cellRatio: Double = CellSize.assumed.ratio) -> PreviewCells {
        let size = fit(imageWidth: imageWidth, imageHeight: imageHeight, width: width, height: height, cellRatio: cellRatio)
        guard size.width > 0 else { return PreviewCells(width: 0, height: 0, cells: [], areaWidth: width, areaHeight: height) }
        let map = chafa_symbol_map_new()
        defer { chafa_symbol_map_unref(map) }
        let tags = CHAFA_SYMBOL_TAG_BLOCK.rawValue | CHAFA_SYMBOL_TAG_BORDER.rawValue | CHAFA_SYMBOL_TAG_SPACE.rawValue
            | CHAFA_SYMBOL_TAG_QUAD.rawValue
        chafa_symbol_map_add_by_tags(map, ChafaSymbolTags(rawValue: tags))
        // Every cell one column wide: wide symbols would shift the rest of the row.
        chafa_symbol_map_remove_by_tags(map, CHAFA_SYMBOL_TAG_WIDE)
        let config = chafa_canvas_config_new()
        defer { chafa_canvas_config_unref(config) }
        chafa_canvas_config_set_geometry(config, Int32(size.width), Int32(size.height))
        let mode: ChafaCanvasMode = depth == .trueColor ? CHAFA_CANVAS_MODE_TRUECOLOR
            : depth == .indexed256 ? CHAFA_CANVAS_MODE_INDEXED_256 : CHAFA_CANVAS_MODE_INDEXED_16
        chafa_canvas_config_set_canvas_mode(config, mode)
        chafa_canvas_config_set_symbol_map(config, map)
        let canvas = chafa_canvas_new(config)
        defer { chafa_canvas_unref(canvas) }
        pixels.withUnsafeBufferPointer { p in
            chafa_canvas_draw_all_pixels(canvas, CHAFA_PIXEL_RGB8, p.baseAddress, Int32(imageWidth), Int32(imageHeight),
                                         Int32(imageWidth * 3))
        }
        var cells: [Cell] = []
        cells.reserveCapacity(size.width * size.height)
        for y in 0 ..< size.height {
            for x in 0 ..< size.width {
                let ch = chafa_canvas_get_char_at(canvas, Int32(x), Int32(y))
                var fg: Int32 = 0, bg: Int32 = 0
                chafa_canvas_get_raw_colors_at(canvas, Int32(x), Int32(y), &fg, &bg)
                let text = Unicode.Scalar(ch).map { String(Character($0)) } ?? " "
                cells.append(Cell(text, style: Style(foreground: color(fg, depth), background: color(bg, depth))))
            }
        }
        return PreviewCells(width: size.width, height: size.height, cells: cells, areaWidth: width, areaHeight: height)
    }

    static func color(_ raw: Int32, _ depth: Depth) -> Color {
        if raw < 0 { return .normal }
        switch depth {
        case .trueColor: return .rgb(UInt8((raw >> 16) & 0xFF), UInt8((raw >> 8) & 0xFF), UInt8(raw & 0xFF))
        case .indexed256, .indexed16: return .indexed(UInt8(clamping: raw))
        }
    }
}
