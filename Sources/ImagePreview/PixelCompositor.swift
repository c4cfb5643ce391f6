import UI

/// An RGB image, 3 bytes a pixel, rows top to bottom.
public struct RGBPixels: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var bytes: [UInt8]
    public init(width: Int, height: Int, bytes: [UInt8]) {
        precondition(bytes.count == width * height * 3, "RGB pixels: \(bytes.count) bytes for \(width)x\(height)")
        self.width = width
        self.height = height
        self.bytes = bytes
    }

    public subscript(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        let i = (y * width + x) * 3
        return (bytes[i], bytes[i + 1], bytes[i + 2])
    }
}

/// Makes the picture a pixel preview shows: the image scaled to the preview's pixel size, with every box
/// outlined and labelled in its colour. Done before the image is encoded, so a box lands on the pixel where
/// the model put it (symbol art can only land on a cell, about 1/40 of the image).
public enum PixelCompositor {
    /// A box in the terminal's default colour is drawn white; labels sit on black plates.
    public static let defaultBoxColour: (UInt8, UInt8, UInt8) = (255, 255, 255)
    public static let plateColour: (UInt8, UInt8, UInt8) = (0, 0, 0)

    public static func compose(_ image: RGBPixels, width: Int, height: Int, boxes: [PixelBox]) -> RGBPixels {
        var out = scaled(image, width: width, height: height)
        let thickness = max(2, min(width, height) / 160)
        let scale = max(1, min(width, height) / 150)
        var labels: [(x: Int, y: Int, w: Int, h: Int)] = []
        for item in boxes {
            let c = item.box.pixels(width: width, height: height)
            let color = item.color.rgb(fallback: defaultBoxColour)
            outline(&out, x1: c.x1, y1: c.y1, x2: c.x2 - 1, y2: c.y2 - 1, thickness: thickness, color: color)
        }
        // Labels after every outline, so a later outline cannot cross one; a label that would cover another
        // (two panes' boxes sharing a corner) goes to the box's bottom edge instead.
        for item in boxes where !item.label.isEmpty {
            let c = item.box.pixels(width: width, height: height)
            let size = BoxFont.size(item.label, scale: scale)
            let plate = (w: size.width + 2 * scale, h: size.height + 2 * scale)
            var spot = (x: c.x1 + thickness, y: c.y1 + thickness, w: plate.w, h: plate.h)
            if labels.contains(where: { overlaps($0, spot) }) { spot.y = max(c.y1, c.y2 - thickness - plate.h) }
            spot.x = min(max(0, spot.x), max(0, width - plate.w))
            spot.y = min(max(0, spot.y), max(0, height - plate.h))
            labels.append(spot)
            fill(&out, x: spot.x, y: spot.y, w: plate.w, h: plate.h, color: plateColour)
            BoxFont.draw(item.label, into: &out, x: spot.x + scale, y: spot.y + scale, scale: scale,
                         color: item.color.rgb(fallback: defaultBoxColour))
        }
        return out
    }

    /// Area-averaged when shrinking (no aliasing of thin shapes), nearest-neighbour-free bilinear when enlarging.
    public static func scaled(_ image: RGBPixels, width: Int, height: Int) -> RGBPixels {
        guard width > 0, height > 0, image.width > 0, image.height > 0 else { return RGBPixels(width: 0, height: 0, bytes: []) }
        if width == image.width && height == image.height { return image }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        let sx = Double(image.width) / Double(width), sy = Double(image.height) / Double(height)
        image.bytes.withUnsafeBufferPointer { src in
            for y in 0 ..< height {
                for x in 0 ..< width {
                    var acc = (0.0, 0.0, 0.0), weight = 0.0
                    if sx > 1 || sy > 1 {
                        // Every source pixel under the destination pixel, weighted by the area it covers.
                        let x0 = Double(x) * sx, x1 = x0 + sx, y0 = Double(y) * sy, y1 = y0 + sy
                        for py in Int(y0) ..< min(image.height, Int(y1.rounded(.up))) {
                            let wy = min(y1, Double(py + 1)) - max(y0, Double(py))
                            for px in Int(x0) ..< min(image.width, Int(x1.rounded(.up))) {
                                let w = wy * (min(x1, Double(px + 1)) - max(x0, Double(px)))
                                let i = (py * image.width + px) * 3
                                acc.0 += w * Double(src[i]); acc.1 += w * Double(src[i + 1]); acc.2 += w * Double(src[i + 2])
                                weight += w
                            }
                        }
                    } else {
                        let fx = max(0, (Double(x) + 0.5) * sx - 0.5), fy = max(0, (Double(y) + 0.5) * sy - 0.5)
                        let ix = min(Int(fx), image.width - 1), iy = min(Int(fy), image.height - 1)
                        let jx = min(ix + 1, image.width - 1), jy = min(iy + 1, image.height - 1)
                        let ax = fx - Double(ix), ay = fy - Double(iy)
                        for (px, py, w) in [(ix, iy, (1 - ax) * (1 - ay)), (jx, iy, ax * (1 - ay)), (ix, jy, (1 - ax) * ay), (jx, jy, ax * ay)] {
                            let i = (py * image.width + px) * 3
                            acc.0 += w * Double(src[i]); acc.1 += w * Double(src[i + 1]); acc.2 += w * Double(src[i + 2])
                            weight += w
                        }
                    }
                    let o = (y * width + x) * 3
                    out[o] = UInt8(min(255, (acc.0 / weight).rounded()))
                    out[o + 1] = UInt8(min(255, (acc.1 / weight).rounded()))
                    out[o + 2] = UInt8(min(255, (acc.2 / weight).rounded()))
                }
            }
        }
        return RGBPixels(width: width, height: height, bytes: out)
    }

    static func overlaps(_ a: (x: Int, y: Int, w: Int, h: Int), _ b: (x: Int, y: Int, w: Int, h: Int)) -> Bool {
        a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
    }

    static func outline(_ img: inout RGBPixels, x1: Int, y1: Int, x2: Int, y2: Int, thickness t: Int, color: (UInt8, UInt8, UInt8)) {
        let w = max(1, x2 - x1 + 1), h = max(1, y2 - y1 + 1)
        fill(&img, x: x1, y: y1, w: w, h: t, color: color)
        fill(&img, x: x1, y: y2 - t + 1, w: w, h: t, color: color)
        fill(&img, x: x1, y: y1, w: t, h: h, color: color)
        fill(&img, x: x2 - t + 1, y: y1, w: t, h: h, color: color)
    }

    static func fill(_ img: inout RGBPixels, x: Int, y: Int, w: Int, h: Int, color: (UInt8, UInt8, UInt8)) {
        let xa = max(0, x), xb = min(img.width, x + w), ya = max(0, y), yb = min(img.height, y + h)
        guard xa < xb, ya < yb else { return }
        for py in ya ..< yb {
            for px in xa ..< xb {
                let i = (py * img.width + px) * 3
                img.bytes[i] = color.0; img.bytes[i + 1] = color.1; img.bytes[i + 2] = color.2
            }
        }
    }
}

/// A 5x7 pixel font for box labels: digits, the pane letters and "?" (what `Render.boxLabel` writes).
enum BoxFont {
    /// Rows top to bottom, bit 4 the leftmost pixel.
    static let glyphs: [Character: [UInt8]] = [
        "0": [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E], "1": [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        "2": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F], "3": [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        "4": [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02], "5": [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        "6": [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E], "7": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        "8": [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E], "9": [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        "A": [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11], "B": [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        "C": [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E], "D": [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        "?": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04],
    ]
    /// Anything else: a filled block, so a label never silently vanishes.
    static let unknown: [UInt8] = [0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F]

    static func size(_ text: String, scale: Int) -> (width: Int, height: Int) {
        (max(0, text.count * 6 - 1) * scale, 7 * scale)
    }

    static func draw(_ text: String, into img: inout RGBPixels, x: Int, y: Int, scale: Int, color: (UInt8, UInt8, UInt8)) {
        for (k, ch) in text.enumerated() {
            let rows = glyphs[ch] ?? unknown
            for (r, bits) in rows.enumerated() {
                for c in 0 ..< 5 where bits & (0x10 >> c) != 0 {
                    PixelCompositor.fill(&img, x: x + (k * 6 + c) * scale, y: y + r * scale, w: scale, h: scale, color: color)
                }
            }
        }
    }
}
