import AsyncHTTPClient
import Engine
import Foundation
import Hummingbird
import Logging
import Models
import NIOCore
import OpenAI
import Server
import Vision
import XCTest

/// Servers the tests start on free localhost ports, and an engine whose answers are slow on purpose.
enum TestServers {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `server` until the returned task is cancelled; returns once it listens.
    static func start(_ server: ChatServer) async throws -> (port: Int, task: Task<Void, Error>) {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task { try await server.run { port in continuation.yield(port) } }
        for await port in ports { return (port, task) }
        throw XCTSkip("the server did not start")
    }

    /// Runs a Hummingbird router (the fault-injecting server) the same way.
    static func start(_ router: Router<BasicRequestContext>) async throws -> (port: Int, task: Task<Void, Error>) {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "test-server")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let task = Task { try await app.run() }
        for await port in ports { return (port, task) }
        throw XCTSkip("the server did not start")
    }

    /// The shipped built-in model in an engine of its own.
    static func shapes() async throws -> (Engine, ServedModel) {
        let engine = Engine(threads: 2)
        let models = root.appendingPathComponent("models").path
        let summary = try await engine.load(path: models + "/shapes.gguf", mmproj: models + "/shapes-mmproj.gguf", contextSize: 2048)
        let info = GlimpseModelInfo(template: summary.template.rawValue, vision: true, image_tokens: summary.imageTokens)
        return (engine, ServedModel(name: "shapes", engine: engine, info: info, sampling: .greedy, maxTokens: 64))
    }

    static func image(_ name: String) throws -> RGBImage {
        try ImageDecoder.load(path: root.appendingPathComponent("examples/\(name)").path)
    }

    /// A client with room for many connections at once (AsyncHTTPClient's default is 8 per host).
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// A chat-completions POST.
    static func post(_ port: Int, _ json: String) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
        r.method = .POST
        r.headers.add(name: "Content-Type", value: "application/json")
        r.body = .bytes(ByteBuffer(string: json))
        return r
    }

    /// Polls `condition` until it holds or `seconds` pass (for what a server does after a client left).
    static func eventually(within seconds: Double = 5, _ condition: () async -> Bool) async -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return await condition()
    }
}

/// Streams `tokens` pieces ("t0 ", "t1 ", ...) one per `interval`, and counts what the server did with it: how
/// many answers ran at once (never more than one), how many were cut short.
actor SlowEngine: GenerationEngine {
    let tokens: Int
    let interval: Duration
    private(set) var active = 0
    private(set) var mostAtOnce = 0
    private(set) var started = 0
    private(set) var cancelled = 0
    private var task: Task<Void, Never>?

    init(tokens: Int, interval: Duration) {
        self.tokens = tokens
        self.interval = interval
    }

    func generate(_ request: GenerationRequest) async -> AsyncStream<GenerationEvent> {
        await stopRunning()
        let (stream, out) = AsyncStream.makeStream(of: GenerationEvent.self)
        started += 1
        active += 1
        mostAtOnce = max(mostAtOnce, active)
        let (tokens, interval) = (self.tokens, self.interval)
        let task = Task {
            var stats = GenerationStats()
            for i in 0 ..< tokens {
                do { try await Task.sleep(for: interval) } catch {
                    out.yield(.finished(.cancelled, stats))
                    break
                }
                stats.generatedTokens = i + 1
                out.yield(.token("t\(i) "))
            }
            if !Task.isCancelled { out.yield(.finished(.maxTokens, stats)) }
            out.finish()
            await self.ended(wasCancelled: Task.isCancelled)
        }
        self.task = task
        out.onTermination = { _ in task.cancel() }
        return stream
    }

    private func ended(wasCancelled: Bool) {
        active -= 1
        if wasCancelled { cancelled += 1 }
    }

    func stopRunning() async {
        task?.cancel()
        await task?.value
        task = nil
    }

    func setThreads(_ count: Int) {}
    func notes(for image: RGBImage) -> [String] { [] }
}
