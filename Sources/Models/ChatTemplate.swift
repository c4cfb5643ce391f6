/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable { case system, user, assistant }
    public var role: Role
    public var content: String

    public init(_ role: Role, _ content: String) {
        self.role = role
        self.content = content
    }
}

/// The prompt formats Glimpse knows (formats.md §5.8, §6). Rendered text is tokenized with special-token
/// parsing, and the tokenizer adds BOS itself, so templates never start with a BOS text of their own
/// (except MiniGPT-v2, whose reference prompt carries a literal `<s>` on top of the automatic one).
public enum ChatTemplate: String, CaseIterable, Sendable, Codable {
    /// LLaVA-1.5 (`conv_llava_v1`): "USER: … ASSISTANT: …</s>"
    case vicuna
    /// MiniGPT-4 with Vicuna v0 (`CONV_VISION_Vicuna0`): "<system>###Human: … ###Assistant: "
    case minigpt4
    /// MiniGPT-4 with LLaMA-2 (`CONV_VISION_LLama2`): "<system><s>[INST] … [/INST] "
    case minigpt4llama2
    /// LLaMA-2 chat: "[INST] <<SYS>>…<</SYS>> … [/INST]"
    case llama2
    /// MiniGPT-v2 (and MiniGPT-4 with LLaMA-2): "<s>[INST] … [/INST]"
    case minigptv2
    /// ChatML: "<|im_start|>user\n…<|im_end|>\n"
    case chatml
    /// Gemma: "<start_of_turn>user\n…<end_of_turn>\n<start_of_turn>model\n"
    case gemma
    /// Mini-Gemini's `conv_gemma` (MGM-2B): Gemma's turns, each answer followed by "<eos>", no system prompt.
    case mgmGemma
    /// Mini-Gemini's `conv_vicuna_v1` (MGM-7B/13B): LLaVA's layout with "curious user" in the system text.
    case mgmVicuna
    /// Mini-Gemini's `conv_llama_3` (MGM-8B): LLaMA-3 headers, but answers open with the *system* header, as
    /// MGM's code (and so its training) has it.
    case mgmLlama3
    /// SmolVLM / Idefics3: "<|im_start|>User:<image>…<end_of_utterance>\nAssistant:" (one `<|im_start|>` for the
    /// whole conversation; a turn that opens with an image has no space after the colon).
    case smolvlm
    /// Qwen2-VL / Qwen2.5-VL: ChatML with its default system prompt ("You are a helpful assistant."), each image
    /// `<|vision_start|>...<|vision_end|>` (the projector's wrapper) right before the question.
    case qwen2vl

    static let vicunaSystem = "A chat between a curious human and an artificial intelligence assistant. "
        + "The assistant gives helpful, detailed, and polite answers to the human's questions."
    static let mgmVicunaSystem = "A chat between a curious user and an artificial intelligence assistant. "
        + "The assistant gives helpful, detailed, and polite answers to the user's questions."
    static let mgmLlama3System = "You are a helpful language and vision assistant. You are able to understand the visual "
        + "content that the user provides, and assist the user with a variety of tasks using natural language."
    static let llama3SystemHeader = "<|start_header_id|>system<|end_header_id|>\n\n"
    static let minigpt4System = "Give the following image: <Img>ImageContent</Img>. "
        + "You will be able to see the image once I provide it to you. Please answer my questions."

    /// Where an image's embeddings go in a prompt (formats.md §4.7, §5.8): MiniGPT wraps a marker in
    /// `<Img>...</Img>`, LLaVA-style templates put `<image>` on its own line before the question.
    public var imageMarker: String {
        switch self {
        case .minigpt4, .minigpt4llama2, .llama2, .minigptv2: return "<ImageHere>"
        case .vicuna, .chatml, .gemma, .mgmGemma, .mgmVicuna, .mgmLlama3, .smolvlm, .qwen2vl: return "<image>"
        }
    }

    /// What goes in front of a question about an image that has no marker of its own. (Gemma 3's projector puts
    /// "\n\n" on both sides of the image itself, as Hugging Face's processor does.)
    public var imagePrefix: String {
        switch self {
        case .minigpt4, .minigpt4llama2, .llama2, .minigptv2: return "<Img><ImageHere></Img> "
        case .vicuna, .chatml, .mgmGemma, .mgmVicuna, .mgmLlama3: return "<image>\n"
        case .gemma, .smolvlm, .qwen2vl: return "<image>"
        }
    }

    /// Text that ends an answer even when the model emits no end-of-generation token.
    public var stopStrings: [String] {
        switch self {
        case .minigpt4: return ["###"]
        // MiniGPT-4's demo stops both of its models on "###" (ids 835, or 2277 29937); LLaMA-2's turns on "[INST]".
        case .minigpt4llama2: return ["###", "[INST]"]
        case .vicuna: return ["USER:"]
        case .llama2, .minigptv2: return ["[INST]"]
        case .chatml, .qwen2vl: return ["<|im_end|>"]
        case .gemma, .mgmGemma: return ["<end_of_turn>"]
        case .mgmVicuna: return ["</s>", "USER:"]
        case .mgmLlama3: return ["<|eot_id|>"]
        case .smolvlm: return ["<end_of_utterance>"]
        }
    }

    /// Whether the model was trained on MiniGPT-v2's task tags (`[vqa]`, `[grounding]`, ...): MiniGPT-v2 and the
    /// built-in `shapes`. Other models read a tag as two words of the question.
    public var understandsTaskTags: Bool { self == .minigptv2 }

    /// Mini-Gemini's conversations: its `--ocr` and `--gen` modes, and "Image k:" before each of several images.
    public var isMiniGemini: Bool { [.mgmGemma, .mgmVicuna, .mgmLlama3].contains(self) }

    /// MGM's CLI numbers the images when a prompt holds two or more: "Image 1:<image>…Image 2:<image>".
    public func numberingImages(_ text: String) -> String {
        let pieces = text.components(separatedBy: imageMarker)
        guard isMiniGemini, pieces.count > 2 else { return text }
        var out = ""
        for (i, piece) in pieces.enumerated() {
            out += piece
            if i < pieces.count - 1 { out += "Image \(i + 1):" + imageMarker }
        }
        return out
    }

    /// Chooses a template from the file's template text, else from tokens the vocabulary has.
    public static func detect(templateText: String?, architecture: String, hasToken: (String) -> Bool) -> ChatTemplate {
        if let t = templateText {
            // Written by tools/convert_mgm.py (docs/mmproj-extensions.md): MGM's conversations look like others'.
            if t.contains("MGM conv_gemma") { return .mgmGemma }
            if t.contains("MGM conv_vicuna_v1") { return .mgmVicuna }
            if t.contains("MGM conv_llama_3") { return .mgmLlama3 }
            if t.contains("<end_of_utterance>") { return .smolvlm }
            if t.contains("<|vision_start|>") { return .qwen2vl }
            if t.contains("<|im_start|>") { return .chatml }
            if t.contains("<start_of_turn>") { return .gemma }
            if t.contains("###Human") { return .minigpt4 }
            if t.contains("Give the following image") && t.contains("[INST]") { return .minigpt4llama2 }
            if t.contains("<s>[INST]") && !t.contains("<<SYS>>") { return .minigptv2 }
            if t.contains("[INST]") { return .llama2 }
            if t.contains("USER:") && t.contains("ASSISTANT:") { return .vicuna }
        }
        if architecture.hasPrefix("gemma") || hasToken("<start_of_turn>") { return .gemma }
        if hasToken("<|im_start|>") { return .chatml }
        return .vicuna
    }

    /// The prompt for `messages`, ending where the assistant's next answer begins.
    public func render(_ messages: [ChatMessage]) -> String {
        let system = messages.first { $0.role == .system }?.content
        // Earlier answers go back as the template writes them: a streamed answer may begin with its first token's
        // word-start space ("▁3"), and " \(content)" would then make a "▁" token the model never saw there.
        let turns = messages.filter { $0.role != .system }
            .map { $0.role == .assistant ? ChatMessage(.assistant, $0.content.trimmingWhitespace) : $0 }
        var out = ""
        switch self {
        case .vicuna:
            out = (system ?? Self.vicunaSystem) + " "
            for m in turns {
                out += m.role == .user ? "USER: \(m.content) " : "ASSISTANT: \(m.content)</s>"
            }
            out += "ASSISTANT:"
        case .minigpt4:
            out = system ?? Self.minigpt4System
            for m in turns {
                out += m.role == .user ? "###Human: \(m.content)" : "###Assistant: \(m.content)"
            }
            out += "###Assistant: "
        case .minigpt4llama2:
            // get_prompt with roles "<s>[INST] " / " [/INST] " and an empty separator: an answer runs straight
            // into the next "<s>[INST] ".
            out = system ?? Self.minigpt4System
            for m in turns {
                out += m.role == .user ? "<s>[INST] \(m.content)" : " [/INST] \(m.content)"
            }
            out += " [/INST] "
        case .llama2:
            var first = true
            for m in turns {
                if m.role == .user {
                    if !first { out += "<s>" }
                    let sys = first && system != nil ? "<<SYS>>\n\(system!)\n<</SYS>>\n\n" : ""
                    out += "[INST] \(sys)\(m.content) [/INST]"
                    first = false
                } else {
                    out += " \(m.content) </s>"
                }
            }
        case .minigptv2:
            for m in turns {
                out += m.role == .user ? "<s>[INST] \(m.content) [/INST]" : " \(m.content)</s>"
            }
        case .chatml, .qwen2vl:
            if let system = system ?? (self == .qwen2vl ? "You are a helpful assistant." : nil) {
                out += "<|im_start|>system\n\(system)<|im_end|>\n"
            }
            for m in turns { out += "<|im_start|>\(m.role.rawValue)\n\(m.content)<|im_end|>\n" }
            out += "<|im_start|>assistant\n"
        case .gemma:
            var pendingSystem = system.map { $0 + "\n\n" } ?? ""
            for m in turns {
                let role = m.role == .user ? "user" : "model"
                out += "<start_of_turn>\(role)\n\(pendingSystem)\(m.content.trimmingWhitespace)<end_of_turn>\n"
                pendingSystem = ""
            }
            out += "<start_of_turn>model\n"
        case .mgmGemma:
            // SeparatorStyle.GEMMA with sep "" and sep2 "<eos>": the "<eos>" after each answer is in the prompt.
            var pendingSystem = system.map { $0 + "\n\n" } ?? ""
            for m in turns {
                if m.role == .user {
                    out += "<start_of_turn>user\n\(pendingSystem)\(m.content)<end_of_turn>\n"
                    pendingSystem = ""
                } else {
                    out += "<start_of_turn>model\n\(m.content)<end_of_turn>\n<eos>"
                }
            }
            out += "<start_of_turn>model\n"
        case .mgmVicuna:
            out = (system ?? Self.mgmVicunaSystem) + " "
            for m in turns {
                out += m.role == .user ? "USER: \(m.content) " : "ASSISTANT: \(m.content)</s>"
            }
            out += "ASSISTANT:"
        case .mgmLlama3:
            // SeparatorStyle.LLAMA_3: system + sep, then role + message + sep; roles are the user header and,
            // for answers, the system header again.
            out = Self.llama3SystemHeader + (system ?? Self.mgmLlama3System) + "<|eot_id|>"
            for m in turns {
                let header = m.role == .user ? "<|start_header_id|>user<|end_header_id|>\n\n" : Self.llama3SystemHeader
                out += header + m.content + "<|eot_id|>"
            }
            out += Self.llama3SystemHeader
        case .smolvlm:
            out = "<|im_start|>"
            let all = (system.map { [ChatMessage(.system, $0)] } ?? []) + turns
            for m in all {
                let role = m.role.rawValue.prefix(1).uppercased() + m.role.rawValue.dropFirst()
                out += role + (m.content.hasPrefix(imageMarker) ? ":" : ": ") + m.content + "<end_of_utterance>\n"
            }
            out += "Assistant:"
        }
        return out
    }
}

extension String {
    var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first ... last])
    }
}
