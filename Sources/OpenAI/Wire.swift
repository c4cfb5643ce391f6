import Engine
import Foundation

// The OpenAI chat-completions API as vLLM, llama-server, Ollama, LM Studio and SGLang speak it (ecosystem.md §3):
// the request with text and image content parts, the streamed chunk, the whole response, the model list and the
// error body. Property names are the wire's own keys (snake case), so these types read like the JSON they are.

// MARK: Request

public struct ChatCompletionRequest: Codable, Sendable {
    public var model: String
    public var messages: [WireMessage]
    public var stream: Bool?
    public var stream_options: StreamOptions?
    public var max_tokens: Int?
    /// The newer name of `max_tokens` (OpenAI's own API); either is read.
    public var max_completion_tokens: Int?
    public var temperature: Double?
    public var top_p: Double?
    /// Not OpenAI's, but vLLM, llama-server and Ollama take it.
    public var top_k: Int?
    public var seed: UInt64?
    public var stop: StopSequences?

    public init(model: String, messages: [WireMessage], stream: Bool? = nil) {
        self.model = model
        self.messages = messages
        self.stream = stream
    }
}

public struct StreamOptions: Codable, Sendable {
    public var include_usage: Bool?
    public init(include_usage: Bool?) { self.include_usage = include_usage }
}

/// `stop` is a string or a list of strings.
public struct StopSequences: Codable, Sendable, Equatable {
    public var values: [String]
    public init(_ values: [String]) { self.values = values }
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let one = try? c.decode(String.self) { values = [one] } else { values = try c.decode([String].self) }
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(values)
    }
}

public struct WireMessage: Codable, Sendable, Equatable {
    public var role: String
    public var content: MessageContent
    public init(role: String, content: MessageContent) {
        self.role = role
        self.content = content
    }
}

/// A message's content: plain text, or a list of parts (text and images).
public enum MessageContent: Codable, Sendable, Equatable {
    case text(String)
    case parts([ContentPart])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .text(""); return }
        if let text = try? c.decode(String.self) { self = .text(text); return }
        self = .parts(try c.decode([ContentPart].self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .text(let text): try c.encode(text)
        case .parts(let parts): try c.encode(parts)
        }
    }

    /// The text parts joined (images left out).
    public var text: String {
        switch self {
        case .text(let t): return t
        case .parts(let parts): return parts.compactMap { if case .text(let t) = $0 { t } else { nil } }.joined(separator: "\n")
        }
    }
}

public enum ContentPart: Codable, Sendable, Equatable {
    case text(String)
    /// A URL: `data:image/png;base64,...` here; servers may also take http(s) URLs.
    case imageURL(String)
    /// A part of a type this side does not know (audio, files): kept so the error can name it.
    case other(String)

    private enum Keys: String, CodingKey { case type, text, image_url }
    private struct ImageURL: Codable { let url: String }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "text": self = .text(try c.decode(String.self, forKey: .text))
        case "image_url":
            // Ollama takes a bare string as well as the {"url"} object.
            if let url = try? c.decode(ImageURL.self, forKey: .image_url) { self = .imageURL(url.url) } else {
                self = .imageURL(try c.decode(String.self, forKey: .image_url))
            }
        default: self = .other(type)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .text(let t):
            try c.encode("text", forKey: .type)
            try c.encode(t, forKey: .text)
        case .imageURL(let url):
            try c.encode("image_url", forKey: .type)
            try c.encode(ImageURL(url: url), forKey: .image_url)
        case .other(let type):
            try c.encode(type, forKey: .type)
        }
    }
}

// MARK: Responses

public struct Usage: Codable, Sendable, Equatable {
    public var prompt_tokens: Int
    public var completion_tokens: Int
    public var total_tokens: Int
    public init(prompt: Int, completion: Int) {
        prompt_tokens = prompt
        completion_tokens = completion
        total_tokens = prompt + completion
    }
}

/// llama-server's figures (tools/server/README.md); `glimpse serve` sends them too, with image encoding time.
public struct Timings: Codable, Sendable, Equatable {
    public var cache_n: Int?
    public var prompt_n: Int?
    public var prompt_ms: Double?
    public var predicted_n: Int?
    public var predicted_ms: Double?
    public var predicted_per_second: Double?
    /// Glimpse's own: time spent in the vision encoder (0 when the embedding was cached).
    public var image_encode_ms: Double?
    public init() {}
}

public struct ChunkDelta: Codable, Sendable {
    public var role: String?
    public var content: String?
    public init(role: String? = nil, content: String? = nil) {
        self.role = role
        self.content = content
    }
}

public struct ChunkChoice: Codable, Sendable {
    public var index: Int
    public var delta: ChunkDelta
    public var finish_reason: String?
    public init(index: Int = 0, delta: ChunkDelta, finish_reason: String? = nil) {
        self.index = index
        self.delta = delta
        self.finish_reason = finish_reason
    }
}

/// One `data:` event of a streamed answer.
public struct ChatCompletionChunk: Codable, Sendable {
    public var id: String
    public var object: String
    public var created: Int
    public var model: String
    /// vLLM sends `null` in its usage chunk; every server sends `[]` there or no key at all.
    public var choices: [ChunkChoice]?
    public var usage: Usage?
    public var timings: Timings?
    public init(id: String, created: Int, model: String, choices: [ChunkChoice]) {
        self.id = id
        object = "chat.completion.chunk"
        self.created = created
        self.model = model
        self.choices = choices
    }
}

public struct CompletionMessage: Codable, Sendable {
    public var role: String
    public var content: String?
    public init(role: String = "assistant", content: String?) {
        self.role = role
        self.content = content
    }
}

public struct CompletionChoice: Codable, Sendable {
    public var index: Int
    public var message: CompletionMessage
    public var finish_reason: String?
    public init(index: Int = 0, message: CompletionMessage, finish_reason: String?) {
        self.index = index
        self.message = message
        self.finish_reason = finish_reason
    }
}

/// A whole answer (`stream` false).
public struct ChatCompletion: Codable, Sendable {
    public var id: String
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [CompletionChoice]
    public var usage: Usage?
    public var timings: Timings?
    public init(id: String, created: Int, model: String, choices: [CompletionChoice]) {
        self.id = id
        object = "chat.completion"
        self.created = created
        self.model = model
        self.choices = choices
    }
}

// MARK: Models and errors

public struct ModelList: Codable, Sendable {
    public var object: String
    public var data: [ModelInfo]
    public init(data: [ModelInfo]) {
        object = "list"
        self.data = data
    }
}

public struct ModelInfo: Codable, Sendable {
    public var id: String
    public var object: String?
    public var created: Int?
    public var owned_by: String?
    /// What `glimpse serve` adds so a remote pane offers the same task modes as a local one.
    public var glimpse: GlimpseModelInfo?
    public init(id: String, created: Int, glimpse: GlimpseModelInfo?) {
        self.id = id
        object = "model"
        self.created = created
        owned_by = "glimpse"
        self.glimpse = glimpse
    }
}

public struct GlimpseModelInfo: Codable, Sendable, Equatable {
    /// The chat template's name (ChatTemplate's raw value).
    public var template: String
    public var vision: Bool
    public var image_tokens: Int?
    public init(template: String, vision: Bool, image_tokens: Int?) {
        self.template = template
        self.vision = vision
        self.image_tokens = image_tokens
    }
}

/// `{"error": {"message", "type", "code"}}`, as OpenAI and the servers answer a refused request.
public struct ErrorBody: Codable, Sendable {
    public struct Detail: Codable, Sendable {
        public var message: String
        public var type: String?
        public var code: Int?
    }
    public var error: Detail
    public init(message: String, type: String, code: Int) {
        error = Detail(message: message, type: type, code: code)
    }
}

// MARK: Finish reasons

extension FinishReason {
    /// OpenAI's name: both an end-of-generation token and a stop string are "stop".
    public var wireName: String {
        switch self {
        case .endOfGeneration, .stopString, .cancelled: "stop"
        case .maxTokens: "length"
        }
    }

    public init(wireName: String?) {
        switch wireName {
        case "length": self = .maxTokens
        default: self = .endOfGeneration
        }
    }
}
