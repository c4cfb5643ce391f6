import Foundation
import Models
import Synchronization
import Tensors
import Tokenizers

/// Loads a model and runs generations. Compute runs on a dedicated thread (never on the cooperative pool,
/// which the UI shares); results come back as an `AsyncStream`. Cancelling the consumer stops the work
/// before the next token.
public actor Engine {
    public let threads: Int
    private let pool: ThreadPool
    private var model: LanguageModel?
    private var session: Session?
    private var running: Generation?

    /// The conversation whose keys and values are in the cache, so the next turn only processes new tokens.
    private final class Session: @unchecked Sendable {
        let cache: KVCache
        var tokens: [Int32] = []
        init(cache: KVCache) { self.cache = cache }
    }

    private final class Generation: Sendable {
        let cancelled = Atomic<Bool>(false)
        let done = DispatchSemaphore(value: 0)
    }

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.threads = max(1, threads)
        pool = ThreadPool(threads: self.threads)
        BLAS.useSingleThread()
    }

    public struct ModelSummary: Sendable {
        public let path: String
        public let architecture: String
        public let template: ChatTemplate
        public let contextLength: Int
        public let vocabularySize: Int
    }

    /// Loads a language model, replacing the current one. `contextSize` caps the KV cache.
    @discardableResult
    public func load(path: String, template: ChatTemplate? = nil, contextSize: Int = 4096) async throws -> ModelSummary {
        await stopRunning()
        let pool = self.pool
        let loaded = try await Self.offload { try LanguageModel(path: path, pool: pool, template: template) }
        model = loaded
        session = Session(cache: loaded.decoder.makeCache(capacity: contextSize))
        return ModelSummary(path: path, architecture: loaded.architecture, template: loaded.template,
                            contextLength: session!.cache.capacity, vocabularySize: loaded.vocabularySize)
    }

    public var loadedModel: LanguageModel? { model }

    /// Tokenizes a request as `generate` would (for tests and tools).
    public func promptTokens(for request: GenerationRequest) throws -> [Int32] {
        guard let model else { throw ModelError("no model is loaded") }
        return Self.tokens(for: request, model: model)
    }

    /// Starts a generation. Any running one is cancelled first.
    public func generate(_ request: GenerationRequest) async -> AsyncStream<GenerationEvent> {
        await stopRunning()
        let (stream, continuation) = AsyncStream.makeStream(of: GenerationEvent.self, bufferingPolicy: .unbounded)
        guard let model, let session else {
            continuation.yield(.failed("no model is loaded"))
            continuation.finish()
            return stream
        }
        let generation = Generation()
        running = generation
        continuation.onTermination = { _ in generation.cancelled.store(true, ordering: .relaxed) }
        let thread = Thread {
            Self.run(request, model: model, session: session, generation: generation, out: continuation)
            continuation.finish()
            generation.done.signal()
        }
        thread.name = "glimpse-generate"
        thread.stackSize = 8 << 20
        thread.start()
        return stream
    }

    /// Cancels the running generation and waits until its thread has let go of the cache.
    public func stopRunning() async {
        guard let g = running else { return }
        g.cancelled.store(true, ordering: .relaxed)
        await Self.offload { g.done.wait(); g.done.signal() }
        running = nil
    }

    /// Forgets the cached conversation.
    public func resetConversation() async {
        await stopRunning()
        session?.tokens = []
        session?.cache.truncate(to: 0)
    }

    // MARK: Work on the generation thread

    static func tokens(for request: GenerationRequest, model: LanguageModel) -> [Int32] {
        switch request.prompt {
        case .chat(let messages):
            return model.tokenizer.encode(model.template.render(messages), addSpecial: true, parseSpecial: true)
        case .raw(let text):
            return model.tokenizer.encode(text, addSpecial: true, parseSpecial: false)
        }
    }

    private static func run(_ request: GenerationRequest, model: LanguageModel, session: Session,
                            generation: Generation, out: AsyncStream<GenerationEvent>.Continuation) {
        var stats = GenerationStats()
        let start = DispatchTime.now().uptimeNanoseconds
        func seconds(since t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9 }

        let prompt = tokens(for: request, model: model)
        stats.promptTokens = prompt.count
        guard !prompt.isEmpty else { out.yield(.failed("the prompt is empty")); return }
        let cache = session.cache
        guard prompt.count < cache.capacity else {
            out.yield(.failed("the prompt has \(prompt.count) tokens but the context holds \(cache.capacity)"))
            return
        }
        // Reuse the cached prefix shared with the previous turn (at least one token is always re-run for logits).
        var shared = 0
        while shared < min(prompt.count - 1, session.tokens.count, cache.count), prompt[shared] == session.tokens[shared] {
            shared += 1
        }
        cache.truncate(to: shared)
        session.tokens = Array(prompt[..<shared])
        stats.cachedPromptTokens = shared

        let n = model.vocabularySize
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { logits.deallocate() }
        do {
            try model.decoder.forward(.tokens(Array(prompt[shared...])), cache: cache, logits: logits)
            session.tokens = prompt
        } catch {
            session.tokens = []
            cache.truncate(to: 0)
            out.yield(.failed("\(error)"))
            return
        }
        stats.promptSeconds = seconds(since: start)

        var sampler = Sampler(request.sampling)
        var detokenizer = StreamingDetokenizer(tokenizer: model.tokenizer)
        var filter = StopStringFilter(stops: model.template.stopStrings + request.extraStopStrings)
        let eog = model.tokenizer.vocabulary.endOfGeneration
        var history = prompt
        var reason = FinishReason.maxTokens
        let genStart = DispatchTime.now().uptimeNanoseconds

        while stats.generatedTokens < request.maxTokens {
            if generation.cancelled.load(ordering: .relaxed) { reason = .cancelled; break }
            let next = sampler.sample(logits, count: n, history: history)
            stats.generatedTokens += 1
            if stats.generatedTokens == 1 { stats.timeToFirstToken = seconds(since: start) }
            if eog.contains(next) { reason = .endOfGeneration; break }
            history.append(next)
            let piece = filter.push(detokenizer.append(next))
            if !piece.emit.isEmpty { out.yield(.token(piece.emit)) }
            if piece.stopped { reason = .stopString; break }
            guard cache.count < cache.capacity else { reason = .maxTokens; break }
            do {
                try model.decoder.forward(.tokens([next]), cache: cache, logits: logits)
                session.tokens.append(next)
            } catch {
                out.yield(.failed("\(error)"))
                return
            }
            stats.generationSeconds = seconds(since: genStart)
            out.yield(.stats(stats))
        }
        if reason != .stopString {
            let tail = filter.push(detokenizer.flush()).emit + filter.flush()
            if !tail.isEmpty { out.yield(.token(tail)) }
        }
        stats.generationSeconds = seconds(since: genStart)
        out.yield(.finished(reason, stats))
    }

    /// Runs blocking work off the actor's executor and the cooperative pool.
    private static func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            Thread { c.resume(with: Result { try work() }) }.start()
        }
    }

    private static func offload(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { c in
            Thread { work(); c.resume() }.start()
        }
    }
}
