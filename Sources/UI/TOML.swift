/// TOML 1.0 (tables, arrays of tables, dotted keys, all four kinds of string, integers, floats, booleans, arrays,
/// inline tables; not dates, which nothing Glimpse reads has), for config.toml and themes. Glimpse's own parser:
/// the one under TOMLKit (toml++ 3, built with its assertions on) aborted the app on some typos, which the
/// config fuzzer found. Every problem is a `TOMLError` with its line; nothing in the text can crash it (nesting
/// is limited, so no input can exhaust the stack).
public struct TOMLError: Error, CustomStringConvertible, Sendable, Equatable {
    public let line: Int
    public let message: String
    public var description: String { message }
}

public indirect enum TOMLValue: Sendable, Equatable, CustomStringConvertible {
    case string(String), integer(Int), float(Double), boolean(Bool), array([TOMLValue]), table(TOMLTable)

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var int: Int? { if case .integer(let i) = self { return i } else { return nil } }
    public var double: Double? { if case .float(let d) = self { return d } else { return nil } }
    public var bool: Bool? { if case .boolean(let b) = self { return b } else { return nil } }
    public var array: [TOMLValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var table: TOMLTable? { if case .table(let t) = self { return t } else { return nil } }

    public var description: String {
        switch self {
        case .string(let s): return "\"\(s)\""
        case .integer(let i): return "\(i)"
        case .float(let d): return "\(d)"
        case .boolean(let b): return "\(b)"
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .table(let t): return "{" + t.keys.map { "\($0) = \(t[$0]!)" }.joined(separator: ", ") + "}"
        }
    }
}

/// A table: its keys in the order the text gave them.
public struct TOMLTable: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var values: [String: TOMLValue] = [:]
    /// Tables made by a header or a dotted key (so a second header for the same table is an error, but
    /// `[a.b]` after `[a]` is fine); arrays made by `[[...]]` (the only arrays a header may extend).
    fileprivate var explicit: Set<String> = []
    fileprivate var headerArrays: Set<String> = []

    public init() {}
    public subscript(key: String) -> TOMLValue? { values[key] }

    fileprivate mutating func set(_ key: String, _ value: TOMLValue) {
        if values[key] == nil { keys.append(key) }
        values[key] = value
    }

    public init(parsing text: String) throws {
        var parser = TOMLParser(text)
        self = try parser.document()
    }
}

// MARK: - Parser

private struct TOMLParser {
    let s: [Unicode.Scalar]
    var i = 0
    var line = 1
    var depth = 0
    static let maxDepth = 64

    init(_ text: String) { s = Array(text.unicodeScalars) }

    var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }
    func peek(_ offset: Int) -> Unicode.Scalar? { i + offset < s.count ? s[i + offset] : nil }
    func at(_ text: String) -> Bool {
        for (k, c) in text.unicodeScalars.enumerated() where peek(k) != c { return false }
        return true
    }
    mutating func advance(_ n: Int = 1) {
        for _ in 0 ..< n where i < s.count {
            if s[i] == "\n" { line += 1 }
            i += 1
        }
    }
    func fail(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }

    mutating func skipSpaces() { while peek == " " || peek == "\t" { advance() } }
    mutating func skipComment() {
        guard peek == "#" else { return }
        while let c = peek, c != "\n" { advance() }
    }
    /// Spaces, comments and newlines (between top-level items and inside arrays).
    mutating func skipBlank() {
        while true {
            skipSpaces()
            skipComment()
            if peek == "\n" { advance() } else if at("\r\n") { advance(2) } else { return }
        }
    }
    mutating func endOfLine() throws {
        skipSpaces()
        skipComment()
        if peek == nil { return }
        if peek == "\n" { return advance() }
        if at("\r\n") { return advance(2) }
        throw fail("expected the end of the line, found '\(peek!)'")
    }

    // MARK: Document

    mutating func document() throws -> TOMLTable {
        var root = TOMLTable()
        var current: [String] = []
        while true {
            skipBlank()
            guard let c = peek else { return root }
            let start = line
            if c == "[" {
                let isArray = peek(1) == "["
                advance(isArray ? 2 : 1)
                skipSpaces()
                let path = try key()
                skipSpaces()
                guard at(isArray ? "]]" : "]") else { throw fail("a table header must end with '\(isArray ? "]]" : "]")'") }
                advance(isArray ? 2 : 1)
                try endOfLine()
                try Self.header(&root, path[...], isArray: isArray, line: start)
                current = path
            } else {
                let (path, v) = try keyValue()
                try endOfLine()
                try Self.within(&root, current[...], line: start) { table in try Self.assign(&table, path[...], v, line: start) }
            }
        }
    }

    /// Runs `body` on the table a header named (the last element of an array of tables).
    static func within(_ table: inout TOMLTable, _ path: ArraySlice<String>, line: Int,
                       _ body: (inout TOMLTable) throws -> Void) throws {
        guard let first = path.first else { return try body(&table) }
        switch table[first] {
        case .table(var inner)?:
            try within(&inner, path.dropFirst(), line: line, body)
            table.set(first, .table(inner))
        case .array(var array)? where table.headerArrays.contains(first):
            guard case .table(var inner)? = array.last else { throw TOMLError(line: line, message: "'\(first)' is not a table") }
            try within(&inner, path.dropFirst(), line: line, body)
            array[array.count - 1] = .table(inner)
            table.set(first, .array(array))
        default:
            throw TOMLError(line: line, message: "'\(first)' is not a table")
        }
    }

    static func header(_ root: inout TOMLTable, _ path: ArraySlice<String>, isArray: Bool, line: Int) throws {
        let parent = path.dropLast(), last = path.last!
        // Tables on the way are made as needed (implicitly).
        var walk: [String] = []
        for key in parent {
            try within(&root, walk[...], line: line) { t in if t[key] == nil { t.set(key, .table(TOMLTable())) } }
            walk.append(key)
        }
        let made = TOMLTable()
        try within(&root, parent, line: line) { t in
            if isArray {
                switch t[last] {
                case nil:
                    t.set(last, .array([.table(made)]))
                    t.headerArrays.insert(last)
                case .array(let a)? where t.headerArrays.contains(last):
                    t.set(last, .array(a + [.table(made)]))
                default:
                    throw TOMLError(line: line, message: "'\(last)' is already defined as something other than an array of tables")
                }
            } else {
                switch t[last] {
                case nil: t.set(last, .table(made))
                case .table? where !t.explicit.contains(last): break
                default: throw TOMLError(line: line, message: "the table '\(path.joined(separator: "."))' is defined twice")
                }
                t.explicit.insert(last)
            }
        }
    }

    static func assign(_ table: inout TOMLTable, _ path: ArraySlice<String>, _ value: TOMLValue, line: Int) throws {
        let key = path.first!
        if path.count == 1 {
            guard table[key] == nil else { throw TOMLError(line: line, message: "the key '\(key)' is defined twice") }
            return table.set(key, value)
        }
        var inner: TOMLTable
        switch table[key] {
        case nil: inner = TOMLTable()
        case .table(let t)?: inner = t
        default: throw TOMLError(line: line, message: "'\(key)' is not a table")
        }
        try assign(&inner, path.dropFirst(), value, line: line)
        table.set(key, .table(inner))
    }

    // MARK: Keys

    /// `key = value`, the key possibly dotted.
    mutating func keyValue() throws -> ([String], TOMLValue) {
        let path = try key()
        skipSpaces()
        guard peek == "=" else { throw fail("expected '=' after the key '\(path.joined(separator: "."))'") }
        advance()
        skipSpaces()
        return (path, try value())
    }

    mutating func key() throws -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            if peek == "\"" || peek == "'" {
                guard !at("\"\"\"") && !at("'''") else { throw fail("a key cannot be a multi-line string") }
                parts.append(try string())
            } else {
                var bare = ""
                while let c = peek, ("a" ... "z").contains(c) || ("A" ... "Z").contains(c) || ("0" ... "9").contains(c)
                        || c == "_" || c == "-" {
                    bare.unicodeScalars.append(c)
                    advance()
                }
                guard !bare.isEmpty else {
                    throw fail(peek.map { "a key cannot start with '\($0)'" } ?? "a key is missing at the end of the text")
                }
                parts.append(bare)
            }
            skipSpaces()
            guard peek == "." else { return parts }
            advance()
        }
    }

    // MARK: Values

    mutating func value() throws -> TOMLValue {
        guard let c = peek else { throw fail("a value is missing after '='") }
        switch c {
        case "\"", "'": return .string(try string())
        case "[": return try nested { try $0.arrayValue() }
        case "{": return try nested { try $0.inlineTable() }
        case "t" where at("true"): advance(4); return .boolean(true)
        case "f" where at("false"): advance(5); return .boolean(false)
        default: return try number()
        }
    }

    mutating func nested(_ body: (inout TOMLParser) throws -> TOMLValue) throws -> TOMLValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw fail("arrays and tables are nested more than \(Self.maxDepth) deep") }
        return try body(&self)
    }

    mutating func arrayValue() throws -> TOMLValue {
        advance()  // [
        var items: [TOMLValue] = []
        while true {
            skipBlank()
            if peek == "]" { advance(); return .array(items) }
            items.append(try value())
            skipBlank()
            if peek == "," { advance(); continue }
            guard peek == "]" else { throw fail("expected ',' or ']' in an array") }
        }
    }

    mutating func inlineTable() throws -> TOMLValue {
        advance()  // {
        var table = TOMLTable()
        skipSpaces()
        if peek == "}" { advance(); return .table(table) }
        while true {
            skipSpaces()
            let (path, v) = try keyValue()
            try Self.assign(&table, path[...], v, line: line)
            skipSpaces()
            if peek == "," { advance(); continue }
            if peek == "}" { advance(); return .table(table) }
            throw fail("expected ',' or '}' in an inline table (it must be on one line)")
        }
    }

    mutating func string() throws -> String {
        let literal = peek == "'"
        let quote: Unicode.Scalar = literal ? "'" : "\""
        let multiline = at(literal ? "'''" : "\"\"\"")
        advance(multiline ? 3 : 1)
        if multiline {
            if peek == "\n" { advance() } else if at("\r\n") { advance(2) }
        }
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek else { throw fail("a string is not closed") }
            if multiline, at(literal ? "'''" : "\"\"\"") {
                // Up to two quotes may end the content right before the closing three.
                var extra = 0
                while peek(3 + extra) == quote && extra < 2 { extra += 1 }
                for _ in 0 ..< extra { out.append(quote) }
                advance(3 + extra)
                return String(out)
            }
            if !multiline && c == quote { advance(); return String(out) }
            if c == "\n" && !multiline { throw fail("a string must end on its line (use \"\"\" for several lines)") }
            if c == "\\" && !literal {
                advance()
                if multiline, let n = peek, n == " " || n == "\t" || n == "\n" || n == "\r" {
                    // A line-ending backslash joins the lines, dropping the whitespace that follows.
                    while let w = peek, w == " " || w == "\t" || w == "\n" || w == "\r" { advance() }
                    continue
                }
                out.append(try escape())
                continue
            }
            if c.value < 0x20 && c != "\t" && c != "\n" && c != "\r" || c.value == 0x7F {
                throw fail("a string cannot hold the control character U+\(String(c.value, radix: 16, uppercase: true))")
            }
            out.append(c)
            advance()
        }
    }

    mutating func escape() throws -> Unicode.Scalar {
        guard let c = peek else { throw fail("a string is not closed") }
        advance()
        switch c {
        case "b": return "\u{8}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{C}"
        case "r": return "\r"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U":
            let count = c == "u" ? 4 : 8
            var hex = ""
            for _ in 0 ..< count {
                guard let h = peek, h.properties.isASCIIHexDigit else { throw fail("\\\(c) needs \(count) hex digits") }
                hex.unicodeScalars.append(h)
                advance()
            }
            guard let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else { throw fail("\\\(c)\(hex) is not a character") }
            return scalar
        default: throw fail("unknown escape '\\\(c)' in a string")
        }
    }

    mutating func number() throws -> TOMLValue {
        var text = ""
        while let c = peek, c != ",", c != "]", c != "}", c != " ", c != "\t", c != "\n", c != "\r", c != "#" {
            text.unicodeScalars.append(c)
            advance()
        }
        guard !text.isEmpty else { throw fail("a value is missing") }
        switch text {
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        let bad = fail("'\(text)' is not a value (a string needs quotes)")
        if text.contains("__") || text.hasPrefix("_") || text.hasSuffix("_") { throw bad }
        let digits = text.replacingOccurrences(of: "_", with: "")
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where digits.hasPrefix(prefix) {
            guard let v = Int(digits.dropFirst(2), radix: radix) else { throw bad }
            return .integer(v)
        }
        let unsigned = digits.hasPrefix("+") || digits.hasPrefix("-") ? String(digits.dropFirst()) : digits
        guard let first = unsigned.first, first.isASCII, first.isNumber else { throw bad }
        if unsigned.count > 1 && first == "0" && unsigned.dropFirst().first?.isNumber == true { throw fail("'\(text)': leading zeros are not allowed") }
        if unsigned.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let v = Int(digits) else { throw fail("'\(text)' is too large") }
            return .integer(v)
        }
        guard unsigned.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "+" || $0 == "-") }),
              !unsigned.hasSuffix("."), !unsigned.contains(".e"), !unsigned.contains(".E"),
              let v = Double(digits), v.isFinite else { throw bad }
        return .float(v)
    }
}
