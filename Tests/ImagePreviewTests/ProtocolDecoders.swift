import Foundation

/// Decoders of the three terminal image protocols, written from their specifications (DEC's sixel format as
/// xterm implements it; kitty's graphics protocol; iTerm2's inline images, which chafa sends as a TIFF), so the
/// tests can read back what the preview writes and compare it with the picture that was meant.
struct DecodedImage {
    var width: Int
    var height: Int
    /// RGB, 3 bytes a pixel; pixels the sequence left untouched are `background`.
    var rgb: [UInt8]
}

struct DecodeError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

enum SixelDecoder {
    /// `ESC P P1;P2;P3 q "Pan;Pad;Ph;Pv #colour;2;r;g;b ... data ESC \`, colours in percent.
    static func decode(_ bytes: [UInt8], background: (UInt8, UInt8, UInt8) = (0, 0, 0)) throws -> DecodedImage {
        guard bytes.count > 4, bytes[0] == 0x1B, bytes[1] == 0x50 else { throw DecodeError("no DCS at the start") }
        guard let q = bytes.firstIndex(of: 0x71) else { throw DecodeError("no 'q' ending the sixel introducer") }
        guard bytes.suffix(2) == [0x1B, 0x5C] else { throw DecodeError("no ST at the end") }
        let body = Array(bytes[(q + 1) ..< (bytes.count - 2)])
        var i = 0
        func number() -> Int {
            var v = 0
            while i < body.count, body[i] >= 0x30, body[i] <= 0x39 { v = v * 10 + Int(body[i] - 0x30); i += 1 }
            return v
        }
        func numbers() -> [Int] {
            var out = [number()]
            while i < body.count, body[i] == 0x3B { i += 1; out.append(number()) }
            return out
        }
        var width = 0, height = 0
        if i < body.count, body[i] == 0x22 {  // raster attributes
            i += 1
            let r = numbers()
            guard r.count == 4 else { throw DecodeError("raster attributes need 4 numbers, got \(r)") }
            width = r[2]; height = r[3]
        }
        guard width > 0, height > 0 else { throw DecodeError("no raster size") }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for p in 0 ..< width * height { rgb[p * 3] = background.0; rgb[p * 3 + 1] = background.1; rgb[p * 3 + 2] = background.2 }
        var palette: [Int: (UInt8, UInt8, UInt8)] = [:]
        var colour = (UInt8(0), UInt8(0), UInt8(0))
        var x = 0, band = 0
        func put(_ c: UInt8, count: Int) throws {
            let bits = Int(c) - 0x3F
            for _ in 0 ..< count {
                for k in 0 ..< 6 where bits & (1 << k) != 0 {
                    let y = band * 6 + k
                    guard x < width, y < height else { throw DecodeError("pixel (\(x), \(y)) outside \(width)x\(height)") }
                    let o = (y * width + x) * 3
                    rgb[o] = colour.0; rgb[o + 1] = colour.1; rgb[o + 2] = colour.2
                }
                x += 1
            }
        }
        while i < body.count {
            let c = body[i]
            switch c {
            case 0x23:  // # colour
                i += 1
                let n = numbers()
                if n.count == 5 {
                    guard n[1] == 2 else { throw DecodeError("colour space \(n[1]) (only RGB is used)") }
                    func level(_ percent: Int) -> UInt8 { UInt8((Double(percent) * 255 / 100).rounded()) }
                    palette[n[0]] = (level(n[2]), level(n[3]), level(n[4]))
                } else if n.count == 1 {
                    guard let p = palette[n[0]] else { throw DecodeError("colour \(n[0]) used before it is defined") }
                    colour = p
                } else { throw DecodeError("colour command with \(n.count) numbers") }
            case 0x21:  // ! repeat
                i += 1
                let n = number()
                guard i < body.count else { throw DecodeError("repeat at the end") }
                try put(body[i], count: n)
                i += 1
            case 0x24: x = 0; i += 1       // $ back to the start of the band
            case 0x2D: x = 0; band += 1; i += 1  // - next band
            case 0x3F ... 0x7E: try put(c, count: 1); i += 1
            case 0x0A, 0x0D: i += 1
            default: throw DecodeError("unexpected byte \(c) in sixel data")
            }
        }
        return DecodedImage(width: width, height: height, rgb: rgb)
    }
}

enum KittyDecoder {
    struct Command {
        var keys: [String: String]
        var payload: String
    }

    /// Every `ESC _G keys;payload ESC \` in the bytes (nothing else may be between them).
    static func commands(_ bytes: [UInt8]) throws -> [Command] {
        var out: [Command] = []
        var i = 0
        while i < bytes.count {
            guard i + 2 < bytes.count, bytes[i] == 0x1B, bytes[i + 1] == 0x5F, bytes[i + 2] == 0x47 else {
                throw DecodeError("byte \(i) is not the start of a graphics command")
            }
            var j = i + 3
            while j + 1 < bytes.count, !(bytes[j] == 0x1B && bytes[j + 1] == 0x5C) { j += 1 }
            guard j + 1 < bytes.count else { throw DecodeError("unterminated graphics command") }
            let text = String(decoding: bytes[(i + 3) ..< j], as: UTF8.self)
            let parts = text.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
            var keys: [String: String] = [:]
            for kv in parts[0].split(separator: ",") {
                let p = kv.split(separator: "=", maxSplits: 1)
                guard p.count == 2 else { throw DecodeError("key without value: \(kv)") }
                keys[String(p[0])] = String(p[1])
            }
            out.append(Command(keys: keys, payload: parts.count > 1 ? String(parts[1]) : ""))
            i = j + 2
        }
        return out
    }

    /// The image of one chunked transmission (`a=T`, `f=32` or `f=24`), and its first command's keys.
    static func decode(_ bytes: [UInt8]) throws -> (image: DecodedImage, keys: [String: String], chunks: [Command]) {
        let cmds = try commands(bytes)
        guard let first = cmds.first else { throw DecodeError("no commands") }
        for (k, c) in cmds.enumerated() {
            let more = c.keys["m"] ?? "0"
            guard more == (k == cmds.count - 1 ? "0" : "1") else { throw DecodeError("chunk \(k) has m=\(more)") }
            guard c.payload.count <= 4096 else { throw DecodeError("chunk \(k) carries \(c.payload.count) bytes (at most 4096)") }
        }
        // Each chunk is base64 of its own (chafa pads every chunk; kitty decodes them one by one).
        var data = Data()
        for (k, c) in cmds.enumerated() where !c.payload.isEmpty {
            guard let piece = Data(base64Encoded: c.payload) else { throw DecodeError("chunk \(k) is not base64") }
            data.append(piece)
        }
        guard let w = first.keys["s"].flatMap(Int.init), let h = first.keys["v"].flatMap(Int.init) else { throw DecodeError("no s/v size") }
        let channels = first.keys["f"] == "24" ? 3 : 4
        guard data.count == w * h * channels else { throw DecodeError("\(data.count) bytes for \(w)x\(h)x\(channels)") }
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        let raw = [UInt8](data)
        for p in 0 ..< w * h {
            rgb[p * 3] = raw[p * channels]; rgb[p * 3 + 1] = raw[p * channels + 1]; rgb[p * 3 + 2] = raw[p * channels + 2]
        }
        return (DecodedImage(width: w, height: h, rgb: rgb), first.keys, cmds)
    }
}

enum ITermDecoder {
    /// `ESC ] 1337 ; File = key=value;... : BASE64 BEL`, the file a baseline TIFF (uncompressed, 8 bits a sample).
    static func decode(_ bytes: [UInt8]) throws -> (image: DecodedImage, keys: [String: String]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasPrefix("\u{1B}]1337;File=") else { throw DecodeError("no OSC 1337 File=") }
        guard let colon = text.firstIndex(of: ":") else { throw DecodeError("no ':' before the file") }
        var end = text.endIndex
        if text.hasSuffix("\u{07}") { end = text.index(before: end) } else if text.hasSuffix("\u{1B}\\") { end = text.index(end, offsetBy: -2) } else {
            throw DecodeError("no BEL or ST at the end")
        }
        var keys: [String: String] = [:]
        for kv in text[text.index(text.startIndex, offsetBy: 11) ..< colon].split(separator: ";") {
            let p = kv.split(separator: "=", maxSplits: 1)
            if p.count == 2 { keys[String(p[0])] = String(p[1]) }
        }
        guard let data = Data(base64Encoded: String(text[text.index(after: colon) ..< end])) else { throw DecodeError("file is not base64") }
        return (try tiff([UInt8](data)), keys)
    }

    static func tiff(_ b: [UInt8]) throws -> DecodedImage {
        guard b.count > 8, b[0] == 0x49, b[1] == 0x49 else { throw DecodeError("not a little-endian TIFF") }
        func u16(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        guard u16(2) == 42 else { throw DecodeError("TIFF magic") }
        let ifd = u32(4)
        var tags: [Int: [Int]] = [:]
        for e in 0 ..< u16(ifd) {
            let o = ifd + 2 + e * 12
            let tag = u16(o), type = u16(o + 2), count = u32(o + 4)
            let size = type == 3 ? 2 : 4
            let at = count * size <= 4 ? o + 8 : u32(o + 8)
            tags[tag] = (0 ..< count).map { type == 3 ? u16(at + $0 * 2) : u32(at + $0 * 4) }
        }
        guard let w = tags[256]?.first, let h = tags[257]?.first else { throw DecodeError("no size") }
        guard (tags[259]?.first ?? 1) == 1 else { throw DecodeError("compressed TIFF") }
        let spp = tags[277]?.first ?? 1
        guard spp >= 3, (tags[258] ?? [8]).allSatisfy({ $0 == 8 }) else { throw DecodeError("\(spp) samples of \(tags[258] ?? []) bits") }
        guard let offsets = tags[273], let counts = tags[279] else { throw DecodeError("no strips") }
        var raw: [UInt8] = []
        for (o, n) in zip(offsets, counts) { raw += b[o ..< o + n] }
        guard raw.count >= w * h * spp else { throw DecodeError("\(raw.count) bytes of pixels for \(w)x\(h)x\(spp)") }
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for p in 0 ..< w * h { for c in 0 ..< 3 { rgb[p * 3 + c] = raw[p * spp + c] } }
        return DecodedImage(width: w, height: h, rgb: rgb)
    }
}
