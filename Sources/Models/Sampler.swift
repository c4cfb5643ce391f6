import Foundation
import Tensors

/// Sampling settings, named as llama.cpp names them. `temperature <= 0` means greedy.
public struct SamplingParameters: Sendable, Codable, Equatable {
    public var temperature: Float = 0.8
    public var topK: Int = 40
    public var topP: Float = 0.95
    public var minP: Float = 0.05
    public var repeatPenalty: Float = 1.0
    /// How many recent tokens the repetition penalty looks at.
    public var repeatLastN: Int = 64
    public var seed: UInt64? = nil

    public init() {}

    public static var greedy: SamplingParameters {
        var p = SamplingParameters()
        p.temperature = 0
        return p
    }
}

/// Picks the next token from logits: repetition penalty, then top-k, top-p, min-p, temperature, draw
/// (llama.cpp's default chain order).
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: SplitMix64

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        rng = SplitMix64(seed: parameters.seed ?? UInt64.random(in: 0 ... UInt64.max))
    }

    public mutating func sample(_ logits: UnsafeMutablePointer<Float>, count n: Int, history: [Int32]) -> Int32 {
        let p = parameters
        if p.repeatPenalty != 1, p.repeatLastN != 0 {
            let recent = Set(history.suffix(p.repeatLastN < 0 ? history.count : p.repeatLastN))
            for t in recent where t >= 0 && Int(t) < n {
                let l = logits[Int(t)]
                logits[Int(t)] = l > 0 ? l / p.repeatPenalty : l * p.repeatPenalty
            }
        }
        if p.temperature <= 0 { return Self.argmax(logits, n) }

        var candidates = p.topK > 0 && p.topK < n
            ? Self.topK(logits, n, p.topK)
            : (0 ..< n).map { (id: Int32($0), logit: logits[$0]) }.sorted { $0.logit > $1.logit }
        var probs = Self.softmax(candidates.map(\.logit))
        if p.topP < 1 {
            var cumulative: Float = 0
            var keep = candidates.count
            for (i, q) in probs.enumerated() {
                cumulative += q
                if cumulative >= p.topP { keep = i + 1; break }
            }
            candidates.removeSubrange(keep...)
            probs.removeSubrange(keep...)
        }
        if p.minP > 0, let top = probs.first {
            let keep = max(1, probs.prefix { $0 >= p.minP * top }.count)
            candidates.removeSubrange(keep...)
        }
        probs = Self.softmax(candidates.map { $0.logit / p.temperature })
        var r = Float(rng.nextDouble())
        for (i, q) in probs.enumerated() {
            r -= q
            if r <= 0 { return candidates[i].id }
        }
        return candidates.last!.id
    }

    /// The k largest logits, best first, in one pass over the vocabulary (a 262k-entry sort per token
    /// would cost more than the model's own forward pass).
    static func topK(_ logits: UnsafePointer<Float>, _ n: Int, _ k: Int) -> [(id: Int32, logit: Float)] {
        var kept: [(id: Int32, logit: Float)] = []
        kept.reserveCapacity(k + 1)
        var floor = -Float.infinity
        for i in 0 ..< n where logits[i] > floor || kept.count < k {
            let item = (id: Int32(i), logit: logits[i])
            // Insertion into a short sorted array (k is small; ties keep the lower id first).
            var at = kept.count
            while at > 0 && kept[at - 1].logit < item.logit { at -= 1 }
            kept.insert(item, at: at)
            if kept.count > k { kept.removeLast() }
            if kept.count == k { floor = kept[k - 1].logit }
        }
        return kept
    }

    public static func argmax(_ x: UnsafePointer<Float>, _ n: Int) -> Int32 {
        var best = 0
        for i in 1 ..< n where x[i] > x[best] { best = i }
        return Int32(best)
    }

    static func softmax(_ x: [Float]) -> [Float] {
        guard let m = x.max() else { return [] }
        let e = x.map { expf($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
