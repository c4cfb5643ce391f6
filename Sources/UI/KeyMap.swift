/// Things a key can be bound to; the raw values are the names used in config.toml's [keys] table.
public enum Action: String, CaseIterable, Sendable {
    case help, stop, quit, regenerate
    case modelPicker = "model_picker", taskPicker = "task_picker", nextTask = "next_task"
    case previousTask = "previous_task", newConversation = "new_conversation", nextImage = "next_image"
    case nextPane = "next_pane", zoom, broadcast, zoomImage = "zoom_image", pasteImage = "paste_image"
}

/// Key bindings: the defaults, and overrides (from the configuration) that take precedence over every key.
public struct KeyMap: Sendable, Equatable {
    public var overrides: [Key: Action] = [:]
    public init(overrides: [Key: Action] = [:]) { self.overrides = overrides }

    static let defaults: [Key: Action] = [
        .function(1): .help, .function(2): .modelPicker, .ctrl("o"): .modelPicker, .function(3): .taskPicker,
        .ctrl("t"): .taskPicker, .backTab: .previousTask, .ctrl("r"): .regenerate, .ctrl("n"): .newConversation,
        .ctrl("l"): .nextImage, .escape: .stop, .function(6): .nextPane, .function(7): .zoom, .function(4): .broadcast,
        .function(8): .zoomImage, .ctrl("v"): .pasteImage,
    ]

    /// "ctrl-g", "alt-x", "f5", "esc", "tab", "shift-tab", "enter" or a single character.
    public static func key(named spec: String) -> Key? {
        let s = spec.lowercased().trimmingCharacters(in: .whitespaces)
        let named: [String: Key] = ["esc": .escape, "escape": .escape, "tab": .tab, "shift-tab": .backTab, "enter": .enter,
                                    "pageup": .pageUp, "pagedown": .pageDown]
        if let k = named[s] { return k }
        if s.hasPrefix("ctrl-"), s.count == 6, let c = s.last, c.isLetter { return .ctrl(c) }
        if s.hasPrefix("alt-"), s.count == 5, let c = s.last { return .alt(c) }
        if s.hasPrefix("f"), let n = Int(s.dropFirst()), (1 ... 12).contains(n) { return .function(n) }
        if spec.count == 1, let c = spec.first { return .character(c) }
        return nil
    }
}
