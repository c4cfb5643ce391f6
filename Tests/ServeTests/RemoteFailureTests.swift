import Engine
import Foundation
import Hummingbird
import Models
import OpenAI
import Remote
import Synchronization
import Vision
import XCTest

/// A fault-injecting OpenAI server (one route per failure) and what the remote engine makes of each: one clear
/// message, the partial answer kept where text had arrived, and the engine usable afterwards.
final class RemoteFailureTests: XCTestCase {
    static let attempts = Mutex<[String: Int]>([:])

    static func chunk(_ text: String?, finish: String? = nil, role: Bool = false) -> String {
        var c = ChatCompletionChunk(id: "x", created: 0, model: "m",
                                    choices: [ChunkChoice(delta: ChunkDelta(role: role ? "assistant" : nil, content: text), finish_reason: finish)])
        if finish != nil {
            var t = Timings()
            t.prompt_n = 7; t.cache_n = 3; t.prompt_ms = 12.5; t.predicted_n = 2; t.predicted_ms = 4
            c.timings = t
        }
        return ServerSentEventParser.event(String(decoding: try! JSONEncoder().encode(c), as: UTF8.self))
    }

    static func sse(_ write: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void) -> Response {
        Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody(write))
    }

    static func refusal(_ status: Int, _ message: String, retryAfter: String? = nil) -> Response {
        var r = Response(status: .init(code: status), headers: [.contentType: "application/json"],
                         body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"error":{"message":"\#(message)","type":"x","code":\#(status)}}"#)))
        if let retryAfter { r.headers[.retryAfter] = retryAfter }
        return r
    }

    static func faultRouter() -> Router<BasicRequestContext> {
        let router = Router()
        func route(_ name: String, _ handler: @escaping @Sendable (Request) async throws -> Response) {
            router.post("/\(name)/v1/chat/completions") { request, _ in try await handler(request) }
        }
        route("ok") { request in
            // Checks what a remote pane sends: the key, the image part, streaming with usage.
            var request = request
            let body = try await request.collectBody(upTo: 16 << 20)
            let sent = try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(buffer: body))
            let images = sent.messages.flatMap { m -> [String] in
                if case .parts(let parts) = m.content { return parts.compactMap { if case .imageURL(let u) = $0 { u } else { nil } } }
                return []
            }
            let said = "key=\(request.headers[.authorization] ?? "none") images=\(images.map { String($0.prefix(22)) }) stream=\(sent.stream == true) usage=\(sent.stream_options?.include_usage == true)"
            return sse { w in
                try await w.write(ByteBuffer(string: chunk("", role: true)))
                try await w.write(ByteBuffer(string: ": a comment\r\n\r\n"))
                try await w.write(ByteBuffer(string: chunk(said)))
                try await w.write(ByteBuffer(string: chunk(nil, finish: "length")))
                try await w.write(ByteBuffer(string: "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"m\",\"choices\":null,\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":2,\"total_tokens\":12}}\n\n"))
                try await w.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await w.finish(nil)
            }
        }
        route("s401") { _ in refusal(401, "Invalid API key") }
        route("s403") { _ in refusal(403, "Forbidden") }
        route("s404") { _ in refusal(404, "The model `m` does not exist.") }
        route("s500") { _ in refusal(500, "CUDA out of memory") }
        route("s503") { _ in refusal(503, "Loading model", retryAfter: "0") }
        route("s429once") { _ in
            let n = attempts.withLock { $0["429", default: 0] += 1; return $0["429"]! }
            if n == 1 { return refusal(429, "Too many requests", retryAfter: "0") }
            return sse { w in
                try await w.write(ByteBuffer(string: chunk("after a retry", finish: "stop")))
                try await w.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await w.finish(nil)
            }
        }
        route("cut") { _ in
            sse { w in
                try await w.write(ByteBuffer(string: chunk("half an ")))
                try await w.write(ByteBuffer(string: chunk("answer")))
                try await w.finish(nil)
            }
        }
        route("silent") { _ in
            try await Task.sleep(for: .seconds(4))
            return refusal(500, "late")
        }
        route("stall") { _ in
            sse { w in
                try await w.write(ByteBuffer(string: chunk("one ")))
                try await Task.sleep(for: .seconds(4))
                try await w.finish(nil)
            }
        }
        route("streamerror") { _ in
            sse { w in
                try await w.write(ByteBuffer(string: chunk("one ")))
                try await w.write(ByteBuffer(string: "data: {\"error\":{\"message\":\"the KV cache is full\"}}\n\n"))
                try await w.finish(nil)
            }
        }
        route("json") { _ in
            var c = ChatCompletion(id: "x", created: 0, model: "m", choices: [CompletionChoice(message: CompletionMessage(content: "whole"), finish_reason: "stop")])
            c.usage = Usage(prompt: 5, completion: 1)
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: String(decoding: try JSONEncoder().encode(c), as: UTF8.self))))
        }
        route("garbage") { _ in
            Response(status: .ok, headers: [.contentType: "text/html"], body: ResponseBody(byteBuffer: ByteBuffer(string: "<html>hello</html>")))
        }
        return router
    }

    struct Outcome {
        var text = ""
        var failure: String?
        var reason: FinishReason?
        var stats = GenerationStats()
        var phases: [String] = []
    }

    func run(_ url: String, key: String? = nil, keyVariable: String? = nil, timeout: Double = 30,
             images: [RGBImageFixture] = []) async throws -> Outcome {
        let engine = RemoteEngine(RemoteEndpoint(baseURL: url, model: "m", apiKey: key, timeout: timeout), keyVariable: keyVariable)
        var request = GenerationRequest(prompt: .chat([ChatMessage(.user, "[grounding] the star")]), sampling: .greedy, maxTokens: 8)
        request.images = try images.map { try TestServers.image($0.rawValue) }
        var o = Outcome()
        for await event in await engine.generate(request) {
            switch event {
            case .token(let t): o.text += t
            case .failed(let m): o.failure = m
            case .finished(let r, let s): o.reason = r; o.stats = s
            case .phase(.server(let s)): o.phases.append(s)
            default: break
            }
        }
        return o
    }

    enum RGBImageFixture: String { case oneStar = "one-star.png", photo = "four-shapes.jpg" }

    func testEachFailureGivesItsMessage() async throws {
        let (port, task) = try await TestServers.start(Self.faultRouter())
        defer { task.cancel() }
        let base = "http://127.0.0.1:\(port)"

        let ok = try await run("\(base)/ok/v1", key: "k1", images: [.oneStar])
        XCTAssertNil(ok.failure)
        XCTAssertEqual(ok.text, "key=Bearer k1 images=[\"data:image/png;base64,\"] stream=true usage=true")
        XCTAssertEqual(ok.reason, .maxTokens)
        XCTAssertEqual(ok.stats.promptTokens, 10, "usage wins over the timings' 7+3 when both come")
        XCTAssertEqual(ok.stats.cachedPromptTokens, 3)
        XCTAssertEqual(ok.stats.promptSeconds, 0.0125, accuracy: 1e-9)
        XCTAssertTrue(ok.phases.first?.contains("PNG, 300x300") ?? false, "\(ok.phases)")

        let expectations: [(String, String, Double)] = [
            ("s401", "refused the API key (401): Invalid API key (no key was sent: $GLIMPSE_TEST_KEY is not set)", 30),
            ("s403", "refused the API key (403): Forbidden", 30),
            ("s404", "does not serve the model 'm' or has no \(base)/s404/v1/chat/completions (404): The model `m` does not exist.", 30),
            ("s500", "failed with an error (500): CUDA out of memory", 30),
            ("s503", "unavailable or still loading (503) and still was after retrying: Loading model", 30),
            ("silent", "no answer from 127.0.0.1:\(port) in 1 s", 1),
        ]
        for (route, words, timeout) in expectations {
            let o = try await run("\(base)/\(route)/v1", keyVariable: "GLIMPSE_TEST_KEY", timeout: timeout)
            XCTAssertTrue(o.failure?.contains(words) ?? false, "\(route): \(o.failure ?? "no failure")")
            XCTAssertEqual(o.text, "", route)
        }
        let s503 = try await run("\(base)/s503/v1")
        XCTAssertEqual(s503.phases.count, 3, "three retries, each said: \(s503.phases)")
        XCTAssertTrue(s503.phases.first?.contains("busy or loading its model (503): trying again in 0 s (2 of 4)") ?? false, "\(s503.phases)")

        let retried = try await run("\(base)/s429once/v1")
        XCTAssertNil(retried.failure)
        XCTAssertEqual(retried.text, "after a retry")
        XCTAssertEqual(retried.phases.count, 1)

        // Mid-answer failures keep the text that came, and say it is incomplete.
        let cut = try await run("\(base)/cut/v1")
        XCTAssertEqual(cut.text, "half an answer")
        XCTAssertEqual(cut.failure, "the connection to 127.0.0.1:\(port) closed mid-answer: the answer above is incomplete")
        let stall = try await run("\(base)/stall/v1", timeout: 1)
        XCTAssertEqual(stall.text, "one ")
        XCTAssertEqual(stall.failure, "127.0.0.1:\(port) sent nothing for 1 s mid-answer: the answer above is incomplete")
        let streamError = try await run("\(base)/streamerror/v1")
        XCTAssertEqual(streamError.text, "one ")
        XCTAssertEqual(streamError.failure, "127.0.0.1:\(port) stopped with an error: the KV cache is full: the answer above is incomplete")

        let whole = try await run("\(base)/json/v1")
        XCTAssertEqual(whole.text, "whole")
        XCTAssertEqual(whole.reason, .endOfGeneration)
        let garbage = try await run("\(base)/garbage/v1")
        XCTAssertEqual(garbage.failure, "127.0.0.1:\(port) closed the stream without answering")

        // A large photo goes as JPEG, its size said.
        let big = RGBImage(width: 1600, height: 1200, pixels: (0 ..< 1600 * 1200 * 3).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) })
        let engine = RemoteEngine(RemoteEndpoint(baseURL: "\(base)/ok/v1", model: "m"))
        var phases: [String] = []
        var text = ""
        for await e in await engine.generate(GenerationRequest(prompt: .chat([ChatMessage(.user, "hi")]), images: [big])) {
            if case .phase(.server(let s)) = e { phases.append(s) }
            if case .token(let t) = e { text += t }
        }
        XCTAssertTrue(phases.first?.contains("JPEG, 1600x1200") ?? false, "\(phases)")
        XCTAssertTrue(text.contains("data:image/jpeg;base64"), text)
        // The same engine answers again after all that.
        let again = try await run("\(base)/ok/v1")
        XCTAssertNil(again.failure)
    }

    func testConnectionFailuresGiveTheirMessage() async throws {
        // A port that was just listening and is now closed.
        let (port, task) = try await TestServers.start(Self.faultRouter())
        task.cancel()
        _ = try? await task.value
        let refused = try await run("http://127.0.0.1:\(port)/v1")
        XCTAssertEqual(refused.failure, "127.0.0.1:\(port) refused the connection: is the server running, on that port?")

        let dns = try await run("http://glimpse-test-host.invalid:8000/v1")
        XCTAssertTrue(dns.failure?.contains("cannot find the host") ?? false, dns.failure ?? "")

        // TLS spoken to a plain-HTTP server.
        let (plain, plainTask) = try await TestServers.start(Self.faultRouter())
        defer { plainTask.cancel() }
        let tls = try await run("https://127.0.0.1:\(plain)/ok/v1", timeout: 5)
        XCTAssertTrue(tls.failure?.hasPrefix("TLS with 127.0.0.1:\(plain) failed") ?? false, tls.failure ?? "")
        print("messages:\n  \(refused.failure ?? "")\n  \(dns.failure ?? "")\n  \(tls.failure ?? "")")
    }

    /// The model list: a missing model names those served; an unreachable server says why.
    func testCheckNamesTheServedModels() async throws {
        let router = Router()
        router.get("/v1/models") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"object":"list","data":[{"id":"llava-1.6","object":"model","meta":{"n_ctx_train":4096}},{"id":"qwen2-vl"}]}"#)))
        }
        let (port, task) = try await TestServers.start(router)
        defer { task.cancel() }
        let wrong = RemoteEngine(RemoteEndpoint(baseURL: "http://127.0.0.1:\(port)/v1", model: "gpt-4o"))
        do { _ = try await wrong.check(); XCTFail("no such model") } catch {
            XCTAssertEqual("\(error)", "127.0.0.1:\(port) does not serve 'gpt-4o'; it serves llava-1.6, qwen2-vl")
        }
        let right = try await RemoteEngine(RemoteEndpoint(baseURL: "http://127.0.0.1:\(port)/v1/", model: "qwen2-vl")).check()
        XCTAssertEqual(right.id, "qwen2-vl")
        XCTAssertNil(right.glimpse)
    }
}
