import CChafa
import Foundation
import UI

/// Turns composited pixels into the escape sequence of a terminal image protocol: kitty's chunked base64 and
/// iTerm2's inline file through chafa, sixel by `SixelEncoder` (chafa's palette loses small objects' colours);
/// and knows how to take the image away.
public enum PixelEncoder {
    /// The id Glimpse gives its kitty image (one preview at a time), so it can delete exactly that image.
    public static let kittyImageID = 4_711_001

    /// The picture size to compose for these cells. Sixel images are drawn in whole bands of 6 pixel rows: a
    /// partial last band would paint over the row of cells below.
    public static func pixelSize(columns: Int, rows: Int, cell: CellSize, as graphics: GraphicsProtocol) -> (width: Int, height: Int) {
        let height = rows * cell.height
        return (columns * cell.width, graphics == .sixel ? height / 6 * 6 : height)
    }

    /// The sequence that draws `pixels` over `columns` x `rows` cells from the cursor. The cursor is left where
    /// it was for kitty (`C=1`); sixel and iTerm2 move it, so the caller saves and restores it around the write.
    /// `keep`: colours a sixel palette must hold exactly (the boxes' and their labels').
    public static func encode(_ pixels: RGBPixels, columns: Int, rows: Int, cell: CellSize, as graphics: GraphicsProtocol,
                              keep: [(UInt8, UInt8, UInt8)] = []) -> [UInt8] {
        guard graphics.isPixels, columns > 0, rows > 0, pixels.width > 0, pixels.height > 0 else { return [] }
        if graphics == .sixel { return SixelEncoder.encode(pixels, reserved: keep) }
        let config = chafa_canvas_config_new()
        defer { chafa_canvas_config_unref(config) }
        chafa_canvas_config_set_geometry(config, Int32(columns), Int32(rows))
        chafa_canvas_config_set_cell_geometry(config, Int32(cell.width), Int32(cell.height))
        chafa_canvas_config_set_canvas_mode(config, CHAFA_CANVAS_MODE_TRUECOLOR)
        chafa_canvas_config_set_pixel_mode(config, pixelMode(graphics))
        let canvas = chafa_canvas_new(config)
        defer { chafa_canvas_unref(canvas) }
        pixels.bytes.withUnsafeBufferPointer { p in
            chafa_canvas_draw_all_pixels(canvas, CHAFA_PIXEL_RGB8, p.baseAddress, Int32(pixels.width), Int32(pixels.height),
                                         Int32(pixels.width * 3))
        }
        // The fallback info holds every protocol's sequences: which one to speak was decided already.
        let db = chafa_term_db_get_default()
        let info = chafa_term_db_get_fallback_info(db)
        defer { chafa_term_info_unref(info) }
        guard let printed = chafa_canvas_print(canvas, info) else { return [] }
        defer { g_string_free(printed, 1) }
        let bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(printed.pointee.str).assumingMemoryBound(to: UInt8.self),
                                              count: Int(printed.pointee.len)))
        return graphics == .kitty ? identified(bytes) : bytes
    }

    /// chafa 1.12 writes `ESC _G a=T,f=32,...` with no image id: add ours (to delete it later), `q=2` (no
    /// replies, which would arrive as keys) and `C=1` (the cursor stays put, so curses' idea of it holds).
    static func identified(_ bytes: [UInt8]) -> [UInt8] {
        let head = Array("\u{1B}_Ga=T,".utf8)
        guard bytes.starts(with: head) else { return bytes }
        return head + Array("i=\(kittyImageID),q=2,C=1,".utf8) + bytes.dropFirst(head.count)
    }

    /// Deletes Glimpse's kitty image and frees its data. Sixel and iTerm2 pixels have no such command: the
    /// caller repaints the cells under them.
    public static let kittyDelete = Array("\u{1B}_Ga=d,d=I,i=\(kittyImageID),q=2\u{1B}\\".utf8)

    static func pixelMode(_ g: GraphicsProtocol) -> ChafaPixelMode {
        switch g {
        case .symbols: return CHAFA_PIXEL_MODE_SYMBOLS
        case .kitty: return CHAFA_PIXEL_MODE_KITTY
        case .sixel: return CHAFA_PIXEL_MODE_SIXELS
        case .iterm: return CHAFA_PIXEL_MODE_ITERM2
        }
    }

    /// The protocols chafa's terminal database finds in an environment (`TERM=xterm-kitty`, `TERM_PROGRAM=WezTerm`,
    /// `LC_TERMINAL=iTerm2`, ...). Only the environment: the terminal's own answer is asked for separately.
    public static func offered(environment: [String: String]) -> Set<GraphicsProtocol> {
        var strings = environment.map { strdup("\($0.key)=\($0.value)") }
        strings.append(nil)
        defer { for s in strings { free(s) } }
        let db = chafa_term_db_get_default()
        guard let info = strings.withUnsafeMutableBufferPointer({ chafa_term_db_detect(db, $0.baseAddress) }) else { return [] }
        defer { chafa_term_info_unref(info) }
        var found = Set<GraphicsProtocol>()
        if chafa_term_info_have_seq(info, CHAFA_TERM_SEQ_BEGIN_KITTY_IMMEDIATE_IMAGE_V1) != 0 { found.insert(.kitty) }
        if chafa_term_info_have_seq(info, CHAFA_TERM_SEQ_BEGIN_SIXELS) != 0 { found.insert(.sixel) }
        if chafa_term_info_have_seq(info, CHAFA_TERM_SEQ_BEGIN_ITERM2_IMAGE) != 0 { found.insert(.iterm) }
        return found
    }
}
