import ArgumentParser
import Foundation
import GGUF
import Vision
import Models
import Tensors
import Synchronization
import CKernels

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prompt processing and generation speed, like llama-bench.")

    @Option(name: [.short, .long], help: "Language model GGUF file.")
    var model: String?
    @Option(name: [.short, .long], help: "Threads (default: all cores).")
    var threads: Int?
    @Option(name: [.customShort("p"), .customLong("n-prompt")], help: "Prompt tokens for the pp test.")
    var nPrompt: Int = 512
    @Option(name: [.customShort("n"), .customLong("n-gen")], help: "Generated tokens for the tg test.")
    var nGen: Int = 128
    @Option(name: [.customShort("r"), .customLong("repetitions")], help: "Runs of each test; the mean is reported.")
    var repetitions: Int = 3
    @Flag(help: "Print one JSON object.")
    var json = false
    @Flag(help: "Also time one matrix-vector product per weight tensor type (what decoding is made of).")
    var kernels = false
    @Option(help: "Time the image encoder of this vision projector (mmproj) instead of the language model.")
    var mmproj: String?
    @Option(help: "The image to encode with --mmproj (default: a synthetic one).")
    var image: String?

    func run() throws {
        let threads = self.threads ?? ProcessInfo.processInfo.activeProcessorCount
        let pool = ThreadPool(threads: threads)
        BLAS.useSingleThread()
        if let mmproj { return try benchImageEncoder(mmproj, pool: pool, threads: threads) }
        let lm: LanguageModel
        do { lm = try LanguageModel(path: try ModelCatalog.current().resolve(model).path) } catch { throw fail("\(error)") }
        lm.file.adviseWillNeed()
        let decoder = lm.makeDecoder(pool: pool)
        let cache = decoder.makeCache(capacity: nPrompt + nGen + 1)
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: lm.vocabularySize)
        defer { logits.deallocate() }
        var rng = SystemRandomNumberGenerator()
        let prompt = (0 ..< nPrompt).map { _ in Int32.random(in: 0 ..< Int32(lm.vocabularySize), using: &rng) }

        func time(_ body: () throws -> Void) rethrows -> Double { try Bench.time(body) }
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
        if kernels { timeKernels(lm, pool: pool) }
        let ppMean = pp.isEmpty ? 0 : pp.reduce(0, +) / Double(pp.count)
        let tgMean = tg.isEmpty ? 0 : tg.reduce(0, +) / Double(tg.count)
        if json {
            print(String(format: "{\"pp_tokens_per_second\": %.2f, \"tg_tokens_per_second\": %.2f, \"threads\": %d, \"kernels\": \"%@\"}",
                         ppMean, tgMean, threads, Kernels.level.name))
        } else {
            let name = (try ModelCatalog.current().resolve(model).path).split(separator: "/").last.map(String.init) ?? ""
            print("kernels: \(Kernels.choice)")
            print("| model | threads | test | t/s |")
            print("| --- | ---: | --- | ---: |")
            if nPrompt > 0 { print(String(format: "| %@ | %d | pp%d | %.2f |", name, threads, nPrompt, ppMean)) }
            if nGen > 0 { print(String(format: "| %@ | %d | tg%d | %.2f |", name, threads, nGen, tgMean)) }
        }
    }
}

extension Bench {
    static func time(_ body: () throws -> Void) rethrows -> Double {
        let t = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
    }

    /// For each tensor type, the largest 2-D weight: best-of-20 time of y = W·x and the bytes streamed per second.
    func timeKernels(_ lm: LanguageModel, pool: ThreadPool) {
        var largest: [GGMLType: GGUFTensorInfo] = [:]
        for t in lm.file.tensors where t.shape.count == 2 && t.byteCount > (largest[t.type]?.byteCount ?? 0) {
            largest[t.type] = t
        }
        let scratch = QuantizedActivation()
        let memory = Bench.memoryReadRate(pool: pool)
        print("kernels: \(Kernels.choice)")
        print(String(format: "memory read: %.1f GB/s (512 MiB, beyond the caches, same threads)", memory))
        print("| tensor | type | shape | ms | GB/s | of memory read |")
        print("| --- | --- | --- | ---: | ---: | ---: |")
        for (_, info) in largest.sorted(by: { $0.value.byteCount > $1.value.byteCount }) {
            let w = lm.file.view(info.name)!
            let x = (0 ..< w.rowLength).map { _ in Float.random(in: -1 ... 1) }
            var y = [Float](repeating: 0, count: w.rowCount)
            var best = Double.infinity
            for _ in 0 ..< 20 {
                let s = Bench.time {
                    x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { MatMul.vector(w, xp.baseAddress!, $0.baseAddress!, scratch: scratch, pool: pool) }
                    }
                }
                best = min(best, s)
            }
            // A tensor smaller than the caches is read from them here, so its rate says how fast the kernel
            // computes; 100% of the memory read rate or more means decoding waits on memory, not on it.
            let rate = Double(info.byteCount) / best / 1e9
            print(String(format: "| %@ | %@ | %@ | %.3f | %.1f | %.0f%% |", info.name, info.type.description, "\(info.shape)",
                         best * 1000, rate, 100 * rate / memory))
        }
    }

    /// Best of 5 reads of a 512 MiB buffer split over the pool's threads, in GB/s.
    static func memoryReadRate(pool: ThreadPool) -> Double {
        let bytes = 512 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { buffer.deallocate() }
        memset(buffer, 1, bytes)
        var best = Double.infinity
        for _ in 0 ..< 5 {
            best = min(best, time {
                pool.parallelRanges(bytes / 64, grain: 4096) { range in
                    sink.add(glimpse_stream_read(buffer + range.lowerBound * 64, range.count * 64))
                }
            })
        }
        return Double(bytes) / best / 1e9
    }
}

/// Keeps the checksums of `glimpse_stream_read` alive.
private final class Sink: @unchecked Sendable {
    private let value = Atomic<UInt64>(0)
    func add(_ v: UInt64) { value.store(value.load(ordering: .relaxed) ^ v, ordering: .relaxed) }
}
private let sink = Sink()

extension Bench {
    /// Best-of-N time of preprocessing, encoding and projecting one image.
    func benchImageEncoder(_ path: String, pool: ThreadPool, threads: Int) throws {
        let vision: VisionModel
        let picture: RGBImage
        do {
            vision = try VisionModel(path: path)
            picture = try image.map { try ImageDecoder.load(path: $0) } ?? Self.syntheticImage()
        } catch { throw fail("\(error)") }
        vision.file.adviseWillNeed()
        _ = vision.embed(picture, pool: pool)  // warm-up
        if vision.ownsImagePath {
            return benchImagePath(vision, picture, path: path, pool: pool, threads: threads)
        }
        if vision.tilesImages { return benchWholeImage(vision, picture, path: path, pool: pool, threads: threads) }
        // Where the time goes: preprocessing, the encoder's blocks, the projector (a Q-Former is 12 layers of its own).
        var best = Double.infinity, bestEncoder = Double.infinity, bestProjector = Double.infinity
        for _ in 0 ..< max(repetitions, 3) {
            var hidden: [Float] = []
            let total = Bench.time {
                let pixels = vision.preprocessor.tensor(picture)
                bestEncoder = min(bestEncoder, Bench.time { hidden = vision.hiddenStates(pixels, pool: pool) })
                bestProjector = min(bestProjector, Bench.time { _ = vision.project(hiddenStates: hidden, pool: pool) })
            }
            best = min(best, total)
        }
        if json {
            print(String(format: "{\"image_encode_ms\": %.1f, \"encoder_ms\": %.1f, \"projector_ms\": %.1f, \"image_tokens\": %d, \"threads\": %d}",
                         best * 1000, bestEncoder * 1000, bestProjector * 1000, vision.tokensPerImage, threads))
        } else {
            print(String(format: "%@: %d image tokens, %.1f ms per image (encoder %.1f ms, projector %@ %.1f ms; best of %d, %d threads)",
                         (path as NSString).lastPathComponent, vision.tokensPerImage, best * 1000, bestEncoder * 1000,
                         vision.projectorType, bestProjector * 1000, max(repetitions, 3), threads))
        }
    }

    /// A projector that owns the image path (Mini-Gemini): best-of-N of each part it reports.
    func benchImagePath(_ vision: VisionModel, _ picture: RGBImage, path: String, pool: ThreadPool, threads: Int) {
        var best = Double.infinity
        var parts: [String: Double] = [:], order: [String] = []
        for _ in 0 ..< max(repetitions, 3) {
            var timed: [(String, Double)] = []
            let total = Bench.time { timed = vision.timedEmbed(pixels: vision.preprocessor.tensor(picture), pool: pool)!.parts }
            best = min(best, total)
            for (name, seconds) in timed {
                if parts[name] == nil { order.append(name) }
                parts[name] = min(parts[name] ?? .infinity, seconds)
            }
        }
        if json {
            let fields = order.map { String(format: "\"%@_ms\": %.1f", $0, parts[$0]! * 1000) }.joined(separator: ", ")
            print(String(format: "{\"image_encode_ms\": %.1f, %@, \"image_tokens\": %d, \"threads\": %d}",
                         best * 1000, fields, vision.tokensPerImage, threads))
        } else {
            let fields = order.map { String(format: "%@ %.1f ms", $0, parts[$0]! * 1000) }.joined(separator: ", ")
            print(String(format: "%@: %d image tokens, %.1f ms per image (%@; best of %d, %d threads)",
                         (path as NSString).lastPathComponent, vision.tokensPerImage, best * 1000, fields,
                         max(repetitions, 3), threads))
        }
    }

    /// Projectors whose views and token count follow the image (SmolVLM's tiles, Qwen2-VL's own resolution): the
    /// whole of `embed`, every view included.
    func benchWholeImage(_ vision: VisionModel, _ picture: RGBImage, path: String, pool: ThreadPool, threads: Int) {
        var best = Double.infinity
        for _ in 0 ..< max(repetitions, 3) { best = min(best, Bench.time { _ = vision.embed(picture, pool: pool) }) }
        let tokens = vision.layout(width: picture.width, height: picture.height).embeddingCount
        let views = vision.views(of: picture)
        if json {
            print(String(format: "{\"image_encode_ms\": %.1f, \"image_tokens\": %d, \"views\": %d, \"threads\": %d}",
                         best * 1000, tokens, views.count, threads))
        } else {
            print(String(format: "%@: %d image tokens from %d view(s) of %dx%d, %.1f ms per image (best of %d, %d threads)",
                         (path as NSString).lastPathComponent, tokens, views.count, views[0].width, views[0].height,
                         best * 1000, max(repetitions, 3), threads))
        }
    }

    static func syntheticImage() -> RGBImage {
        var img = RGBImage(width: 640, height: 480, fill: (120, 120, 120))
        for y in 0 ..< 480 { for x in 0 ..< 640 {
            let i = 3 * (y * 640 + x)
            img.pixels[i] = UInt8(x % 256); img.pixels[i + 1] = UInt8(y % 256); img.pixels[i + 2] = UInt8((x + y) % 256)
        } }
        return img
    }
}
