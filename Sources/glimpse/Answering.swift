import Engine
import Foundation
import Models
import Tasks
import Vision

/// One answer, as `ask --json` and `ask --batch` print it.
struct AnswerRecord: Encodable {
    struct BoxRecord: Encodable {
        let label: String
        /// MiniGPT-v2 coordinates, 0...100: [x1, y1, x2, y2].
        let box: [Int]
        /// The same corners in pixels of the (first) image, when there is one.
        let pixels: [Int]?
    }

    struct Stats: Encodable {
        let prompt_tokens: Int
        let image_tokens: Int
        let generated_tokens: Int
        let time_to_first_token_ms: Double
        let tokens_per_second: Double
        let prompt_tokens_per_second: Double
        let image_encode_ms: Double

        init(_ s: GenerationStats) {
            prompt_tokens = s.promptTokens
            image_tokens = s.imageTokens
            generated_tokens = s.generatedTokens
            time_to_first_token_ms = (s.timeToFirstToken * 1000).rounded()
            tokens_per_second = (s.tokensPerSecond * 100).rounded() / 100
            prompt_tokens_per_second = (s.promptTokensPerSecond * 100).rounded() / 100
            image_encode_ms = (s.imageEncodeSeconds * 1000).rounded()
        }
    }

    var id: String? = nil
    /// The model's name, when several answer (`ask --compare`).
    var model: String? = nil
    let text: String
    let finish_reason: String
    let boxes: [BoxRecord]
    let stats: Stats
    /// With --gen: the prompt Mini-Gemini would hand to its diffusion model (the answer's last <h>...</h>).
    var generation_prompt: String? = nil
    /// With --ocr: the image's text the question was given ("" when none was read).
    var ocr_text: String? = nil

    init(id: String? = nil, text: String, reason: FinishReason, stats: GenerationStats, image: RGBImage?) {
        self.id = id
        self.text = text
        finish_reason = reason.rawValue
        boxes = GroundedText(parsing: text).boxes.map { item in
            let px = image.map { item.box.pixels(width: $0.width, height: $0.height) }
            return BoxRecord(label: item.label, box: [item.box.x1, item.box.y1, item.box.x2, item.box.y2],
                             pixels: px.map { [$0.x1, $0.y1, $0.x2, $0.y2] })
        }
        self.stats = Stats(stats)
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// Runs one request to the end, optionally streaming text to stdout.
func answer(_ engine: any GenerationEngine, _ request: GenerationRequest, stream: Bool) async throws -> (String, FinishReason, GenerationStats) {
    var text = ""
    var stats = GenerationStats()
    var reason = FinishReason.maxTokens
    for await event in await engine.generate(request) {
        switch event {
        case .token(let piece):
            text += piece
            if stream { FileHandle.standardOutput.write(Data(piece.utf8)) }
        case .stats, .phase: break
        case .finished(let r, let s):
            reason = r
            stats = s
        case .failed(let message):
            throw EngineError(message)
        }
    }
    return (text, reason, stats)
}

/// Loads the images a request names; the error says which file and why.
func loadImages(_ paths: [String]) throws -> [RGBImage] {
    try paths.map { try ImageDecoder.load(path: $0) }
}
