import Foundation
import Models
import Synchronization
import Tensors
import Tokenizers
import Vision

/// Loads a model and runs generations. Compute runs on a dedicated thread (never on the cooperative pool,
/// which the UI shares); results come back as an `AsyncStream`. Cancelling the consumer stops the work
/// before the next token.
public actor Engine {
    /// Threads this engine computes with; `setThreads` changes it between answers.
    public private(set) var threads: Int
    private var pool: ThreadPool
    private let store: ModelStore
    /// Shared weights (from the store) and this engine's own run state for them.
    private var model: LanguageModel?
    private var decoder: TransformerDecoder?
    private var vision: SharedVision?
    private var session: Session?
    private var running: Generation?
    private var pendingThreads: Int?

    /// The conversation whose keys and values are in the cache, so the next turn only processes new tokens.
    private final class Session: @unchecked Sendable {
        let cache: KVCache
        /// What the cache holds: token ids, and stand-in ids for image positions.
        var tokens: [Int32] = []
        /// The prompt's next-token logits, kept only when asked for (nextTokenLogits).
        var lastLogits: [Float] = []
        init(cache: KVCache) { self.cache = cache }
    }

    private final class Generation: Sendable {
        let cancelled = Atomic<Bool>(false)
        let ended = Atomic<Bool>(false)
        let done = DispatchSemaphore(value: 0)
    }

    /// `store` holds the weights engines share; tests may pass their own.
    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount, store: ModelStore = .shared) {
        self.threads = max(1, threads)
        self.store = store
        pool = ThreadPool(threads: self.threads)
        BLAS.useSingleThread()
    }

    /// Changes how many threads this engine computes with. An answer being written keeps its threads and the
    /// change applies when it ends, so a pane opening or closing beside this one never cuts it short.
    /// The loaded model, conversation and cache stay.
    public func setThreads(_ count: Int) {
        let count = max(1, count)
        if isGenerating {
            pendingThreads = count == threads ? nil : count
            return
        }
        applyThreads(count)
    }

    /// Swaps the pool; the decoder is remade on it when next needed (`currentDecoder`).
    private func applyThreads(_ count: Int) {
        pendingThreads = nil
        guard count != threads else { return }
        pool.shutdown()
        threads = count
        pool = ThreadPool(threads: count)
    }

    /// The loaded model's decoder on the current pool.
    private func currentDecoder() -> TransformerDecoder? {
        if let decoder, decoder.pool === pool { return decoder }
        decoder = model?.makeDecoder(pool: pool)
        return decoder
    }

    /// The pool's workers end with the engine (panes closing and splitting make and drop engines). A generation
    /// thread still running holds the engine's model and pool, and the pool's `shutdown` lets it finish its loop.
    deinit { pool.shutdown() }

    public struct ModelSummary: Sendable {
        public let path: String
        public let architecture: String
        public let template: ChatTemplate
        public let contextLength: Int
        public let vocabularySize: Int
        public let visionProjector: String?
        /// Tokens every image takes; nil when that depends on the image's shape (tiling projectors).
        public let imageTokens: Int?
        /// What the files ask for that Glimpse does not do, for the user to read (VisionModel.notes).
        public let notes: [String]
    }

    /// Loads a language model, replacing the current one. `contextSize` caps the KV cache.
    @discardableResult
    public func load(path: String, mmproj: String? = nil, template: ChatTemplate? = nil,
                     contextSize: Int = 4096) async throws -> ModelSummary {
        await stopRunning()
        let store = self.store
        let loaded = try await Self.offload { try store.languageModel(path: path, template: template) }
        var projector: SharedVision? = nil
        if let mmproj {
            let v = try await Self.offload { try store.vision(path: mmproj) }
            let width = loaded.blueprint.embeddingLength
            guard v.model.outputWidth == width else {
                throw EngineError("\(mmproj): the projector makes \(v.model.outputWidth)-wide image tokens but \(path) takes \(width)-wide embeddings: they are not a pair")
            }
            projector = v
        }
        if let pendingThreads { applyThreads(pendingThreads) }
        let decoder = loaded.makeDecoder(pool: pool)
        model = loaded
        self.decoder = decoder
        vision = projector
        session = Session(cache: decoder.makeCache(capacity: contextSize))
        return ModelSummary(path: path, architecture: loaded.architecture, template: loaded.template,
                            contextLength: session!.cache.capacity, vocabularySize: loaded.vocabularySize,
                            visionProjector: projector?.model.projectorType,
                            imageTokens: projector.flatMap { $0.model.tilesImages ? nil : $0.model.tokensPerImage },
                            notes: projector?.model.notes ?? [])
    }

    public var loadedModel: LanguageModel? { model }

    /// What the user should know about how the loaded projector will see this image (VisionModel.notes(for:)):
    /// a tiny image an HD model must enlarge 40 times, a 1x4000 strip that padding leaves under a pixel wide.
    public func notes(for image: RGBImage) -> [String] { vision?.model.notes(for: image) ?? [] }

    /// Tokenizes a request as `generate` would, with -1 standing for each image position (for tests and tools).
    public func promptTokens(for request: GenerationRequest) throws -> [Int32] {
        guard let model else { throw ModelError("no model is loaded") }
        let layouts = request.images.map { vision?.model.layout(width: $0.width, height: $0.height) ?? ImageLayout() }
        let chunks = PromptChunk.expand(try Self.chunks(for: request, model: model, vision: vision?.model),
                                        layouts: layouts, tokenizer: model.tokenizer)
        return chunks.flatMap { chunk -> [Int32] in
            switch chunk {
            case .tokens(let ids): return ids
            case .image: return []
            case .imageRows(_, _, let n, _): return [Int32](repeating: -1, count: n)
            }
        }
    }

    /// The next-token logits after a request's prompt (images included), on a fresh cache: for checking a
    /// checkpoint against a reference.
    public func nextTokenLogits(for request: GenerationRequest) async throws -> [Float] {
        guard model != nil, let session else { throw ModelError("no model is loaded") }
        await resetConversation()
        var failure: String?
        var probe = request
        probe.maxTokens = 0
        probe.sampling = .greedy
        for await event in await generate(probe, keepLogits: true) {
            switch event {
            case .failed(let m): failure = m
            default: break
            }
        }
        if let failure { throw EngineError(failure) }
        return session.lastLogits
    }

    /// Starts a generation. Any running one is cancelled first.
    public func generate(_ request: GenerationRequest) async -> AsyncStream<GenerationEvent> {
        await generate(request, keepLogits: false)
    }

    private func generate(_ request: GenerationRequest, keepLogits: Bool) async -> AsyncStream<GenerationEvent> {
        await stopRunning()
        if let pendingThreads { applyThreads(pendingThreads) }
        let (stream, continuation) = AsyncStream.makeStream(of: GenerationEvent.self, bufferingPolicy: .unbounded)
        guard let model, let decoder = currentDecoder(), let session else {
            continuation.yield(.failed("no model is loaded"))
            continuation.finish()
            return stream
        }
        if !request.images.isEmpty && vision == nil {
            continuation.yield(.failed("images need a vision projector: load one with the model (--mmproj)"))
            continuation.finish()
            return stream
        }
        let vision = self.vision
        let pool = self.pool
        let generation = Generation()
        running = generation
        continuation.onTermination = { _ in generation.cancelled.store(true, ordering: .relaxed) }
        let thread = Thread {
            Self.run(request, model: model, decoder: decoder, vision: vision, pool: pool, session: session, generation: generation,
                     keepLogits: keepLogits, out: continuation)
            continuation.finish()
            generation.ended.store(true, ordering: .releasing)
            generation.done.signal()
        }
        thread.name = "glimpse-generate"
        thread.stackSize = 8 << 20
        thread.start()
        return stream
    }

    /// Whether a generation's thread is still working.
    public var isGenerating: Bool { running.map { !$0.ended.load(ordering: .acquiring) } ?? false }

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

    /// The prompt's chunks. Image markers only mean something with a vision projector: for a text-only model
    /// a literal "<image>" in a question is just text.
    static func chunks(for request: GenerationRequest, model: LanguageModel, vision: VisionModel?) throws -> [PromptChunk] {
        let template = model.template
        guard let vision else {
            switch request.prompt {
            case .chat(let messages):
                return [.tokens(model.tokenizer.encode(template.render(messages), addSpecial: true, parseSpecial: true))]
            case .raw(let text):
                return [.tokens(model.tokenizer.encode(text, addSpecial: true, parseSpecial: false))]
            }
        }
        let marker = template.imageMarker
        switch request.prompt {
        case .chat(var messages):
            let hasMarker = messages.contains { $0.content.contains(marker) }
            if !request.images.isEmpty && !hasMarker, let first = messages.firstIndex(where: { $0.role == .user }) {
                messages[first].content = String(repeating: template.imagePrefix, count: request.images.count)
                    + messages[first].content
            }
            let text = template.numberingImages(template.render(messages))
            return try PromptChunk.build(text: wrapped(text, marker, vision), marker: marker,
                                         imageCount: request.images.count, tokenizer: model.tokenizer, parseSpecial: true)
        case .raw(let text):
            let full = !request.images.isEmpty && !text.contains(marker)
                ? String(repeating: template.imagePrefix, count: request.images.count) + text : text
            return try PromptChunk.build(text: wrapped(full, marker, vision), marker: marker, imageCount: request.images.count,
                                         tokenizer: model.tokenizer, parseSpecial: vision.imageWrapper != nil)
        }
    }

    /// Each image marker inside the text the model family puts around image tokens (Gemma 3's
    /// `<start_of_image>` ... `<end_of_image>`, which must then be read as special tokens even in raw prompts).
    static func wrapped(_ text: String, _ marker: String, _ vision: VisionModel) -> String {
        guard let (before, after) = vision.imageWrapper else { return text }
        return text.replacingOccurrences(of: marker, with: before + marker + after)
    }

    private static func run(_ request: GenerationRequest, model: LanguageModel, decoder: TransformerDecoder,
                            vision: SharedVision?, pool: ThreadPool,
                            session: Session, generation: Generation, keepLogits: Bool,
                            out: AsyncStream<GenerationEvent>.Continuation) {
        var stats = GenerationStats()
        let start = DispatchTime.now().uptimeNanoseconds
        func seconds(since t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9 }

        let chunks: [PromptChunk]
        let layouts = request.images.map { vision?.model.layout(width: $0.width, height: $0.height) ?? ImageLayout() }
        do {
            chunks = PromptChunk.expand(try Self.chunks(for: request, model: model, vision: vision?.model),
                                        layouts: layouts, tokenizer: model.tokenizer)
        } catch {
            out.yield(.failed("\(error)"))
            return
        }
        // Image embeddings: from the projector's shared cache (another pane may have made them), or encoded now.
        var embeddings: [[Float]] = []
        var keys: [ImageKey] = []
        for image in request.images {
            let key = ImageKey(image)
            keys.append(key)
            guard let vision else { continue }
            if generation.cancelled.load(ordering: .relaxed) { out.yield(.finished(.cancelled, stats)); return }
            let t = DispatchTime.now().uptimeNanoseconds
            let (e, encodedHere) = vision.embedding(for: key) {
                out.yield(.phase(.encodingImage(percent: 0)))
                return vision.model.embed(image, pool: pool) { out.yield(.phase(.encodingImage(percent: Int($0 * 100)))) }
            }
            if encodedHere { stats.imageEncodeSeconds += seconds(since: t) }
            guard e.count == layouts[embeddings.count].embeddingCount * model.blueprint.embeddingLength else {
                out.yield(.failed("the projector made \(e.count) floats for an image laid out as \(layouts[embeddings.count].embeddingCount) tokens"))
                return
            }
            embeddings.append(e)
        }
        // The prompt's history ids (images as stand-ins) decide how much of the cache can be kept.
        var prompt: [Int32] = []
        for chunk in chunks {
            switch chunk {
            case .tokens(let ids): prompt += ids
            case .image: break
            case .imageRows(let i, let offset, let n, _): prompt += keys[i].placeholderIDs(offset + n).suffix(n)
            }
        }
        stats.promptTokens = prompt.count
        stats.imageTokens = chunks.reduce(0) { if case .imageRows = $1 { $0 + $1.length } else { $0 } }
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
        // Never resume inside a run of image rows: its embeddings go in whole.
        var position = 0
        for chunk in chunks {
            if case .imageRows = chunk, shared > position, shared < position + chunk.length { shared = position }
            position += chunk.length
        }
        cache.truncate(to: shared)
        session.tokens = Array(prompt[..<shared])
        stats.cachedPromptTokens = shared

        let n = model.vocabularySize
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { logits.deallocate() }
        let toRead = prompt.count - shared
        var read = 0, reported = 0
        out.yield(.phase(.readingPrompt(tokens: toRead, done: 0)))
        // Reports of how far the decoder is, about once a percent: `read` tokens before this chunk, plus its share.
        func reporting(_ length: Int) -> (Double) -> Void {
            { fraction in
                let done = read + Int(fraction * Double(length))
                if done - reported >= max(1, toRead / 100) {
                    reported = done
                    out.yield(.phase(.readingPrompt(tokens: toRead, done: done)))
                }
            }
        }
        do {
            var position = 0
            for chunk in chunks {
                switch chunk {
                case .tokens(let ids):
                    let skip = max(0, min(ids.count, shared - position))
                    if skip < ids.count {
                        try decoder.forward(.tokens(Array(ids[skip...])), cache: cache, logits: logits, progress: reporting(ids.count - skip))
                        read += ids.count - skip
                    }
                    position += ids.count
                case .image:
                    break
                case .imageRows(let i, let offset, let n, let grid):
                    if position >= shared {
                        let width = model.blueprint.embeddingLength
                        let rows = Array(embeddings[i][offset * width ..< (offset + n) * width])
                        try decoder.forward(.embeddings(rows, count: n), cache: cache, logits: logits,
                                            causal: !(vision?.model.imageTokensAttendBothWays ?? false),
                                            grid: grid, progress: reporting(n))
                        read += n
                    }
                    position += n
                }
            }
            // The last chunk's steps may each fall under a percent: say the end explicitly.
            if reported < toRead { out.yield(.phase(.readingPrompt(tokens: toRead, done: toRead))) }
            session.tokens = prompt
        } catch {
            session.tokens = []
            cache.truncate(to: 0)
            out.yield(.failed("\(error)"))
            return
        }
        stats.promptSeconds = seconds(since: start) - stats.imageEncodeSeconds
        if keepLogits { session.lastLogits = Array(UnsafeBufferPointer(start: logits, count: n)) }

        var sampler = Sampler(request.sampling)
        var detokenizer = StreamingDetokenizer(tokenizer: model.tokenizer)
        var filter = StopStringFilter(stops: model.template.stopStrings + request.extraStopStrings)
        var answerStart = AnswerStart(trimming: { if case .chat = request.prompt { true } else { false } }())
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
            let emit = answerStart.pass(piece.emit)
            if !emit.isEmpty { out.yield(.token(emit)) }
            if piece.stopped { reason = .stopString; break }
            guard cache.count < cache.capacity else { reason = .maxTokens; break }
            do {
                try decoder.forward(.tokens([next]), cache: cache, logits: logits)
                session.tokens.append(next)
            } catch {
                out.yield(.failed("\(error)"))
                return
            }
            stats.generationSeconds = seconds(since: genStart)
            out.yield(.stats(stats))
        }
        if reason != .stopString {
            let tail = answerStart.pass(filter.push(detokenizer.flush()).emit + filter.flush())
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
