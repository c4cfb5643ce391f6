import Engine
import Foundation
import Models
import OpenAI
import Synchronization
import Vision

/// A request the server refuses, with the HTTP status and OpenAI's error type.
struct RefusedRequest: Error {
    let status: Int
    let type: String
    let message: String
    static func invalid(_ message: String) -> RefusedRequest { RefusedRequest(status: 400, type: "invalid_request_error", message: message) }
}

/// Turns an OpenAI chat request into a Glimpse generation request for a served model.
enum RequestTranslation {
    /// Decoded images above this many pixels are refused (as for files: ImageDecoder's limit).
    static func generationRequest(_ body: ChatCompletionRequest, for model: ServedModel) throws -> GenerationRequest {
        guard !body.messages.isEmpty else { throw RefusedRequest.invalid("messages is empty") }
        var messages: [ChatMessage] = []
        var images: [RGBImage] = []
        for (i, m) in body.messages.enumerated() {
            let role: ChatMessage.Role
            switch m.role {
            case "system", "developer": role = .system
            case "user": role = .user
            case "assistant": role = .assistant
            default: throw RefusedRequest.invalid("messages[\(i)].role '\(m.role)' is not system, user or assistant")
            }
            var text: [String] = []
            switch m.content {
            case .text(let t): text.append(t)
            case .parts(let parts):
                for (j, part) in parts.enumerated() {
                    switch part {
                    case .text(let t): text.append(t)
                    case .imageURL(let url):
                        guard role == .user else { throw RefusedRequest.invalid("messages[\(i)]: images go in user messages") }
                        images.append(try image(url, at: "messages[\(i)].content[\(j)]"))
                    case .other(let type):
                        throw RefusedRequest.invalid("messages[\(i)].content[\(j)]: content parts of type '\(type)' are not taken (text and image_url are)")
                    }
                }
            }
            messages.append(ChatMessage(role, text.joined(separator: "\n")))
        }
        if !images.isEmpty && !model.hasVision {
            throw RefusedRequest.invalid("\(model.name) has no vision projector: it cannot take images")
        }
        var sampling = model.sampling
        if let t = body.temperature {
            guard t >= 0 && t <= 5 else { throw RefusedRequest.invalid("temperature must be from 0 to 5") }
            sampling.temperature = Float(t)
        }
        if let p = body.top_p {
            guard p > 0 && p <= 1 else { throw RefusedRequest.invalid("top_p must be above 0 and at most 1") }
            sampling.topP = Float(p)
        }
        if let k = body.top_k {
            guard k >= 0 else { throw RefusedRequest.invalid("top_k must be 0 or more") }
            sampling.topK = k
        }
        if let seed = body.seed { sampling.seed = seed }
        let limit = body.max_completion_tokens ?? body.max_tokens ?? model.maxTokens
        guard limit >= 0 else { throw RefusedRequest.invalid("max_tokens must be 0 or more") }
        var request = GenerationRequest(prompt: .chat(messages), images: images, sampling: sampling, maxTokens: limit)
        request.extraStopStrings = (body.stop?.values ?? []).filter { !$0.isEmpty }
        return request
    }

    /// A `data:image/...;base64,` URI's image. Other URLs are refused: a server that fetches what a request
    /// names can be made to reach into its own network.
    static func image(_ url: String, at place: String) throws -> RGBImage {
        if let hit = decoded.withLock({ cache in cache.first { $0.uri == url }?.image }) { return hit }
        let image = try decode(url, at: place)
        decoded.withLock { cache in
            cache.insert((url, image), at: 0)
            if cache.count > 8 { cache.removeLast() }
        }
        return image
    }

    /// Recently decoded images by their URI: a conversation sends its image again with every turn, and decoding
    /// it each time would add milliseconds to every first token.
    private static let decoded = Mutex<[(uri: String, image: RGBImage)]>([])

    private static func decode(_ url: String, at place: String) throws -> RGBImage {
        guard url.hasPrefix("data:") else {
            throw RefusedRequest.invalid("\(place): image_url must be a data: URI (base64 JPEG or PNG); glimpse serve does not fetch URLs")
        }
        guard let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64") else {
            throw RefusedRequest.invalid("\(place): the data: URI is not base64")
        }
        guard let data = Data(base64Encoded: String(url[url.index(after: comma)...]), options: .ignoreUnknownCharacters) else {
            throw RefusedRequest.invalid("\(place): the base64 data does not decode")
        }
        do { return try ImageDecoder.decode([UInt8](data)) } catch {
            throw RefusedRequest.invalid("\(place): \(error)")
        }
    }
}
