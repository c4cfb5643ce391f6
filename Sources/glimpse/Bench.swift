import ArgumentParser
import Foundation
import Models
import Tensors

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prompt processing and generation speed, like llama-bench.")

    @Option(name: [.short, .long], help: "Language model GGUF file.")
    var model: String?
    @Option(name: [.short, .long], help: "Threads (default: all cores).")
    var threads: Int?
    @Option(name: [.short, .customLong("n-prompt")], help: "Prompt tokens for the pp test.")
    var nPrompt: Int = 512
    @Option(name: [.short, .customLong("n-gen")], help: "Generated tokens for the tg test.")
    var nGen: Int = 128
    @Option(name: [.short, .customLong("repetitions")], help: "Runs of each test; the mean is reported.")
    var repetitions: Int = 3
    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let threads = self.threads ?? ProcessInfo.processInfo.activeProcessorCount
        let pool = ThreadPool(threads: threads)
        BLAS.useSingleThread()
        let lm: LanguageModel
        do { lm = try LanguageModel(path: model ?? DefaultModel.path, pool: pool) } catch { throw fail("\(error)") }
        lm.file.adviseWillNeed()
        let decoder = lm.decoder
        let cache = decoder.makeCache(capacity: nPrompt + nGen + 1)
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: lm.vocabularySize)
        defer { logits.deallocate() }
        var rng = SystemRandomNumberGenerator()
        let prompt = (0 ..< nPrompt).map { _ in Int32.random(in: 0 ..< Int32(lm.vocabularySize), using: &rng) }

        func time(_ body: () throws -> Void) rethrows -> Double {
            let t = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
        }
        // Warm-up: touches every weight page once.
        cache.truncate(to: 0)
        try decoder.forward(.tokens(Array(prompt.prefix(16))), cache: cache, logits: logits)

        var pp: [Double] = [], tg: [Double] = []
        for _ in 0 ..< repetitions {
            if nPrompt > 0 {
                cache.truncate(to: 0)
                let s = try time { try decoder.forward(.tokens(prompt), cache: cache, logits: logits) }
                pp.append(Double(nPrompt) / s)
            }
            if nGen > 0 {
                cache.truncate(to: 0)
                var token = lm.tokenizer.vocabulary.bos ?? 0
                let s = try time {
                    for _ in 0 ..< nGen {
                        try decoder.forward(.tokens([token]), cache: cache, logits: logits)
                        token = Sampler.argmax(logits, lm.vocabularySize)
                    }
                }
                tg.append(Double(nGen) / s)
            }
        }
        let ppMean = pp.isEmpty ? 0 : pp.reduce(0, +) / Double(pp.count)
        let tgMean = tg.isEmpty ? 0 : tg.reduce(0, +) / Double(tg.count)
        if json {
            print(String(format: "{\"pp_tokens_per_second\": %.2f, \"tg_tokens_per_second\": %.2f, \"threads\": %d}",
                         ppMean, tgMean, threads))
        } else {
            let name = (model ?? DefaultModel.path).split(separator: "/").last.map(String.init) ?? ""
            print("| model | threads | test | t/s |")
            print("| --- | ---: | --- | ---: |")
            if nPrompt > 0 { print(String(format: "| %@ | %d | pp%d | %.2f |", name, threads, nPrompt, ppMean)) }
            if nGen > 0 { print(String(format: "| %@ | %d | tg%d | %.2f |", name, threads, nGen, tgMean)) }
        }
    }
}
