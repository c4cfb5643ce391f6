import ArgumentParser
import Engine
import Foundation
import Models
import UI

/// `glimpse bench-panes`: two panes generating at once, as the comparison view runs them (one engine per pane,
/// the cores split evenly), against one pane alone with every core; and the memory the second pane adds.
struct BenchPanes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-panes", abstract: "Measure two panes generating at once against one pane alone.")

    @Option(name: [.short, .long], help: "Model (default: gemma-3-270m-q4_k_m from the models folder).")
    var model = "gemma-3-270m-q4_k_m"
    @Option(name: .short, help: "Tokens to generate per pane.")
    var n = 128
    @Option(help: "Runs of each measurement (the best is kept).")
    var runs = 3

    func run() async throws {
        let entry: ModelEntry
        do { entry = try ModelCatalog.current().resolve(model) } catch { throw fail("\(error)") }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let request = GenerationRequest(prompt: .raw("The three most useful things to know about the sea are"),
                                        sampling: .greedy, maxTokens: n)
        let rss0 = residentMB()
        let alone = Engine(threads: cores)
        try await alone.load(path: entry.path, contextSize: 1024)
        let rss1 = residentMB()
        var single = 0.0
        for _ in 0 ..< runs { single = max(single, try await Self.generate(alone, request).tokensPerSecond) }
        await alone.stopRunning()

        let panes = [Engine(threads: max(1, cores / 2)), Engine(threads: max(1, cores / 2))]
        try await panes[0].load(path: entry.path, contextSize: 1024)
        let rss2 = residentMB()
        try await panes[1].load(path: entry.path, contextSize: 1024)
        let rss3 = residentMB()
        var best = (0.0, 0.0)
        for _ in 0 ..< runs {
            async let a = Self.generate(panes[0], request)
            async let b = Self.generate(panes[1], request)
            let (sa, sb) = try await (a, b)
            if sa.tokensPerSecond + sb.tokensPerSecond > best.0 + best.1 { best = (sa.tokensPerSecond, sb.tokensPerSecond) }
        }
        print("| \(entry.name), \(cores) cores, \(n) tokens | tokens/s |")
        print("| --- | ---: |")
        print(String(format: "| one pane alone (%d threads) | %.1f |", cores, single))
        print(String(format: "| two panes at once: pane A (%d thread%@) | %.1f |", max(1, cores / 2), cores / 2 == 1 ? "" : "s", best.0))
        print(String(format: "| two panes at once: pane B | %.1f |", best.1))
        print(String(format: "| two panes: sum | %.1f (%.2fx one pane) |", best.0 + best.1, (best.0 + best.1) / max(single, 1e-9)))
        print(String(format: "\nprivate memory: one engine adds %.0f MB, a second engine on the same file %.0f MB more "
                     + "(its KV cache and buffers; the %.0f MB of weights are file pages, not private memory)",
                     rss1 - rss0, rss3 - rss2, fileMB(entry.path)))
        print("mappings of \((entry.path as NSString).lastPathComponent) with three engines open: \(mappings(of: entry.path))")
    }

    static func generate(_ engine: Engine, _ request: GenerationRequest) async throws -> GenerationStats {
        var stats = GenerationStats()
        for await event in await engine.generate(request) {
            if case .finished(_, let s) = event { stats = s }
            if case .failed(let m) = event { throw EngineError(m) }
        }
        await engine.resetConversation()
        return stats
    }

    /// Private (anonymous) resident memory: what an engine allocates itself. The weights are file pages of the
    /// page cache, shared by every mapping of the file, so they are not in it.
    func residentMB() -> Double {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") } ?? ""
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }

    /// Mappings of the file in this process (/proc/self/maps lists each read-only mmap of it as one line).
    func mappings(of path: String) -> Int {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let maps = (try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)) ?? ""
        return maps.split(separator: "\n").filter { $0.hasSuffix(" " + real) }.count
    }

    func fileMB(_ path: String) -> Double {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        return Double((try? FileManager.default.attributesOfItem(atPath: real)[.size] as? Int) ?? 0) / 1e6
    }
}
