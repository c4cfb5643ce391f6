import Foundation

/// Colours by role. Loaded from `themes/NAME.toml`; every role has a default, so a theme names only what it
/// changes.
public struct Theme: Sendable, Equatable {
    public var name: String
    public var base: Style
    public var dim: Style
    public var accent: Style
    public var bar: Style
    public var barActive: Style
    public var user: Style
    public var assistant: Style
    public var border: Style
    public var input: Style
    public var error: Style
    public var notice: Style
    /// Colours of boxes drawn on the image and of the phrases that name them, in order.
    public var boxes: [Style]

    public static let dark = Theme(
        name: "dark",
        base: Style(foreground: .indexed(252), background: .indexed(235)),
        dim: Style(foreground: .indexed(244), background: .indexed(235)),
        accent: Style(foreground: .indexed(81), background: .indexed(235), bold: true),
        bar: Style(foreground: .indexed(252), background: .indexed(238)),
        barActive: Style(foreground: .indexed(235), background: .indexed(81), bold: true),
        user: Style(foreground: .indexed(222), background: .indexed(235), bold: true),
        assistant: Style(foreground: .indexed(252), background: .indexed(235)),
        border: Style(foreground: .indexed(240), background: .indexed(235)),
        input: Style(foreground: .indexed(255), background: .indexed(236)),
        error: Style(foreground: .indexed(203), background: .indexed(235), bold: true),
        notice: Style(foreground: .indexed(114), background: .indexed(235)),
        boxes: [51, 201, 231, 217, 118, 137].map { Style(foreground: .indexed($0), background: .indexed(235), bold: true) })

    /// For NO_COLOR and monochrome terminals: attributes only.
    public static let mono = Theme(
        name: "mono", base: Style(), dim: Style(), accent: Style(bold: true), bar: Style(reverse: true),
        barActive: Style(bold: true, underline: true), user: Style(bold: true), assistant: Style(), border: Style(),
        input: Style(underline: false), error: Style(bold: true), notice: Style(underline: true),
        boxes: [Style(bold: true), Style(underline: true), Style(bold: true, underline: true)])

    nonisolated(unsafe) static let roles: [String: WritableKeyPath<Theme, Style>] = [
        "base": \.base, "dim": \.dim, "accent": \.accent, "bar": \.bar, "bar_active": \.barActive, "user": \.user,
        "assistant": \.assistant, "border": \.border, "input": \.input, "error": \.error, "notice": \.notice,
    ]
}

public struct ThemeError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

extension Theme {
    /// Parses a theme file. Roles are tables `{ fg = "#rrggbb" | 0...255 | "default", bg = ..., bold = true }`;
    /// `boxes` is an array of such tables. Unknown roles and bad colours are errors naming the file and line.
    public static func load(path: String) throws -> Theme {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ThemeError(description: "\(path): cannot be read")
        }
        return try parse(text, name: ((path as NSString).lastPathComponent as NSString).deletingPathExtension, source: path)
    }

    public static func parse(_ text: String, name: String, source: String = "theme") throws -> Theme {
        let table: TOMLTable
        do { table = try TOMLTable(parsing: text) } catch let e as TOMLError {
            throw ThemeError(description: "\(source):\(e.line): \(e.message)")
        }
        var theme = table["inherits"]?.string == "mono" ? Theme.mono : Theme.dark
        theme.name = name
        for key in table.keys {
            if key == "inherits" { continue }
            if key == "boxes" {
                guard let array = table[key]?.array else { throw ThemeError(description: "\(source): 'boxes' must be an array of tables") }
                theme.boxes = try array.map { try style($0.table, role: "boxes", source: source, base: theme.base) }
                if theme.boxes.isEmpty { throw ThemeError(description: "\(source): 'boxes' is empty") }
                continue
            }
            guard let path = roles[key] else {
                let known = (roles.keys.sorted() + ["boxes", "inherits"]).joined(separator: ", ")
                throw ThemeError(description: "\(source): unknown role '\(key)' (known: \(known))")
            }
            theme[keyPath: path] = try style(table[key]?.table, role: key, source: source, base: theme[keyPath: path])
        }
        return theme
    }

    static func style(_ t: TOMLTable?, role: String, source: String, base: Style) throws -> Style {
        guard let t else { throw ThemeError(description: "\(source): role '\(role)' must be a table like { fg = \"#ffffff\" }") }
        var s = base
        for key in t.keys {
            switch key {
            case "fg": s.foreground = try color(t[key]!, role: role, source: source)
            case "bg": s.background = try color(t[key]!, role: role, source: source)
            case "bold": s.bold = t[key]!.bool ?? false
            case "underline": s.underline = t[key]!.bool ?? false
            case "reverse": s.reverse = t[key]!.bool ?? false
            default: throw ThemeError(description: "\(source): role '\(role)' has unknown attribute '\(key)' (fg, bg, bold, underline, reverse)")
            }
        }
        return s
    }

    static func color(_ v: TOMLValue, role: String, source: String) throws -> Color {
        if let i = v.int {
            guard (0 ... 255).contains(i) else { throw ThemeError(description: "\(source): colour \(i) of '\(role)' is not 0...255") }
            return .indexed(UInt8(i))
        }
        if let s = v.string {
            if s == "default" { return .normal }
            let hex = s.hasPrefix("#") ? String(s.dropFirst()) : s
            if hex.count == 6, let n = UInt32(hex, radix: 16) {
                return .rgb(UInt8(n >> 16), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF))
            }
        }
        throw ThemeError(description: "\(source): colour '\(v)' of '\(role)' is not \"#rrggbb\", 0...255 or \"default\"")
    }
}
