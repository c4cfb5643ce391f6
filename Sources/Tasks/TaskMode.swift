/// The modes a question can be asked in: MiniGPT-v2's task identifiers (formats.md §5.8), whose tag goes in
/// front of the instruction, and Mini-Gemini's `Generate` (its CLI's `--gen`), which has no bracket tag: " <GEN>"
/// goes after the instruction instead.
public enum TaskMode: String, CaseIterable, Sendable, Codable {
    case chat, vqa, caption, grounding, refer, detection, identify, generate

    /// MiniGPT-v2's modes: Chat and the six tagged tasks (what MiniGPT-v2 and `shapes` are offered).
    public static let miniGPTv2Modes: [TaskMode] = [.chat, .vqa, .caption, .grounding, .refer, .detection, .identify]
    /// Mini-Gemini's: free chat, and asking for an image-generation prompt.
    public static let miniGeminiModes: [TaskMode] = [.chat, .generate]

    /// The modes a model is offered, from what its chat template says (`understandsTaskTags`, `isMiniGemini`).
    public static func offered(understandsTaskTags: Bool, isMiniGemini: Bool) -> [TaskMode] {
        if understandsTaskTags { return miniGPTv2Modes }
        if isMiniGemini { return miniGeminiModes }
        return [.chat]
    }

    /// The tag, e.g. "[vqa]"; nil for free chat and for Generate (which marks the end of the text instead).
    public var tag: String? { self == .chat || self == .generate ? nil : "[\(rawValue)]" }

    public var title: String {
        switch self {
        case .chat: return "Chat"
        case .vqa: return "VQA"
        case .caption: return "Caption"
        case .grounding: return "Grounding"
        case .refer: return "Refer"
        case .detection: return "Detection"
        case .identify: return "Identify"
        case .generate: return "Generate"
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
        case .generate: return "Gen"
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

    /// The instruction with this mode's tag in front (nothing added when the text already starts with a tag);
    /// for Generate, MGM's " <GEN>" after it (nothing added when it already ends so).
    public func prompt(_ instruction: String) -> String {
        if self == .generate { return MiniGemini.generationRequest(instruction) }
        guard let tag else { return instruction }
        if TaskMode.leadingTag(of: instruction) != nil { return instruction }
        return instruction.isEmpty ? tag : "\(tag) \(instruction)"
    }

    /// The mode a prompt's leading tag names, if any.
    public static func leadingTag(of text: String) -> TaskMode? {
        let trimmed = text.drop { $0 == " " }
        for mode in allCases {
            if let tag = mode.tag, trimmed.hasPrefix(tag) { return mode }
        }
        return nil
    }
}
