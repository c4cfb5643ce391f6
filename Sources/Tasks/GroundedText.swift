/// A box in MiniGPT-v2's coordinates: integers 0...100 relative to the image's width and height.
public struct Box: Sendable, Equatable, Codable {
    public var x1, y1, x2, y2: Int

    public init(_ x1: Int, _ y1: Int, _ x2: Int, _ y2: Int) {
        (self.x1, self.y1, self.x2, self.y2) = (x1, y1, x2, y2)
    }

    /// Pixel corners on a `width` x `height` image (coordinates clamped to 0...100, corners ordered).
    public func pixels(width: Int, height: Int) -> (x1: Int, y1: Int, x2: Int, y2: Int) {
        func px(_ v: Int, _ size: Int) -> Int { Int((Double(min(max(v, 0), 100)) / 100 * Double(size)).rounded()) }
        let a = px(x1, width), b = px(y1, height), c = px(x2, width), d = px(y2, height)
        return (min(a, c), min(b, d), max(a, c), max(b, d))
    }

    /// `{<x1><y1><x2><y2>}`, as the model writes it.
    public var text: String { "{<\(x1)><\(y1)><\(x2)><\(y2)>}" }
}

/// An answer in MiniGPT-v2's task language, split into what to show and where boxes go:
/// `<p>phrase</p> {<x1><y1><x2><y2>}<delim>{...}` is a phrase with boxes, a lone `{<..><..><..><..>}` a box.
/// Anything else, malformed tags included, is plain text: parsing never fails.
public struct GroundedText: Sendable, Equatable {
    public enum Segment: Sendable, Equatable {
        case text(String)
        case phrase(String, [Box])
        case box(Box)
    }

    public let segments: [Segment]

    /// Every box with its label (the phrase, or "" for a bare box), in order.
    public var boxes: [(label: String, box: Box)] {
        segments.flatMap { s -> [(label: String, box: Box)] in
            switch s {
            case .text: return []
            case .phrase(let p, let bs): return bs.map { (p, $0) }
            case .box(let b): return [("", b)]
            }
        }
    }

    /// The answer as a person reads it: phrases without tags, boxes left out.
    public var plainText: String {
        segments.map { s -> String in
            switch s {
            case .text(let t): return t
            case .phrase(let p, _): return p
            case .box: return ""
            }
        }.joined()
    }

    public init(parsing text: String) {
        var parser = Parser(Array(text.unicodeScalars))
        segments = parser.parse()
    }

    private struct Parser {
        let s: [Unicode.Scalar]
        var i = 0
        var out: [Segment] = []
        var pending = String.UnicodeScalarView()

        init(_ s: [Unicode.Scalar]) { self.s = s }

        mutating func parse() -> [Segment] {
            while i < s.count {
                if starts("<p>"), let (phrase, end) = phraseAt(i + 3) {
                    var j = skipSpaces(end)
                    var boxes: [Box] = []
                    while let (box, next) = boxAt(j) {
                        boxes.append(box)
                        j = next
                        if starts("<delim>", at: j) { j += 7 } else { break }
                    }
                    flush()
                    if boxes.isEmpty {
                        out.append(.text(phrase))
                        i = end
                    } else {
                        out.append(.phrase(phrase, boxes))
                        i = j
                    }
                } else if let (box, next) = boxAt(i) {
                    flush()
                    out.append(.box(box))
                    i = next
                    if starts("<delim>") { i += 7 }
                } else {
                    pending.append(s[i])
                    i += 1
                }
            }
            flush()
            return out
        }

        mutating func flush() {
            if !pending.isEmpty { out.append(.text(String(pending))) }
            pending = String.UnicodeScalarView()
        }

        func starts(_ text: String, at k: Int? = nil) -> Bool {
            let at = k ?? i
            let t = Array(text.unicodeScalars)
            guard at + t.count <= s.count else { return false }
            return s[at ..< at + t.count].elementsEqual(t)
        }

        func skipSpaces(_ k: Int) -> Int {
            var k = k
            while k < s.count && s[k] == " " { k += 1 }
            return k
        }

        /// The phrase up to `</p>` (no nested `<p>`), and the index after `</p>`.
        func phraseAt(_ k: Int) -> (String, Int)? {
            var j = k
            while j < s.count {
                if starts("</p>", at: j) { return (String(String.UnicodeScalarView(s[k ..< j])), j + 4) }
                if starts("<p>", at: j) { return nil }
                j += 1
            }
            return nil
        }

        /// `{<a><b><c><d>}` with optional spaces; integers of at most 4 digits.
        func boxAt(_ k: Int) -> (Box, Int)? {
            guard k < s.count, s[k] == "{" else { return nil }
            var j = k + 1
            var values: [Int] = []
            while values.count < 4 {
                j = skipSpaces(j)
                guard j < s.count, s[j] == "<" else { return nil }
                j += 1
                var digits = ""
                if j < s.count && s[j] == "-" { digits.append("-"); j += 1 }
                while j < s.count, s[j].properties.numericType == .decimal, ("0" ... "9").contains(s[j]), digits.count < 5 {
                    digits.unicodeScalars.append(s[j])
                    j += 1
                }
                guard j < s.count, s[j] == ">", let v = Int(digits) else { return nil }
                values.append(v)
                j += 1
            }
            j = skipSpaces(j)
            guard j < s.count, s[j] == "}" else { return nil }
            return (Box(values[0], values[1], values[2], values[3]), j + 1)
        }
    }
}
