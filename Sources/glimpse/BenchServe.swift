import ArgumentParser
import Engine
import Foundation
import Models
import OpenAI
import Remote
import Server
import UI
import Vision

/// `glimpse bench-serve`: `glimpse serve` on a model (in this process, on a localhost port), with N concurrent
/// clients: requests per second and time to the first token; and what a remote pane adds to the first token
/// against the same model in-process.
struct BenchServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-serve", abstract: "Measure glimpse serve: requests/s and first-token time for N clients, and a remote pane's overhead.")

    @Option(name: [.short, .long], help: "Model to serve (default: the built-in shapes).")
    var model: String?
    @Option(help: "Client counts to measure, comma-separated.")
    var clients = "1,4,16"
    @Option(help: "Requests per client.")
    var requests = 8
    @Option(help: "Runs for the overhead figure (medians are printed).")
    var runs = 20
    @Option(help: "An image to send with each question.")
    var image = "examples/three-shapes.png"

    func run() async throws {
        let entry: ModelEntry
        do { entry = try ModelCatalog.current().resolve(model) } catch { throw fail("\(error)") }
        let picture: RGBImage
        do { picture = try ImageDecoder.load(path: image) } catch { throw fail("\(error)") }
        let counts = clients.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
        guard !counts.isEmpty, requests > 0, runs > 0 else { throw fail("--clients, --requests and --runs must be positive") }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let local = Engine(threads: cores), served = Engine(threads: cores)
        let summary: Engine.ModelSummary
        do {
            summary = try await local.load(path: entry.path, mmproj: entry.mmproj, contextSize: 2048)
            try await served.load(path: entry.path, mmproj: entry.mmproj, contextSize: 2048)
        } catch { throw fail("\(error)") }
        let images = summary.visionProjector == nil ? [] : [picture]
        let request = GenerationRequest(prompt: .chat([ChatMessage(.user, "[caption] describe the image briefly")]), images: images,
                                        sampling: .greedy, maxTokens: 32)
        let info = GlimpseModelInfo(template: summary.template.rawValue, vision: !images.isEmpty, image_tokens: summary.imageTokens)
        let server = ChatServer(models: [ServedModel(name: entry.name, engine: served, info: info, sampling: .greedy)],
                                settings: ServerSettings(port: 0, queueDepth: max(64, counts.max()! * 2)))
        let (ports, portOut) = AsyncStream.makeStream(of: Int.self)
        let serving = Task { try await server.run { portOut.yield($0) } }
        defer { serving.cancel() }
        var port = 0
        for await p in ports { port = p; break }
        let endpoint = RemoteEndpoint(baseURL: "http://127.0.0.1:\(port)/v1", model: entry.name)
        print("model \(entry.name) (\(entry.path)), \(cores) threads, \(images.isEmpty ? "text only" : "one \(picture.width)x\(picture.height) image") per request, 32 tokens at most, greedy")

        // First token: in-process against through the server, alternating, each warm (image embedding and prompt
        // prefix cached on both sides, as in a conversation's next turn).
        let remote = RemoteEngine(endpoint)
        _ = try await Self.firstToken(local, request)
        _ = try await Self.firstToken(remote, request)
        var here: [Double] = [], there: [Double] = []
        for _ in 0 ..< runs {
            here.append(try await Self.firstToken(local, request))
            there.append(try await Self.firstToken(remote, request))
        }
        let (h, t) = (Self.median(here), Self.median(there))
        print(String(format: "\nfirst token, median of %d: in-process %.2f ms, remote pane on localhost %.2f ms: %.2f ms added (target under 5 ms)",
                     runs, h * 1000, t * 1000, (t - h) * 1000))

        print("\n| clients | requests | seconds | requests/s | first token median ms | first token p90 ms | refused |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for n in counts {
            let start = Date()
            let results = try await withThrowingTaskGroup(of: [Double?].self) { group in
                for _ in 0 ..< n {
                    group.addTask {
                        let client = RemoteEngine(endpoint, attempts: 1)
                        var firsts: [Double?] = []
                        for _ in 0 ..< requests { firsts.append(try? await Self.firstToken(client, request)) }
                        return firsts
                    }
                }
                var all: [Double?] = []
                for try await r in group { all += r }
                return all
            }
            let seconds = Date().timeIntervalSince(start)
            let done = results.compactMap { $0 }.sorted()
            let p90 = done.isEmpty ? 0 : done[min(done.count - 1, Int(Double(done.count) * 0.9))]
            print(String(format: "| %d | %d | %.2f | %.1f | %.1f | %.1f | %d |", n, results.count, seconds, Double(done.count) / seconds,
                         Self.median(done) * 1000, p90 * 1000, results.count - done.count))
        }
    }

    /// Seconds to the first token of a whole answer (the answer is read to its end).
    static func firstToken(_ engine: any GenerationEngine, _ request: GenerationRequest) async throws -> Double {
        var first: Double?
        let start = DispatchTime.now().uptimeNanoseconds
        for await event in await engine.generate(request) {
            switch event {
            case .token: if first == nil { first = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
            case .failed(let m): throw EngineError(m)
            default: break
            }
        }
        guard let first else { throw EngineError("the answer had no text") }
        return first
    }

    static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
