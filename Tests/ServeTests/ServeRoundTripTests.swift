import AsyncHTTPClient
import Engine
import Foundation
import Models
import NIOCore
import OpenAI
import Remote
import Server
import Tasks
import XCTest

/// `glimpse serve`'s server in-process on a free port, and the app's remote engine against it.
final class ServeRoundTripTests: XCTestCase {
    struct Answer {
        var text = ""
        var reason: FinishReason?
        var stats = GenerationStats()
        var failure: String?
        var phases: [GenerationPhase] = []
    }

    func collect(_ engine: any GenerationEngine, _ request: GenerationRequest) async -> Answer {
        var a = Answer()
        for await event in await engine.generate(request) {
            switch event {
            case .token(let t): a.text += t
            case .finished(let r, let s): a.reason = r; a.stats = s
            case .failed(let m): a.failure = m
            case .phase(let p): a.phases.append(p)
            case .stats: break
            }
        }
        return a
    }

    func question(_ text: String, images: [RGBImageName] = []) throws -> GenerationRequest {
        GenerationRequest(prompt: .chat([ChatMessage(.user, text)]), images: try images.map { try TestServers.image($0.rawValue) },
                          sampling: .greedy, maxTokens: 64)
    }

    /// The boxes of an answer as "label x1 y1 x2 y2".
    func boxes(_ text: String) -> [String] {
        GroundedText(parsing: text).boxes.map { "\($0.label) \($0.box.x1) \($0.box.y1) \($0.box.x2) \($0.box.y2)" }
    }

    enum RGBImageName: String { case oneStar = "one-star.png", threeShapes = "three-shapes.png", fourShapes = "four-shapes.jpg" }

    /// Greedy answers through the server equal the local engine's, text and boxes, with the same prompt size;
    /// the image goes as PNG (exact pixels), so the embeddings are the same too.
    func testRemoteAnswersEqualLocalAnswers() async throws {
        let (local, _) = try await TestServers.shapes()
        let (_, served) = try await TestServers.shapes()
        let server = ChatServer(models: [served], settings: ServerSettings(port: 0))
        let (port, task) = try await TestServers.start(server)
        defer { task.cancel() }
        let remote = RemoteEngine(RemoteEndpoint(baseURL: "http://127.0.0.1:\(port)/v1", model: "shapes"))
        let info = try await remote.check()
        XCTAssertEqual(info.glimpse, GlimpseModelInfo(template: "minigptv2", vision: true, image_tokens: 36))

        let questions: [(String, [RGBImageName])] = [
            ("[grounding] describe the image", [.threeShapes]),
            ("[detection] star", [.oneStar]),
            ("[vqa] what color is the star?", [.oneStar]),
            ("[caption] describe the image briefly", [.fourShapes]),
        ]
        for (text, images) in questions {
            let request = try question(text, images: images)
            await local.resetConversation()
            let here = await collect(local, request)
            let there = await collect(remote, request)
            XCTAssertNil(there.failure, text)
            XCTAssertFalse(here.text.isEmpty, text)
            XCTAssertEqual(there.text, here.text, text)
            XCTAssertEqual(there.reason, here.reason, text)
            XCTAssertEqual(boxes(there.text), boxes(here.text), text)
            XCTAssertEqual(there.stats.promptTokens, here.stats.promptTokens, text)
            XCTAssertEqual(there.stats.generatedTokens, here.stats.generatedTokens, text)
            XCTAssertGreaterThan(there.stats.timeToFirstToken, 0)
            if !images.isEmpty {
                XCTAssertTrue(there.phases.contains { if case .server(let s) = $0 { s.contains("PNG") } else { false } }, "\(there.phases)")
            }
        }
        let grounded = boxes(await collect(remote, try question("[grounding] describe the image", images: [.threeShapes])).text)
        XCTAssertGreaterThanOrEqual(grounded.count, 2, "the grounding answer carries boxes: \(grounded)")
    }

    /// Stopping a remote answer (Esc) returns at once, ends the stream as cancelled, and the server sees the client
    /// leave: its engine is stopped and the model serves the next request.
    func testStopAndDisconnectFreeTheModel() async throws {
        let slow = SlowEngine(tokens: 10_000, interval: .milliseconds(20))
        let served = ServedModel(name: "slow", engine: slow, info: GlimpseModelInfo(template: "gemma", vision: false, image_tokens: nil))
        let (port, task) = try await TestServers.start(ChatServer(models: [served], settings: ServerSettings(port: 0, queueDepth: 2)))
        defer { task.cancel() }
        let remote = RemoteEngine(RemoteEndpoint(baseURL: "http://127.0.0.1:\(port)/v1", model: "slow"))
        var pieces = 0
        let stream = await remote.generate(try question("go on"))
        var ending: GenerationEvent?
        let clock = ContinuousClock()
        var stopTook: Duration = .zero
        for await event in stream {
            if case .token = event {
                pieces += 1
                if pieces == 3 {
                    // What the app does on Esc, from another task, while the stream is being read.
                    let t0 = clock.now
                    await remote.stopRunning()
                    stopTook = clock.now - t0
                }
            }
            if case .finished = event { ending = event }
        }
        XCTAssertLessThan(stopTook, .seconds(1), "stop must not wait for the answer")
        guard case .finished(.cancelled, _) = ending else { return XCTFail("ended with \(String(describing: ending))") }
        let freed = await TestServers.eventually { await slow.active == 0 }
        XCTAssertTrue(freed, "the server stops the engine when its client goes")
        let cut = await slow.cancelled
        XCTAssertEqual(cut, 1)

        // A raw client that reads two events and drops the connection.
        let reader = Task {
            let response = try await TestServers.client.execute(TestServers.post(port, #"{"model":"slow","stream":true,"messages":[{"role":"user","content":"hi"}]}"#), timeout: .seconds(30))
            var seen = 0
            for try await _ in response.body { seen += 1; if seen == 3 { break } }
        }
        _ = try await reader.value
        let freedAgain = await TestServers.eventually { let (a, n) = await (slow.active, slow.started); return a == 0 && n == 2 }
        XCTAssertTrue(freedAgain, "a client that disconnects mid-stream frees the model")

        // The next request is served: it gets text (and is dropped in turn).
        let next = try await TestServers.client.execute(TestServers.post(port, #"{"model":"slow","stream":true,"messages":[{"role":"user","content":"hi"}]}"#), timeout: .seconds(30))
        XCTAssertEqual(next.status.code, 200)
        var parser = ServerSentEventParser()
        var gotText = false
        reading: for try await buffer in next.body {
            for event in parser.push(buffer.readableBytesView) where event.contains("t0 ") { gotText = true; break reading }
        }
        XCTAssertTrue(gotText)
        let mostAtOnce = await slow.mostAtOnce
        XCTAssertEqual(mostAtOnce, 1, "one answer at a time per model")
    }

    /// 20 clients at once on a model with room for 4 waiting: each is answered in full or refused with 503 and
    /// Retry-After; none is lost, none gets anything else, and answers are all the greedy answer.
    func testTwentyConcurrentRequestsAreAnsweredOrRefused() async throws {
        let (_, served) = try await TestServers.shapes()
        let (port, task) = try await TestServers.start(ChatServer(models: [served], settings: ServerSettings(port: 0, queueDepth: 4)))
        defer { task.cancel() }
        let body = #"{"model":"shapes","stream":true,"temperature":0,"messages":[{"role":"user","content":"[caption] describe the image briefly"}]}"#
        let outcomes = try await withThrowingTaskGroup(of: (Int, String, String?).self) { group in
            for _ in 0 ..< 20 {
                group.addTask {
                    let response = try await TestServers.client.execute(TestServers.post(port, body), timeout: .seconds(60))
                    var parser = ServerSentEventParser()
                    var text = ""
                    var done = false
                    var raw: [UInt8] = []
                    for try await buffer in response.body {
                        raw += Array(buffer: buffer)
                        for event in parser.push(buffer.readableBytesView) {
                            if event == "[DONE]" { done = true; continue }
                            if let chunk = try? JSONDecoder().decode(ChatCompletionChunk.self, from: Data(event.utf8)) {
                                text += chunk.choices?.first?.delta.content ?? ""
                            }
                        }
                    }
                    let status = Int(response.status.code)
                    return (status, status == 200 ? (done ? text : "<cut>") : String(decoding: raw, as: UTF8.self),
                            response.headers.first(name: "Retry-After"))
                }
            }
            var all: [(Int, String, String?)] = []
            for try await o in group { all.append(o) }
            return all
        }
        XCTAssertEqual(outcomes.count, 20)
        let answered = outcomes.filter { $0.0 == 200 }
        let refused = outcomes.filter { $0.0 == 503 }
        print("20 concurrent: \(answered.count) answered, \(refused.count) refused with 503")
        XCTAssertEqual(answered.count + refused.count, 20, "\(outcomes.map(\.0))")
        XCTAssertGreaterThanOrEqual(answered.count, 5, "the running request and the 4 waiting are answered")
        XCTAssertEqual(Set(answered.map(\.1)).count, 1, "every answer is the same greedy answer, complete")
        XCTAssertFalse(answered[0].1.isEmpty)
        XCTAssertNotEqual(answered[0].1, "<cut>")
        for r in refused {
            XCTAssertEqual(r.2, "1")
            XCTAssertTrue(r.1.contains("busy"), r.1)
        }
    }

    /// Requests the server refuses, each with OpenAI's error body and the right status.
    func testBadRequestsGetErrorBodies() async throws {
        let (_, served) = try await TestServers.shapes()
        var settings = ServerSettings(port: 0)
        settings.apiKey = "sesame"
        let (port, task) = try await TestServers.start(ChatServer(models: [served], settings: settings))
        defer { task.cancel() }
        func send(_ json: String, key: String? = "sesame") async throws -> (Int, String) {
            var r = TestServers.post(port, json)
            if let key { r.headers.add(name: "Authorization", value: "Bearer \(key)") }
            let response = try await TestServers.client.execute(r, timeout: .seconds(30))
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
        }
        let cases: [(String, String?, Int, String)] = [
            (#"{"model":"shapes","messages":[{"role":"user","content":"hi"}]}"#, nil, 401, "API key"),
            (#"{"model":"shapes","messages":[{"role":"user","content":"hi"}]}"#, "wrong", 401, "API key"),
            (#"{"model":"llava","messages":[{"role":"user","content":"hi"}]}"#, "sesame", 404, "serving: shapes"),
            (#"{"model":"shapes","messages":[]}"#, "sesame", 400, "messages is empty"),
            (#"{"model":"shapes"}"#, "sesame", 400, "'messages' is missing"),
            (#"not json"#, "sesame", 400, "not JSON"),
            (#"{"model":"shapes","messages":[{"role":"robot","content":"hi"}]}"#, "sesame", 400, "role 'robot'"),
            (#"{"model":"shapes","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://example.com/a.png"}}]}]}"#, "sesame", 400, "data: URI"),
            (#"{"model":"shapes","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}"#, "sesame", 400, "not a JPEG or PNG"),
            (#"{"model":"shapes","messages":[{"role":"user","content":[{"type":"input_audio"}]}]}"#, "sesame", 400, "input_audio"),
            (#"{"model":"shapes","temperature":9,"messages":[{"role":"user","content":"hi"}]}"#, "sesame", 400, "temperature"),
        ]
        for (json, key, status, words) in cases {
            let (code, body) = try await send(json, key: key)
            XCTAssertEqual(code, status, json)
            XCTAssertTrue(body.contains(words), "\(json): \(body)")
            XCTAssertNotNil(try? JSONDecoder().decode(ErrorBody.self, from: Data(body.utf8)), body)
        }
        // The server still answers, and /health needs no key.
        let (ok, body) = try await send(#"{"model":"shapes","max_tokens":8,"messages":[{"role":"user","content":"[vqa] hi"}]}"#)
        XCTAssertEqual(ok, 200, body)
        let completion = try JSONDecoder().decode(ChatCompletion.self, from: Data(body.utf8))
        XCTAssertEqual(completion.object, "chat.completion")
        XCTAssertNotNil(completion.usage)
        let health = try await TestServers.client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(10))
        XCTAssertEqual(health.status.code, 200)
    }
}
