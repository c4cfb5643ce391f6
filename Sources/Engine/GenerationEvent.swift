import Models
import Vision

/// What a generation streams to its consumer.
public enum GenerationEvent: Sendable {
    /// What the engine is busy with before the first token: a large checkpoint spends seconds on each.
    case phase(GenerationPhase)
    /// Newly completed text (never half a UTF-8 character, never part of a stop string).
    case token(String)
    /// Running figures, sent after the prompt is processed and then with every token.
    case stats(GenerationStats)
    case finished(FinishReason, GenerationStats)
    case failed(String)
}

public enum GenerationPhase: Sendable, Equatable {
    /// Running an image through the vision encoder, `percent` of its blocks done (sent at the start and after each
    /// block; not at all when the embedding is cached).
    case encodingImage(percent: Int)
    /// Running `tokens` prompt tokens through the decoder (those the cache does not already hold), `done` of them
    /// so far (sent again as layers finish, at most about once a percent).
    case readingPrompt(tokens: Int, done: Int)
    /// A remote model: what the connection is doing ("sending 1 image (PNG, 640x480, 81 KB)", "the server is
    /// loading (503): trying again in 2 s").
    case server(String)
}

public enum FinishReason: String, Sendable, Codable {
    case endOfGeneration = "eog", stopString = "stop", maxTokens = "length", cancelled
}

public struct GenerationStats: Sendable, Codable, Equatable {
    public var promptTokens = 0
    /// Prompt tokens served from the cache of the previous turn.
    public var cachedPromptTokens = 0
    public var generatedTokens = 0
    public var timeToFirstToken: Double = 0
    public var promptSeconds: Double = 0
    public var generationSeconds: Double = 0
    /// Time spent encoding images this turn (zero when they came from the cache).
    public var imageEncodeSeconds: Double = 0
    public var imageTokens = 0

    public init() {}

    public var tokensPerSecond: Double {
        generatedTokens > 1 && generationSeconds > 0 ? Double(generatedTokens - 1) / generationSeconds : 0
    }

    public var promptTokensPerSecond: Double {
        promptSeconds > 0 ? Double(promptTokens - cachedPromptTokens) / promptSeconds : 0
    }
}

/// One request: a conversation rendered through the model's template, or a raw prompt.
public struct GenerationRequest: Sendable {
    public enum Prompt: Sendable {
        case chat([ChatMessage])
        case raw(String)
    }

    public var prompt: Prompt
    /// Images of the conversation, in the order their markers appear (markers are added in front of the
    /// first user message when the text has none).
    public var images: [RGBImage]
    public var sampling: SamplingParameters
    public var maxTokens: Int
    public var extraStopStrings: [String] = []

    public init(prompt: Prompt, images: [RGBImage] = [], sampling: SamplingParameters = SamplingParameters(),
                maxTokens: Int = 512) {
        self.prompt = prompt
        self.images = images
        self.sampling = sampling
        self.maxTokens = maxTokens
    }
}
