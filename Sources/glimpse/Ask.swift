import ArgumentParser
import Engine
import Foundation
import Models

struct Ask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer one prompt, streaming the answer to stdout.")

    @Option(name: [.short, .long], help: "Language model GGUF file.")
    var model: String?
    @Option(help: "Chat template by name (\(ChatTemplate.allCases.map(\.rawValue).joined(separator: ", "))); default: from the file.")
    var template: String?
    @Flag(help: "Feed the prompt as plain text, without the chat template.")
    var raw = false
    @Flag(help: "Print one JSON object (text and stats) instead of streaming.")
    var json = false
    @Option(name: [.short, .customLong("n-predict")], help: "Most tokens to generate.")
    var nPredict: Int = 256
    @Option(name: [.short, .long], help: "Threads (default: all cores).")
    var threads: Int?
    @Option(name: [.short, .customLong("ctx-size")], help: "Context size in tokens.")
    var ctxSize: Int = 4096
    @Flag(help: "Print the prompt's tokens to stderr before answering.")
    var verbosePrompt = false
    @OptionGroup var sampling: SamplingOptions
    @Argument(help: "The prompt.")
    var prompt: String

    func validate() throws {
        if let threads, threads < 1 { throw fail("--threads must be at least 1") }
        guard nPredict >= 0 else { throw fail("--n-predict must be 0 or more") }
        guard ctxSize >= 16 else { throw fail("--ctx-size must be at least 16") }
        if let template, ChatTemplate(rawValue: template) == nil {
            throw fail("unknown template '\(template)' (known: \(ChatTemplate.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if !RawArguments.allValidUTF8 { throw fail("the arguments are not valid UTF-8") }
    }

    func run() async throws {
        let engine = Engine(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let path = model ?? DefaultModel.path
        do {
            try await engine.load(path: path, template: template.flatMap(ChatTemplate.init(rawValue:)), contextSize: ctxSize)
        } catch {
            throw fail("\(error)")
        }
        let request = GenerationRequest(prompt: raw ? .raw(prompt) : .chat([ChatMessage(.user, prompt)]),
                                        sampling: sampling.parameters, maxTokens: nPredict)
        if verbosePrompt, let lm = await engine.loadedModel {
            let ids = try await engine.promptTokens(for: request)
            let lines = ids.map { "\(String($0).leftPad(7)) -> '\(lm.tokenizer.vocabulary.tokens[Int($0)])'" }
            FileHandle.standardError.write(Data(("prompt: \(ids.count) tokens\n" + lines.joined(separator: "\n") + "\n").utf8))
        }
        var text = ""
        var final = GenerationStats()
        var reason = FinishReason.maxTokens
        for await event in await engine.generate(request) {
            switch event {
            case .token(let piece):
                text += piece
                if !json { FileHandle.standardOutput.write(Data(piece.utf8)) }
            case .stats: break
            case .finished(let r, let s):
                reason = r
                final = s
            case .failed(let message):
                throw fail(message)
            }
        }
        if json {
            let result = AskResult(text: text, finishReason: reason.rawValue, stats: .init(final))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(result) + Data("\n".utf8))
        } else {
            print("")
        }
    }
}

struct AskResult: Encodable {
    struct Stats: Encodable {
        let prompt_tokens: Int
        let generated_tokens: Int
        let time_to_first_token_ms: Double
        let tokens_per_second: Double
        let prompt_tokens_per_second: Double
        init(_ s: GenerationStats) {
            prompt_tokens = s.promptTokens
            generated_tokens = s.generatedTokens
            time_to_first_token_ms = (s.timeToFirstToken * 1000).rounded() / 1
            tokens_per_second = (s.tokensPerSecond * 100).rounded() / 100
            prompt_tokens_per_second = (s.promptTokensPerSecond * 100).rounded() / 100
        }
    }
    let text: String
    let finishReason: String
    let stats: Stats
    enum CodingKeys: String, CodingKey { case text, finishReason = "finish_reason", stats }
}

/// Swift repairs invalid UTF-8 in arguments silently; look at the raw bytes instead.
enum RawArguments {
    static var allValidUTF8: Bool {
        for i in 0 ..< Int(CommandLine.argc) {
            guard let p = CommandLine.unsafeArgv[i] else { continue }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p))
            if String(validating: bytes, as: UTF8.self) == nil { return false }
        }
        return true
    }
}
