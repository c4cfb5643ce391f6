import ImagePreview
import Tasks
import UI
import XCTest

/// What the pixel preview writes, read back with each protocol's decoder and compared with the composited
/// picture, at two sizes (a pane at 120x40 with 10x20 cells, and a zoomed image at 200x60 with 8x16 cells).
final class PixelPreviewTests: XCTestCase {
    /// A test card: a gradient with a red square and a blue disc, so scaling, colour and position all show.
    func testCard(width: Int, height: Int) -> RGBPixels {
        var b = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0 ..< height {
            for x in 0 ..< width {
                let o = (y * width + x) * 3
                var c = (UInt8(x * 255 / max(1, width - 1)), UInt8(y * 255 / max(1, height - 1)), UInt8(128))
                if x > width / 8 && x < width * 3 / 8 && y > height / 8 && y < height * 3 / 8 { c = (220, 30, 30) }
                let dx = x - width * 2 / 3, dy = y - height * 2 / 3
                if dx * dx + dy * dy < (width / 6) * (width / 6) { c = (30, 60, 220) }
                b[o] = c.0; b[o + 1] = c.1; b[o + 2] = c.2
            }
        }
        return RGBPixels(width: width, height: height, bytes: b)
    }

    let boxes = [PixelBox(box: Box(10, 10, 40, 40), label: "1", color: .rgb(255, 220, 0)),
                 PixelBox(box: Box(50, 50, 90, 95), label: "B2", color: .indexed(10))]

    let sizes: [(columns: Int, rows: Int, cell: CellSize)] = [(46, 23, CellSize(width: 10, height: 20)),
                                                              (120, 56, CellSize(width: 8, height: 16))]

    func composed(columns: Int, rows: Int, cell: CellSize, for graphics: GraphicsProtocol = .kitty) -> RGBPixels {
        let size = PixelEncoder.pixelSize(columns: columns, rows: rows, cell: cell, as: graphics)
        return PixelCompositor.compose(testCard(width: 512, height: 384), width: size.width, height: size.height, boxes: boxes)
    }

    /// Mean and largest absolute difference per channel value.
    func difference(_ a: [UInt8], _ b: [UInt8]) -> (mean: Double, max: Int) {
        var sum = 0, largest = 0
        for (x, y) in zip(a, b) {
            let d = abs(Int(x) - Int(y))
            sum += d
            largest = max(largest, d)
        }
        return (Double(sum) / Double(max(1, a.count)), largest)
    }

    func testKittyCarriesTheComposedPixelsExactlyInChunks() throws {
        for (columns, rows, cell) in sizes {
            let picture = composed(columns: columns, rows: rows, cell: cell)
            let bytes = PixelEncoder.encode(picture, columns: columns, rows: rows, cell: cell, as: .kitty)
            let (image, keys, chunks) = try KittyDecoder.decode(bytes)
            XCTAssertEqual(keys["a"], "T")
            XCTAssertEqual(keys["i"], String(PixelEncoder.kittyImageID), "an id, so the image can be deleted")
            XCTAssertEqual(keys["q"], "2", "no replies: they would arrive as keys")
            XCTAssertEqual(keys["C"], "1", "the cursor stays where curses left it")
            XCTAssertEqual(keys["c"], String(columns))
            XCTAssertEqual(keys["r"], String(rows))
            XCTAssertEqual(image.width, picture.width)
            XCTAssertEqual(image.height, picture.height)
            XCTAssertEqual(image.rgb, picture.bytes, "kitty sends raw RGBA: every pixel as composed")
            XCTAssertGreaterThan(chunks.count, 2)
            print("kitty \(columns)x\(rows) cells: \(bytes.count) bytes in \(chunks.count) chunks")
        }
        let delete = try KittyDecoder.commands(PixelEncoder.kittyDelete)
        XCTAssertEqual(delete.count, 1)
        XCTAssertEqual(delete[0].keys, ["a": "d", "d": "I", "i": String(PixelEncoder.kittyImageID), "q": "2"])
    }

    func testSixelDecodesBackToTheComposedPicture() throws {
        for (columns, rows, cell) in sizes {
            let picture = composed(columns: columns, rows: rows, cell: cell, for: .sixel)
            let keep = boxes.map { $0.color.rgb(fallback: PixelCompositor.defaultBoxColour) } + [PixelCompositor.plateColour]
            let bytes = PixelEncoder.encode(picture, columns: columns, rows: rows, cell: cell, as: .sixel, keep: keep)
            let image = try SixelDecoder.decode(bytes)
            XCTAssertEqual(image.width, picture.width)
            XCTAssertEqual(image.height, picture.height)
            let d = difference(image.rgb, picture.bytes)
            print(String(format: "sixel %dx%d cells: %d bytes, mean difference %.2f, largest %d (of 255)", columns, rows, bytes.count, d.mean, d.max))
            // A palette of at most 256 colours for a gradient of 60,000: the cut and the percent levels of the colour
            // registers (steps of 2.55) cost a few levels; measured mean 4.3-4.4, largest 18-21.
            XCTAssertLessThan(d.mean, 5)
            XCTAssertLessThan(d.max, 32)
            // The boxes' colours are palette entries of their own: exact to the percent rounding.
            for item in boxes {
                let c = item.box.pixels(width: picture.width, height: picture.height)
                let (r, g, b) = item.color.rgb(fallback: (0, 0, 0))
                let o = ((c.y1 + c.y2) / 2 * picture.width + c.x1) * 3
                XCTAssertLessThanOrEqual(abs(Int(image.rgb[o]) - Int(r)) + abs(Int(image.rgb[o + 1]) - Int(g)) + abs(Int(image.rgb[o + 2]) - Int(b)), 6,
                                         "\(item.label)'s left edge")
            }
        }
    }

    /// A flat scene with a small object (the case chafa 1.12's palette got wrong: its star came out grey): every
    /// colour kept, each pixel within the percent rounding of the colour registers.
    func testSixelKeepsEveryColourOfAFlatScene() throws {
        var b = [UInt8](repeating: 0, count: 336 * 336 * 3)
        for p in 0 ..< 336 * 336 {
            let (x, y) = (p % 336, p / 336)
            var c: (UInt8, UInt8, UInt8) = (214, 205, 197)
            if abs(x - 180) < 12 && abs(y - 180) < 12 { c = (45, 85, 215) }
            if abs(x - 260) < 10 && abs(y - 270) < 4 { c = (45, 165, 70) }
            if (x - 80) * (x - 80) + (y - 90) * (y - 90) < 2500 { c = (215, 45, 45) }
            (b[p * 3], b[p * 3 + 1], b[p * 3 + 2]) = c
        }
        let scene = RGBPixels(width: 336, height: 336, bytes: b)
        let image = try SixelDecoder.decode(PixelEncoder.encode(scene, columns: 42, rows: 20, cell: CellSize(width: 8, height: 17), as: .sixel))
        XCTAssertEqual(image.height, 336)
        XCTAssertLessThanOrEqual(difference(image.rgb, scene.bytes).max, 2)
    }

    func testITermCarriesTheComposedPixels() throws {
        for (columns, rows, cell) in sizes {
            let picture = composed(columns: columns, rows: rows, cell: cell)
            let bytes = PixelEncoder.encode(picture, columns: columns, rows: rows, cell: cell, as: .iterm)
            let (image, keys) = try ITermDecoder.decode(bytes)
            XCTAssertEqual(keys["inline"], "1")
            XCTAssertEqual(keys["width"], String(columns))
            XCTAssertEqual(keys["height"], String(rows))
            XCTAssertEqual(image.width, picture.width)
            XCTAssertEqual(image.height, picture.height)
            XCTAssertEqual(image.rgb, picture.bytes)
        }
    }

    func testBoxesLandOnTheirPixelsWithLabels() {
        let picture = composed(columns: 46, rows: 23, cell: CellSize(width: 10, height: 20))
        let (w, h) = (picture.width, picture.height)
        let c = boxes[0].box.pixels(width: w, height: h)
        // The outline: its corners and edges in the box colour, inside untouched.
        XCTAssertTrue(picture[c.x1, c.y1] == (255, 220, 0))
        XCTAssertTrue(picture[c.x2 - 1, c.y2 - 1] == (255, 220, 0))
        XCTAssertTrue(picture[(c.x1 + c.x2) / 2, c.y2 - 1] == (255, 220, 0))
        let inside = picture[(c.x1 + c.x2) / 2, (c.y1 + c.y2) / 2]
        XCTAssertTrue(inside == (220, 30, 30), "the red square shows through: \(inside)")
        // The label: a black plate with glyph pixels in the box colour just inside the top left corner.
        var glyph = 0, plate = 0
        for y in c.y1 + 2 ..< c.y1 + 20 {
            for x in c.x1 + 2 ..< c.x1 + 16 {
                if picture[x, y] == (255, 220, 0) { glyph += 1 }
                if picture[x, y] == (0, 0, 0) { plate += 1 }
            }
        }
        XCTAssertGreaterThan(glyph, 10)
        XCTAssertGreaterThan(plate, 20)
        // The second box's colour, an indexed one, drawn as its RGB.
        let d = boxes[1].box.pixels(width: w, height: h)
        XCTAssertTrue(picture[d.x1, (d.y1 + d.y2) / 2] == (0, 255, 0))
    }

    func testScalingKeepsFlatColoursAndGradients() {
        let card = testCard(width: 64, height: 48)
        let down = PixelCompositor.scaled(card, width: 16, height: 12)
        let up = PixelCompositor.scaled(card, width: 256, height: 192)
        XCTAssertTrue(down[5, 3] == (220, 30, 30), "inside the square after shrinking: \(down[5, 3])")
        XCTAssertTrue(up[70, 40] == (220, 30, 30), "inside the square after enlarging: \(up[70, 40])")
        XCTAssertLessThan(abs(Int(up[128, 5].0) - 128), 6, "the gradient's middle: \(up[128, 5])")
    }
}
