import Engine
import Foundation
import Hummingbird
import Logging
import Models
import OpenAI

/// A model `glimpse serve` offers, on the same engine type and `ModelStore` as the app's panes.
public struct ServedModel: Sendable {
    public let name: String
    public let engine: any GenerationEngine
    /// Template, vision and image tokens, listed in /v1/models for remote panes (task modes, notes).
    public let info: GlimpseModelInfo
    /// Used where a request leaves a setting out (the model's own settings from config.toml, else Glimpse's).
    public var sampling: SamplingParameters
    public var maxTokens: Int

    public init(name: String, engine: any GenerationEngine, info: GlimpseModelInfo,
                sampling: SamplingParameters = SamplingParameters(), maxTokens: Int = 512) {
        self.name = name
        self.engine = engine
        self.info = info
        self.sampling = sampling
        self.maxTokens = maxTokens
    }

    var hasVision: Bool { info.vision }
}

public struct ServerSettings: Sendable {
    public var host: String
    /// 0 picks a free port (told to `onListening`).
    public var port: Int
    /// When set, /v1 requests must carry `Authorization: Bearer KEY` (/health stays open, for load balancers).
    public var apiKey: String?
    /// Requests that may wait for a busy model; past that they get 503 with Retry-After.
    public var queueDepth: Int
    public init(host: String = "127.0.0.1", port: Int = 8080, apiKey: String? = nil, queueDepth: Int = 8) {
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.queueDepth = queueDepth
    }
}

/// The OpenAI chat-completions API over local engines: /v1/chat/completions (streamed or whole, text and image
/// parts), /v1/models and /health. Built on Hummingbird (swift-nio underneath): a maintained HTTP/1.1 server from
/// the environment's packages, with streaming response bodies, so no HTTP parsing of our own.
public final class ChatServer: Sendable {
    let models: [ServedModel]
    let queues: [String: ModelQueue]
    let settings: ServerSettings
    let started = Int(Date().timeIntervalSince1970)

    public init(models: [ServedModel], settings: ServerSettings) {
        self.models = models
        self.settings = settings
        queues = Dictionary(uniqueKeysWithValues: models.map { ($0.name, ModelQueue(capacity: settings.queueDepth)) })
    }

    /// Serves until the task is cancelled (or SIGINT/SIGTERM with `signals`); `onListening` is told the port.
    public func run(handlingSignals signals: Bool = false, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "glimpse-serve")
        logger.logLevel = .critical
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "glimpse"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        if signals { try await app.runService() } else { try await app.run() }
    }

    // MARK: Routes

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/health") { _, _ in try await self.health() }
        router.get("/v1/models") { request, _ in
            if let refusal = self.unauthorized(request) { return refusal }
            return Self.json(ModelList(data: self.models.map { ModelInfo(id: $0.name, created: self.started, glimpse: $0.info) }))
        }
        router.post("/v1/chat/completions") { request, _ in
            if let refusal = self.unauthorized(request) { return refusal }
            var request = request
            do {
                let bytes = try await request.collectBody(upTo: 64 << 20)
                return try await self.complete(Data(buffer: bytes))
            } catch let refused as RefusedRequest {
                return Self.error(refused)
            } catch is ModelQueue.Full {
                var response = Self.error(RefusedRequest(status: 503, type: "server_busy",
                                                         message: "the model is busy and \(self.settings.queueDepth) requests are already waiting: try again shortly"))
                response.headers[.retryAfter] = "1"
                return response
            } catch let e as HTTPError where e.status == .contentTooLarge {
                return Self.error(RefusedRequest(status: 413, type: "invalid_request_error", message: "the request is over 64 MB"))
            }
        }
        return router
    }

    func health() async throws -> Response {
        struct Load: Encodable { let model: String; let running: Bool; let waiting: Int }
        struct Health: Encodable { let status: String; let models: [Load] }
        var loads: [Load] = []
        for m in models {
            let l = await queues[m.name]!.load
            loads.append(Load(model: m.name, running: l.running, waiting: l.waiting))
        }
        return Self.json(Health(status: "ok", models: loads))
    }

    func unauthorized(_ request: Request) -> Response? {
        guard let key = settings.apiKey else { return nil }
        if request.headers[.authorization] == "Bearer \(key)" { return nil }
        return Self.error(RefusedRequest(status: 401, type: "invalid_api_key", message: "a valid API key is needed (Authorization: Bearer KEY)"))
    }

    // MARK: Chat completions

    func complete(_ data: Data) async throws -> Response {
        let body: ChatCompletionRequest
        do { body = try JSONDecoder().decode(ChatCompletionRequest.self, from: data) } catch {
            throw RefusedRequest.invalid("the body is not a chat-completions request: \(Self.describe(error))")
        }
        guard let model = models.first(where: { $0.name == body.model }) ?? (models.count == 1 && body.model.isEmpty ? models[0] : nil) else {
            throw RefusedRequest(status: 404, type: "model_not_found",
                                 message: "the model '\(body.model)' is not served here (serving: \(models.map(\.name).joined(separator: ", ")))")
        }
        let request = try RequestTranslation.generationRequest(body, for: model)
        let ticket = try await queues[model.name]!.acquire()
        let reply = Reply(id: "chatcmpl-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(24),
                          created: Int(Date().timeIntervalSince1970), model: model.name)
        if body.stream == true {
            let usage = body.stream_options?.include_usage == true
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                            body: ResponseBody { writer in
                                try await self.stream(request, on: model, reply, usage: usage, ticket: ticket, into: &writer)
                            })
        }
        defer { Task { await ticket.release() } }
        return try await whole(request, on: model, reply)
    }

    struct Reply: Sendable {
        let id: String
        let created: Int
        let model: String

        func chunk(_ delta: ChunkDelta, finish: String? = nil) -> ChatCompletionChunk {
            ChatCompletionChunk(id: id, created: created, model: model, choices: [ChunkChoice(delta: delta, finish_reason: finish)])
        }
    }

    /// SSE: a role chunk at once, a chunk per piece of text, a comment while the engine encodes or reads (so a
    /// client that went away is noticed before the first token), the finish with llama-server-style timings,
    /// the usage chunk when asked for, `[DONE]`. A client that disconnects makes a write fail: the generation
    /// is stopped and the model handed to the next request.
    func stream(_ request: GenerationRequest, on model: ServedModel, _ reply: Reply, usage: Bool, ticket: Ticket,
                into writer: inout any ResponseBodyWriter) async throws {
        func send(_ text: String) async throws { try await writer.write(ByteBuffer(string: text)) }
        func send<T: Encodable>(event value: T) async throws { try await send(ServerSentEventParser.event(Self.encode(value))) }
        let events = await model.engine.generate(request)
        var lastComment = ContinuousClock.now - .seconds(1)
        do {
            try await send(event: reply.chunk(ChunkDelta(role: "assistant", content: "")))
            for await event in events {
                switch event {
                case .phase:
                    // Often enough to notice a client that left while a long prompt is read; not once a percent.
                    let now = ContinuousClock.now
                    if now - lastComment >= .milliseconds(250) {
                        lastComment = now
                        try await send(": working\n\n")
                    }
                case .token(let text): try await send(event: reply.chunk(ChunkDelta(content: text)))
                case .stats: break
                case .finished(let reason, let stats):
                    var last = reply.chunk(ChunkDelta(), finish: reason.wireName)
                    last.timings = Self.timings(stats)
                    try await send(event: last)
                    if usage {
                        var chunk = ChatCompletionChunk(id: reply.id, created: reply.created, model: reply.model, choices: [])
                        chunk.usage = Usage(prompt: stats.promptTokens, completion: stats.generatedTokens)
                        try await send(event: chunk)
                    }
                case .failed(let message):
                    try await send(event: ErrorBody(message: message, type: "server_error", code: 500))
                }
            }
            try await send("data: [DONE]\n\n")
        } catch {
            await model.engine.stopRunning()
            await ticket.release()
            throw error
        }
        await ticket.release()
        try await writer.finish(nil)
    }

    func whole(_ request: GenerationRequest, on model: ServedModel, _ reply: Reply) async throws -> Response {
        var text = ""
        var reason = FinishReason.maxTokens
        var stats = GenerationStats()
        for await event in await model.engine.generate(request) {
            switch event {
            case .token(let t): text += t
            case .finished(let r, let s): reason = r; stats = s
            case .failed(let message): throw RefusedRequest(status: 500, type: "server_error", message: message)
            case .phase, .stats: break
            }
        }
        var completion = ChatCompletion(id: reply.id, created: reply.created, model: reply.model,
                                        choices: [CompletionChoice(message: CompletionMessage(content: text), finish_reason: reason.wireName)])
        completion.usage = Usage(prompt: stats.promptTokens, completion: stats.generatedTokens)
        completion.timings = Self.timings(stats)
        return Self.json(completion)
    }

    static func timings(_ s: GenerationStats) -> Timings {
        var t = Timings()
        t.cache_n = s.cachedPromptTokens
        t.prompt_n = s.promptTokens - s.cachedPromptTokens
        t.prompt_ms = (s.promptSeconds * 1000 * 1000).rounded() / 1000
        t.predicted_n = s.generatedTokens
        t.predicted_ms = (s.generationSeconds * 1000 * 1000).rounded() / 1000
        t.predicted_per_second = (s.tokensPerSecond * 100).rounded() / 100
        t.image_encode_ms = (s.imageEncodeSeconds * 1000 * 1000).rounded() / 1000
        return t
    }

    // MARK: JSON

    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: encode(value))))
    }

    static func error(_ refused: RefusedRequest) -> Response {
        json(ErrorBody(message: refused.message, type: refused.type, code: refused.status), status: .init(code: refused.status))
    }

    /// A decoding error in one line (which key, what was wrong).
    static func describe(_ error: Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func path(_ c: DecodingError.Context) -> String {
            c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch e {
        case .keyNotFound(let key, let c): return "'\((path(c).isEmpty ? "" : path(c) + ".") + key.stringValue)' is missing"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "'\(path(c))' has the wrong type"
        case .dataCorrupted(let c): return path(c).isEmpty ? "not JSON" : "'\(path(c))' is not valid"
        @unknown default: return "\(error)"
        }
    }
}
