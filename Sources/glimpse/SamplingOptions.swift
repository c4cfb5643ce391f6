import ArgumentParser
import Models

/// Sampling flags, named as llama.cpp's CLI names them.
struct SamplingOptions: ParsableArguments {
    @Option(name: .customLong("temp"), help: "Temperature; 0 means greedy.")
    var temperature: Float = 0.8
    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens (0 = all).")
    var topK: Int = 40
    @Option(name: .customLong("top-p"), help: "Keep the smallest set of tokens whose probability reaches p.")
    var topP: Float = 0.95
    @Option(name: .customLong("min-p"), help: "Drop tokens less likely than min-p times the most likely one.")
    var minP: Float = 0.05
    @Option(name: .customLong("repeat-penalty"), help: "Penalty for repeating recent tokens (1 = off).")
    var repeatPenalty: Float = 1.0
    @Option(name: .customLong("seed"), help: "Random seed, for reproducible sampling.")
    var seed: UInt64?

    func validate() throws {
        guard temperature >= 0 else { throw fail("--temp must be 0 or more") }
        guard topP > 0, topP <= 1 else { throw fail("--top-p must be in (0, 1]") }
        guard minP >= 0, minP <= 1 else { throw fail("--min-p must be in [0, 1]") }
        guard repeatPenalty > 0 else { throw fail("--repeat-penalty must be positive") }
        guard topK >= 0 else { throw fail("--top-k must be 0 or more") }
    }

    var parameters: SamplingParameters {
        var p = SamplingParameters()
        p.temperature = temperature
        p.topK = topK
        p.topP = topP
        p.minP = minP
        p.repeatPenalty = repeatPenalty
        p.seed = seed
        return p
    }
}
