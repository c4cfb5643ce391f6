import ArgumentParser
import Foundation
import Models
import Tensors

struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the most likely next tokens after a text (for checking a model against a reference).")

    @Option(name: [.short, .long], help: "Language model GGUF file.")
    var model: String?
    @Option(help: "How many tokens to show.")
    var top: Int = 10
    @Option(name: [.short, .long], help: "Threads (default: all cores).")
    var threads: Int?
    @Flag(help: "Feed the tokens one at a time (checks the batched path against the single-token path).")
    var oneByOne = false
    @Argument(help: "The text (special-token texts are parsed; BOS is added as the model asks).")
    var text: String

    func run() throws {
        let pool = ThreadPool(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        BLAS.useSingleThread()
        let lm: LanguageModel
        do { lm = try LanguageModel(path: try ModelCatalog.current().resolve(model).path) } catch { throw fail("\(error)") }
        let decoder = lm.makeDecoder(pool: pool)
        let ids = lm.tokenizer.encode(text)
        let cache = decoder.makeCache(capacity: ids.count + 1)
        var logits = [Float](repeating: 0, count: lm.vocabularySize)
        do {
            try logits.withUnsafeMutableBufferPointer { out in
                if oneByOne {
                    for id in ids { try decoder.forward(.tokens([id]), cache: cache, logits: out.baseAddress!) }
                } else {
                    try decoder.forward(.tokens(ids), cache: cache, logits: out.baseAddress!)
                }
            }
        } catch { throw fail("\(error)") }
        for i in logits.indices.sorted(by: { logits[$0] > logits[$1] }).prefix(top) {
            print("\(String(i).leftPad(7)) \(String(format: "%9.4f", logits[i])) '\(lm.tokenizer.vocabulary.tokens[i])'")
        }
    }
}
