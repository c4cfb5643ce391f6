/// The EXIF orientation tag of a JPEG (1...8) and how to undo it, as Pillow's `ImageOps.exif_transpose` does.
public enum ExifOrientation: Int, Sendable {
    case normal = 1, mirrored, rotated180, flipped, transposed, rotatedClockwise, transversed, rotatedCounterClockwise

    /// Finds tag 0x0112 in the APP1 "Exif" segment; nil when absent or malformed (malformed EXIF is ignored).
    public static func read(jpeg b: [UInt8]) -> ExifOrientation? {
        var i = 2
        while i + 4 <= b.count, b[i] == 0xFF {
            let marker = b[i + 1]
            if marker == 0xDA || marker == 0xD9 { return nil } // image data starts: no EXIF before it
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2, i + 2 + length <= b.count else { return nil }
            if marker == 0xE1, length >= 16, b[(i + 4) ..< (i + 10)].elementsEqual(Array("Exif\0\0".utf8)) {
                return parseTIFF(Array(b[(i + 10) ..< (i + 2 + length)]))
            }
            i += 2 + length
        }
        return nil
    }

    private static func parseTIFF(_ t: [UInt8]) -> ExifOrientation? {
        guard t.count >= 8 else { return nil }
        let little = t[0] == 0x49 && t[1] == 0x49
        guard little || (t[0] == 0x4D && t[1] == 0x4D) else { return nil }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= t.count else { return nil }
            return little ? Int(t[o]) | Int(t[o + 1]) << 8 : Int(t[o]) << 8 | Int(t[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard let a = u16(o), let b = u16(o + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard let ifd = u32(4), let count = u16(ifd) else { return nil }
        for e in 0 ..< count {
            let entry = ifd + 2 + 12 * e
            guard let tag = u16(entry) else { return nil }
            if tag == 0x0112, let value = u16(entry + 8) { return ExifOrientation(rawValue: value) }
        }
        return nil
    }

    /// The image as it should be seen.
    public func apply(to image: RGBImage) -> RGBImage {
        if self == .normal { return image }
        let w = image.width, h = image.height
        let swaps = [.transposed, .rotatedClockwise, .transversed, .rotatedCounterClockwise].contains(self)
        let ow = swaps ? h : w, oh = swaps ? w : h
        var out = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for oy in 0 ..< oh {
                    for ox in 0 ..< ow {
                        let (sx, sy): (Int, Int)
                        switch self {
                        case .normal: (sx, sy) = (ox, oy)
                        case .mirrored: (sx, sy) = (w - 1 - ox, oy)
                        case .rotated180: (sx, sy) = (w - 1 - ox, h - 1 - oy)
                        case .flipped: (sx, sy) = (ox, h - 1 - oy)
                        case .transposed: (sx, sy) = (oy, ox)
                        case .rotatedClockwise: (sx, sy) = (oy, h - 1 - ox)
                        case .transversed: (sx, sy) = (w - 1 - oy, h - 1 - ox)
                        case .rotatedCounterClockwise: (sx, sy) = (w - 1 - oy, ox)
                        }
                        let s = 3 * (sy * w + sx), d = 3 * (oy * ow + ox)
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(width: ow, height: oh, pixels: out)
    }
}
