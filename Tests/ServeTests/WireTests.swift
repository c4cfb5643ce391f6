import Foundation
import OpenAI
import Vision
import XCTest

/// The pieces under the remote engine and the server: SSE framing, the wire types as real servers send them,
/// and image encoding.
final class WireTests: XCTestCase {
    func testServerSentEventsSplitAnywhere() {
        let stream = "data: {\"a\":1}\n\n: comment\r\n\r\ndata: line one\r\ndata: line two\r\n\r\nevent: x\nid: 3\ndata:no-space\n\ndata: [DONE]\n\n"
        let bytes = Array(stream.utf8)
        let expected = ["{\"a\":1}", "line one\nline two", "no-space", "[DONE]"]
        // Every split point, so an event, a line or a CRLF cut between two reads is still one event.
        for cut in 0 ... bytes.count {
            var parser = ServerSentEventParser()
            var events = parser.push(bytes[..<cut])
            events += parser.push(bytes[cut...])
            XCTAssertEqual(events, expected, "cut at \(cut)")
        }
        // Byte by byte.
        var parser = ServerSentEventParser()
        XCTAssertEqual(bytes.flatMap { parser.push([$0]) }, expected)
        // A last event with no blank line after it.
        var open = ServerSentEventParser()
        XCTAssertEqual(open.push(Array("data: tail".utf8)), [])
        XCTAssertEqual(open.finish(), "tail")
        XCTAssertEqual(ServerSentEventParser.event("a\nb"), "data: a\ndata: b\n\n")
    }

    func testChunksAsServersSendThem() throws {
        // vLLM's usage chunk has "choices": null; llama-server adds timings; Ollama's first delta has a role.
        let vllm = #"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":null,"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#
        let c = try JSONDecoder().decode(ChatCompletionChunk.self, from: Data(vllm.utf8))
        XCTAssertNil(c.choices)
        XCTAssertEqual(c.usage, Usage(prompt: 3, completion: 4))
        let llama = #"{"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"created":1,"id":"c","model":"g","object":"chat.completion.chunk","timings":{"cache_n":0,"prompt_n":9,"prompt_ms":21.3,"prompt_per_token_ms":2.3,"prompt_per_second":422.0,"predicted_n":5,"predicted_ms":40.1,"predicted_per_token_ms":8.0,"predicted_per_second":124.6}}"#
        let l = try JSONDecoder().decode(ChatCompletionChunk.self, from: Data(llama.utf8))
        XCTAssertEqual(l.choices?.first?.finish_reason, "stop")
        XCTAssertEqual(l.timings?.prompt_n, 9)
        XCTAssertEqual(l.timings?.predicted_ms, 40.1)
    }

    func testRequestContentForms() throws {
        // A string content, a parts list, Ollama's bare-string image_url, null content, stop as one string.
        let json = #"{"model":"m","stop":"\n\n","messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":"data:image/png;base64,AA=="},{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,BB==","detail":"high"}}]},{"role":"assistant","content":null}]}"#
        let r = try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(json.utf8))
        XCTAssertEqual(r.stop?.values, ["\n\n"])
        XCTAssertEqual(r.messages[0].content, .text("be brief"))
        XCTAssertEqual(r.messages[1].content, .parts([.text("what is this?"), .imageURL("data:image/png;base64,AA=="),
                                                     .imageURL("data:image/jpeg;base64,BB==")]))
        XCTAssertEqual(r.messages[2].content, .text(""))
        // What the remote engine sends decodes back to itself.
        let back = try JSONDecoder().decode(ChatCompletionRequest.self, from: try JSONEncoder().encode(r))
        XCTAssertEqual(back.messages, r.messages)
    }

    func testImagesEncodeForUpload() throws {
        // PNG keeps every pixel; a noisy photo whose PNG passes the limit goes as JPEG, close to the original.
        let small = RGBImage(width: 37, height: 23, pixels: (0 ..< 37 * 23 * 3).map { UInt8(($0 * 7) % 256) })
        let png = try ImageEncoder.forUpload(small)
        XCTAssertEqual(png.mediaType, "image/png")
        XCTAssertEqual(try ImageDecoder.decode(png.bytes), small)
        var seed: UInt64 = 1
        let noisy = RGBImage(width: 800, height: 600, pixels: (0 ..< 800 * 600 * 3).map { i in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: (i / 3 % 800) / 4 + Int(seed >> 61))
        })
        let jpeg = try ImageEncoder.forUpload(noisy, pngLimit: 200_000)
        XCTAssertEqual(jpeg.mediaType, "image/jpeg")
        let decoded = try ImageDecoder.decode(jpeg.bytes)
        XCTAssertEqual(decoded.width, 800)
        let meanError = zip(decoded.pixels, noisy.pixels).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(noisy.pixels.count)
        XCTAssertLessThan(meanError, 4, "JPEG quality 90 stays close")
        XCTAssertThrowsError(try ImageEncoder.png(RGBImage(width: 0, height: 0, pixels: [])))
    }
}
