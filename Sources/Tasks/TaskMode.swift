/// MiniGPT-v2's task identifiers (formats.md §5.8). The tag goes in front of the instruction.
public enum TaskMode: String, CaseIterable, Sendable, Codable {
    case chat, vqa, caption, grounding, refer, detection, identify

    /// The tag, e.g. "[vqa]"; nil for free chat.
    public var tag: String? { self == .chat ? nil : "[\(rawValue)]" }

    public var title: String {
        switch self {
        case .chat: return "Chat"
        case .vqa: return "VQA"
        case .caption: return "Caption"
        case .grounding: return "Grounding"
        case .refer: return "Refer"
        case .detection: return "Detection"
        case .identify: return "Identify"
        }
    }

    /// For narrow terminals.
    public var shortTitle: String {
        switch self {
        case .chat: return "Chat"
        case .vqa: return "VQA"
        case .caption: return "Cap"
        case .grounding: return "Ground"
        case .refer: return "Refer"
        case .detection: return "Detect"
        case .identify: return "Ident"
        }
    }

    /// What MiniGPT-v2's demo pre-fills when the mode is chosen.
    public var suggestedInstruction: String {
        switch self {
        case .grounding: return "describe this image in detail"
        case .identify: return "what is this"
        default: return ""
        }
    }

    /// The instruction with this mode's tag in front (nothing added when the text already starts with a tag).
    public func prompt(_ instruction: String) -> String {
        guard let tag else { return instruction }
        if TaskMode.leadingTag(of: instruction) != nil { return instruction }
        return instruction.isEmpty ? tag : "\(tag) \(instruction)"
    }

    /// The mode a prompt's leading tag names, if any.
    public static func leadingTag(of text: String) -> TaskMode? {
        let trimmed = text.drop { $0 == " " }
        for mode in allCases where mode != .chat {
            if trimmed.hasPrefix(mode.tag!) { return mode }
        }
        return nil
    }
}
