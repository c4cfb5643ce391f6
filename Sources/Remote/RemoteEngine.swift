import AsyncHTTPClient
import Engine
import Foundation
import Models
import NIOCore
import NIOHTTP1
import OpenAI
import Vision

/// A model on an OpenAI-compatible server (vLLM, llama-server, Ollama, LM Studio, SGLang, `glimpse serve`), behind
/// the same interface as a local `Engine`: the answer streams as `GenerationEvent`s from the server's SSE chunks.
public actor RemoteEngine: GenerationEngine {
    public nonisolated let endpoint: RemoteEndpoint
    /// The environment variable the key came from, to name in a 401's message.
    public let keyVariable: String?
    /// Tries for a 429 or 503 (a server loading its model, or a full queue) before giving up.
    public let attempts: Int
    private let client: HTTPClient
    private var running: Task<Void, Never>?
    /// The images of recent requests as sent: every turn of a conversation sends its image again, and encoding a
    /// photo costs milliseconds that a pane on localhost would otherwise add to each first token.
    private var uploads: [(image: RGBImage, upload: Upload)] = []

    /// What the user should know before asking (said when the model is ready), e.g. a key variable that is not set.
    public nonisolated let notes: [String]

    public init(_ endpoint: RemoteEndpoint, keyVariable: String? = nil, attempts: Int = 4, notes: [String] = []) {
        self.endpoint = endpoint
        self.notes = notes
        self.keyVariable = keyVariable
        self.attempts = max(1, attempts)
        client = HTTPClients.client(timeout: endpoint.timeout)
    }

    public func setThreads(_ count: Int) {}
    public func notes(for image: RGBImage) -> [String] { [] }

    public func generate(_ request: GenerationRequest) async -> AsyncStream<GenerationEvent> {
        await stopRunning()
        let (stream, continuation) = AsyncStream.makeStream(of: GenerationEvent.self, bufferingPolicy: .unbounded)
        let images: [Upload]
        do { images = try request.images.map(upload) } catch {
            continuation.yield(.failed("\(error)"))
            continuation.finish()
            return stream
        }
        let run = Run(endpoint: endpoint, keyVariable: keyVariable, attempts: attempts, client: client, images: images, out: continuation)
        let task = Task {
            await run.answer(request)
            continuation.finish()
        }
        running = task
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func upload(_ image: RGBImage) throws -> Upload {
        if let hit = uploads.first(where: { $0.image == image }) { return hit.upload }
        let file = try ImageEncoder.forUpload(image)
        let kind = file.mediaType == "image/png" ? "PNG" : "JPEG"
        let made = Upload(dataURI: "data:\(file.mediaType);base64," + Data(file.bytes).base64EncodedString(),
                          said: "\(kind), \(file.width)x\(file.height), \(max(1, file.bytes.count / 1024)) KB")
        uploads.insert((image, made), at: 0)
        if uploads.count > 4 { uploads.removeLast() }
        return made
    }

    /// Cancels the request (the connection is closed, which a server takes as the client leaving) and waits
    /// for its task to end.
    public func stopRunning() async {
        guard let task = running else { return }
        task.cancel()
        await task.value
        running = nil
    }

    /// The models the server lists (`GET /models`), with Glimpse's own details where the server is `glimpse serve`.
    public func listModels() async throws -> [ModelInfo] {
        let response: HTTPClientResponse
        do { response = try await client.execute(endpoint.request("/models"), timeout: .seconds(Int64(endpoint.timeout))) } catch {
            throw RemoteError(RemoteFailure.message(for: error, endpoint, midAnswer: false))
        }
        let body = try await Array(buffer: response.body.collect(upTo: 8 << 20))
        guard response.status.code == 200 else {
            throw RemoteError(RemoteFailure.message(status: Int(response.status.code), detail: RemoteFailure.detail(of: body),
                                                    endpoint, keyVariable: keyVariable))
        }
        guard let list = try? JSONDecoder().decode(ModelList.self, from: Data(body)) else {
            throw RemoteError("\(endpoint.host) answered \(endpoint.baseURL)/models with something that is not an OpenAI model list")
        }
        return list.data
    }

    /// Checks that the server answers and serves this model; returns the model's entry.
    public func check() async throws -> ModelInfo {
        let models = try await listModels()
        guard let info = models.first(where: { $0.id == endpoint.model }) else {
            let names = models.map(\.id)
            throw RemoteError("\(endpoint.host) does not serve '\(endpoint.model)'" +
                              (names.isEmpty ? " (it lists no models)" : "; it serves \(names.joined(separator: ", "))"))
        }
        return info
    }
}

public struct RemoteError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

// MARK: One answer

/// An image as a request carries it, and how it is described to the user.
struct Upload: Sendable {
    let dataURI: String
    let said: String
}

/// One request's work: the attempts, the stream and the figures.
private struct Run: Sendable {
    let endpoint: RemoteEndpoint
    let keyVariable: String?
    let attempts: Int
    let client: HTTPClient
    let images: [Upload]
    let out: AsyncStream<GenerationEvent>.Continuation

    func say(_ event: GenerationEvent) { out.yield(event) }

    func answer(_ request: GenerationRequest) async {
        let body: [UInt8]
        do { body = try encoded(request) } catch {
            return say(.failed("\(error)"))
        }
        var stats = GenerationStats()
        let start = DispatchTime.now().uptimeNanoseconds
        var attempt = 1
        while true {
            var http = endpoint.request("/chat/completions", method: .POST)
            http.headers.add(name: "Content-Type", value: "application/json")
            http.body = .bytes(body)
            let response: HTTPClientResponse
            do {
                // The client's read timeout bounds each wait; the deadline only guards against a server that
                // trickles bytes forever.
                response = try await client.execute(http, timeout: .hours(6))
            } catch {
                if Task.isCancelled { return say(.finished(.cancelled, stats)) }
                return say(.failed(RemoteFailure.message(for: error, endpoint, midAnswer: false)))
            }
            let status = Int(response.status.code)
            if status == 200 {
                return await stream(response, start: start, stats: &stats)
            }
            let detail = RemoteFailure.detail(of: (try? await Array(buffer: response.body.collect(upTo: 1 << 16))) ?? [])
            if (status == 429 || status == 503) && attempt < attempts {
                let wait = retryDelay(response.headers.first(name: "Retry-After"), attempt: attempt)
                let why = status == 429 ? "is rate-limiting (429)" : "is busy or loading its model (503)"
                out.yield(.phase(.server("\(endpoint.host) \(why): trying again in \(RemoteFailure.seconds(wait)) (\(attempt + 1) of \(attempts))")))
                do { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) } catch {
                    return say(.finished(.cancelled, stats))
                }
                attempt += 1
                continue
            }
            return say(.failed(RemoteFailure.message(status: status, detail: detail, endpoint, keyVariable: keyVariable)))
        }
    }

    /// Retry-After in seconds (capped at 10), else 1, 2, 4 s.
    func retryDelay(_ header: String?, attempt: Int) -> Double {
        if let header, let s = Double(header.trimmingCharacters(in: .whitespaces)), s >= 0 { return min(10, s) }
        return min(10, Double(1 << (attempt - 1)))
    }

    /// Reads an SSE stream (or a whole JSON answer, from a server that ignored `stream`).
    func stream(_ response: HTTPClientResponse, start: UInt64, stats: inout GenerationStats) async {
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        let isJSON = response.headers.first(name: "Content-Type")?.lowercased().contains("application/json") ?? false
        var parser = ServerSentEventParser()
        var reason: FinishReason?
        var done = false
        var text = ""
        var firstTokenAt = 0.0
        var pieces = 0
        var whole: [UInt8] = []
        let decoder = JSONDecoder()

        func take(_ chunk: ChatCompletionChunk) {
            if let choice = chunk.choices?.first {
                if let piece = choice.delta.content, !piece.isEmpty {
                    if text.isEmpty {
                        firstTokenAt = elapsed()
                        stats.timeToFirstToken = firstTokenAt
                        stats.promptSeconds = firstTokenAt
                    }
                    text += piece
                    pieces += 1
                    stats.generatedTokens = pieces
                    stats.generationSeconds = elapsed() - firstTokenAt
                    out.yield(.token(piece))
                    out.yield(.stats(stats))
                }
                if let r = choice.finish_reason { reason = FinishReason(wireName: r) }
            }
            if let usage = chunk.usage {
                stats.promptTokens = usage.prompt_tokens
                stats.generatedTokens = usage.completion_tokens
            }
            if let t = chunk.timings { apply(t, to: &stats) }
        }

        do {
            for try await buffer in response.body {
                if isJSON { whole += Array(buffer: buffer); continue }
                for event in parser.push(buffer.readableBytesView) {
                    if event.trimmingCharacters(in: .whitespaces) == "[DONE]" { done = true; continue }
                    if let chunk = try? decoder.decode(ChatCompletionChunk.self, from: Data(event.utf8)) { take(chunk); continue }
                    // An error in the stream (llama-server and vLLM send {"error": ...} events when a request fails midway).
                    let detail = RemoteFailure.detail(of: Array(event.utf8))
                    return say(.failed("\(endpoint.host) stopped with an error: \(detail)" +
                                             (text.isEmpty ? "" : ": the answer above is incomplete")))
                }
            }
        } catch {
            if Task.isCancelled { return say(.finished(.cancelled, stats)) }
            return say(.failed(RemoteFailure.message(for: error, endpoint, midAnswer: !text.isEmpty)))
        }
        if Task.isCancelled { return say(.finished(.cancelled, stats)) }
        if isJSON {
            guard let completion = try? decoder.decode(ChatCompletion.self, from: Data(whole)) else {
                return say(.failed("\(endpoint.host) answered with something that is not an OpenAI chat completion"))
            }
            let content = completion.choices.first?.message.content ?? ""
            stats.timeToFirstToken = elapsed()
            if !content.isEmpty { out.yield(.token(content)) }
            if let usage = completion.usage {
                stats.promptTokens = usage.prompt_tokens
                stats.generatedTokens = usage.completion_tokens
            }
            if let t = completion.timings { apply(t, to: &stats) }
            return say(.finished(FinishReason(wireName: completion.choices.first?.finish_reason), stats))
        }
        if let last = parser.finish(), last.trimmingCharacters(in: .whitespaces) == "[DONE]" { done = true }
        guard done || reason != nil else {
            return say(.failed(text.isEmpty ? "\(endpoint.host) closed the stream without answering"
                                     : "the connection to \(endpoint.host) closed mid-answer: the answer above is incomplete"))
        }
        stats.generationSeconds = text.isEmpty ? 0 : elapsed() - firstTokenAt
        out.yield(.finished(reason ?? .endOfGeneration, stats))
    }

    /// llama-server's (and `glimpse serve`'s) figures, where the server sends them.
    func apply(_ t: Timings, to stats: inout GenerationStats) {
        if let n = t.prompt_n { stats.promptTokens = n + (t.cache_n ?? 0) }
        if let c = t.cache_n { stats.cachedPromptTokens = c }
        if let ms = t.prompt_ms { stats.promptSeconds = ms / 1000 }
        if let ms = t.image_encode_ms { stats.imageEncodeSeconds = ms / 1000 }
        if let n = t.predicted_n { stats.generatedTokens = n }
    }

    // MARK: The request body

    func encoded(_ request: GenerationRequest) throws -> [UInt8] {
        var messages: [WireMessage]
        switch request.prompt {
        case .chat(let chat): messages = chat.map { WireMessage(role: $0.role.rawValue, content: .text($0.content)) }
        case .raw(let text): messages = [WireMessage(role: "user", content: .text(text))]
        }
        if !images.isEmpty {
            let parts = images.map { ContentPart.imageURL($0.dataURI) }
            let said = images.map(\.said)
            out.yield(.phase(.server("sending \(request.images.count == 1 ? "the image" : "\(request.images.count) images") (\(said.joined(separator: "; "))) to \(endpoint.host)")))
            // Images go before the first question's text, where a local engine puts their tokens.
            let first = messages.firstIndex { $0.role == "user" } ?? 0
            if messages.isEmpty { messages = [WireMessage(role: "user", content: .text(""))] }
            messages[first].content = .parts(parts + [.text(messages[first].content.text)])
        }
        var body = ChatCompletionRequest(model: endpoint.model, messages: messages, stream: true)
        body.stream_options = StreamOptions(include_usage: true)
        body.max_tokens = request.maxTokens
        body.temperature = Double(request.sampling.temperature)
        body.top_p = Double(request.sampling.topP)
        if request.sampling.topK > 0 { body.top_k = request.sampling.topK }
        body.seed = request.sampling.seed
        if !request.extraStopStrings.isEmpty { body.stop = StopSequences(request.extraStopStrings) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Array(try encoder.encode(body))
    }
}
