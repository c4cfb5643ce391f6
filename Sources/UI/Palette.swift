/// Nearest colours for terminals with fewer colours than a theme names, and the RGB of indexed colours (for
/// drawing box outlines into a pixel preview).
public enum Palette {
    public static func to256(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        func level(_ v: UInt8) -> Int { v < 48 ? 0 : v < 115 ? 1 : (Int(v) - 35) / 40 }
        return UInt8(16 + 36 * level(r) + 6 * level(g) + level(b))
    }

    /// The 16 ANSI colours by index (approximate RGB of xterm's defaults).
    public static let ansi: [(Int, Int, Int)] = [(0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205),
                                          (0, 205, 205), (229, 229, 229), (127, 127, 127), (255, 0, 0), (0, 255, 0),
                                          (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255)]

    public static func rgb(index i: UInt8) -> (Int, Int, Int) {
        if i < 16 { return ansi[Int(i)] }
        if i >= 232 { let v = 8 + 10 * (Int(i) - 232); return (v, v, v) }
        let c = Int(i) - 16
        let steps = [0, 95, 135, 175, 215, 255]
        return (steps[c / 36], steps[(c / 6) % 6], steps[c % 6])
    }

    public static func to16(index i: UInt8) -> UInt8 {
        if i < 16 { return i }
        let (r, g, b) = rgb(index: i)
        var best = 0, bestDistance = Int.max
        for (k, c) in ansi.enumerated() {
            let d = (c.0 - r) * (c.0 - r) + (c.1 - g) * (c.1 - g) + (c.2 - b) * (c.2 - b)
            if d < bestDistance { best = k; bestDistance = d }
        }
        return UInt8(best)
    }
}

extension Color {
    /// The colour as RGB, `fallback` for the terminal's default.
    public func rgb(fallback: (UInt8, UInt8, UInt8)) -> (UInt8, UInt8, UInt8) {
        switch self {
        case .normal: return fallback
        case .rgb(let r, let g, let b): return (r, g, b)
        case .indexed(let i):
            let (r, g, b) = Palette.rgb(index: i)
            return (UInt8(r), UInt8(g), UInt8(b))
        }
    }
}
