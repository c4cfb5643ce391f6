/// Sixel, written here rather than by chafa: chafa 1.12 builds its palette by median cut weighted by pixel
/// count, so on a flat scene the small objects the user asks about lose their colour (a blue star on a beige
/// background came out grey: 17 palette entries, none blue). Here every colour of an image with at most 256 is
/// kept exactly, the boxes' colours always are, and larger palettes are cut by colour range, not population.
enum SixelEncoder {
    static let maximumColours = 256

    /// `ESC P 0;1;0 q "1;1;W;H`, the palette as `#n;2;R;G;B` in percent, then bands of six pixel rows, one pass
    /// per colour present (`$` back to the band's start, `-` to the next band, `!n` a run).
    static func encode(_ image: RGBPixels, reserved: [(UInt8, UInt8, UInt8)] = []) -> [UInt8] {
        let (w, h) = (image.width, image.height)
        guard w > 0, h > 0 else { return [] }
        let palette = Palette(image, reserved: reserved)
        var out = Array("\u{1B}P0;1;0q\"1;1;\(w);\(h)".utf8)
        out.reserveCapacity(w * h / 2)
        for (i, c) in palette.colours.enumerated() {
            func percent(_ v: UInt8) -> Int { (Int(v) * 100 + 127) / 255 }
            out += Array("#\(i);2;\(percent(c.0));\(percent(c.1));\(percent(c.2))".utf8)
        }
        let indices = palette.indices(of: image)
        // Per band: each colour's six-row bit pattern at each column.
        var bits = [UInt8](repeating: 0, count: palette.colours.count * w)
        var used = [Bool](repeating: false, count: palette.colours.count)
        for top in stride(from: 0, to: h, by: 6) {
            var present: [Int] = []
            for k in 0 ..< min(6, h - top) {
                let row = (top + k) * w
                for x in 0 ..< w {
                    let c = Int(indices[row + x])
                    if !used[c] { used[c] = true; present.append(c) }
                    bits[c * w + x] |= 1 << k
                }
            }
            for (n, c) in present.enumerated() {
                out += Array("#\(c)".utf8)
                var x = 0
                // Trailing empty columns are left out: the `$` returns to the start anyway.
                var last = w - 1
                while last >= 0 && bits[c * w + last] == 0 { last -= 1 }
                while x <= last {
                    let v = bits[c * w + x]
                    var run = 1
                    while x + run <= last && bits[c * w + x + run] == v { run += 1 }
                    let ch = 0x3F + v
                    if run > 3 { out += Array("!\(run)".utf8); out.append(ch) } else { out += [UInt8](repeating: ch, count: run) }
                    x += run
                }
                out.append(n == present.count - 1 ? 0x2D : 0x24)
                for i in 0 ..< w { bits[c * w + i] = 0 }
                used[c] = false
            }
        }
        out += [0x1B, 0x5C]
        return out
    }

    /// At most 256 colours for the image: its own when it has that few, else the boxes' plus a cut of the rest.
    struct Palette {
        var colours: [(UInt8, UInt8, UInt8)] = []
        /// Exact colour -> index, for images with few colours; otherwise a 15-bit (5 per channel) lookup.
        private var exact: [UInt32: UInt8] = [:]
        private var coarse: [UInt8] = []

        static func key(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt32 { UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b) }

        init(_ image: RGBPixels, reserved: [(UInt8, UInt8, UInt8)]) {
            var counts: [UInt32: Int] = [:]
            let p = image.bytes
            var i = 0
            while i < p.count {
                counts[Self.key(p[i], p[i + 1], p[i + 2]), default: 0] += 1
                if counts.count > SixelEncoder.maximumColours { break }
                i += 3
            }
            if counts.count <= SixelEncoder.maximumColours {
                for k in counts.keys.sorted() {
                    exact[k] = UInt8(colours.count)
                    colours.append((UInt8(k >> 16), UInt8((k >> 8) & 0xFF), UInt8(k & 0xFF)))
                }
                return
            }
            // A histogram at 5 bits a channel, cut into boxes: the box of widest colour range splits first.
            var histogram = [Int](repeating: 0, count: 32768)
            i = 0
            while i < p.count {
                histogram[Int(p[i] >> 3) << 10 | Int(p[i + 1] >> 3) << 5 | Int(p[i + 2] >> 3)] += 1
                i += 3
            }
            let cells = histogram.indices.filter { histogram[$0] > 0 }
            var boxes: [[Int]] = [cells]
            let room = SixelEncoder.maximumColours - reserved.count
            func channel(_ cell: Int, _ c: Int) -> Int { (cell >> (10 - 5 * c)) & 31 }
            func widest(_ box: [Int]) -> (channel: Int, range: Int) {
                var best = (0, -1)
                for c in 0 ..< 3 {
                    let values = box.map { channel($0, c) }
                    let range = (values.max() ?? 0) - (values.min() ?? 0)
                    if range > best.1 { best = (c, range) }
                }
                return best
            }
            var ranges = [widest(cells)]
            while boxes.count < room {
                guard let k = ranges.indices.max(by: { ranges[$0].range < ranges[$1].range }), ranges[k].range > 0 else { break }
                let split = ranges[k]
                let sorted = boxes[k].sorted { channel($0, split.channel) < channel($1, split.channel) }
                // The weighted median along that channel, so both halves hold pixels.
                let total = sorted.reduce(0) { $0 + histogram[$1] }
                var acc = 0, cut = 1
                for (j, cell) in sorted.enumerated() {
                    acc += histogram[cell]
                    if acc * 2 >= total { cut = max(1, min(sorted.count - 1, j + 1)); break }
                }
                boxes[k] = Array(sorted[..<cut])
                boxes.append(Array(sorted[cut...]))
                ranges[k] = widest(boxes[k])
                ranges.append(widest(boxes[boxes.count - 1]))
            }
            colours = reserved
            for box in boxes {
                var sum = (0, 0, 0), n = 0
                for cell in box {
                    let c = histogram[cell]
                    sum.0 += (channel(cell, 0) * 8 + 4) * c; sum.1 += (channel(cell, 1) * 8 + 4) * c; sum.2 += (channel(cell, 2) * 8 + 4) * c
                    n += c
                }
                colours.append((UInt8(sum.0 / max(1, n)), UInt8(sum.1 / max(1, n)), UInt8(sum.2 / max(1, n))))
            }
            coarse = [UInt8](repeating: 0, count: 32768)
            for cell in cells { coarse[cell] = nearest((UInt8(channel(cell, 0) * 8 + 4), UInt8(channel(cell, 1) * 8 + 4), UInt8(channel(cell, 2) * 8 + 4))) }
            for (j, c) in reserved.enumerated() { exact[Self.key(c.0, c.1, c.2)] = UInt8(j) }
        }

        func nearest(_ c: (UInt8, UInt8, UInt8)) -> UInt8 {
            var best = 0, distance = Int.max
            for (j, p) in colours.enumerated() {
                let d = (Int(p.0) - Int(c.0)) * (Int(p.0) - Int(c.0)) + (Int(p.1) - Int(c.1)) * (Int(p.1) - Int(c.1))
                    + (Int(p.2) - Int(c.2)) * (Int(p.2) - Int(c.2))
                if d < distance { best = j; distance = d }
            }
            return UInt8(best)
        }

        /// Each pixel's palette index.
        func indices(of image: RGBPixels) -> [UInt8] {
            let p = image.bytes
            var out = [UInt8](repeating: 0, count: image.width * image.height)
            for k in 0 ..< out.count {
                let (r, g, b) = (p[k * 3], p[k * 3 + 1], p[k * 3 + 2])
                if !exact.isEmpty, let e = exact[Self.key(r, g, b)] { out[k] = e; continue }
                out[k] = coarse[Int(r >> 3) << 10 | Int(g >> 3) << 5 | Int(b >> 3)]
            }
            return out
        }
    }
}
