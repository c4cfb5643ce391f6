import ArgumentParser
import Engine
import Foundation
import Models
import OpenAI
import Server
import UI

/// `glimpse serve`: Glimpse's models (MiniGPT-v2, MiniGPT-4, Mini-Gemini, shapes, any GGUF it runs) behind the
/// OpenAI chat-completions API, for other tools, other machines, and Glimpse's own remote panes.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve models over the OpenAI API: /v1/chat/completions (streamed or not, with images), /v1/models, /health.")

    @Option(name: [.short, .long], help: "A model to serve (repeatable): a name, a GGUF path. Default: the default model.")
    var model: [String] = []
    @Option(help: "Address to listen on (0.0.0.0 for every interface: then set --api-key).")
    var host = "127.0.0.1"
    @Option(help: "Port (0: any free port, printed).")
    var port = 8080
    @Option(help: "Require this key (Authorization: Bearer KEY) on /v1 requests; or set GLIMPSE_API_KEY.")
    var apiKey: String?
    @Option(help: "Requests that may wait per model while it answers another; more get 503.")
    var queue = 8
    @Option(name: [.short, .long], help: "Threads per model (default: all cores).")
    var threads: Int?
    @Option(name: [.short, .customLong("ctx-size")], help: "Context size in tokens.")
    var ctxSize: Int = 4096

    func validate() throws {
        guard (0 ... 65535).contains(port) else { throw fail("--port must be from 0 to 65535") }
        guard queue >= 0 else { throw fail("--queue must be 0 or more") }
        if let threads, threads < 1 { throw fail("--threads must be at least 1") }
        guard ctxSize >= 16 else { throw fail("--ctx-size must be at least 16") }
    }

    func run() async throws {
        let catalog = ModelCatalog.current()
        for problem in catalog.config.problems { FileHandle.standardError.write(Data("glimpse: warning: \(problem)\n".utf8)) }
        let names: [String?] = model.isEmpty ? [nil] : model
        var served: [ServedModel] = []
        for name in names {
            let entry: ModelEntry
            do { entry = try catalog.resolve(name) } catch { throw fail("\(error)") }
            if let remote = entry.remote { throw fail("\(entry.name) runs on \(remote.host): serve local models (a pane can use that server directly)") }
            if served.contains(where: { $0.name == entry.name }) { throw fail("\(entry.name) is named twice") }
            let engine = Engine(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
            let summary: Engine.ModelSummary
            do {
                summary = try await engine.load(path: entry.path, mmproj: entry.mmproj,
                                                template: entry.template.flatMap(ChatTemplate.init(rawValue:)), contextSize: ctxSize)
            } catch { throw fail("\(error)") }
            for note in summary.notes { FileHandle.standardError.write(Data("glimpse: note: \(entry.name): \(note)\n".utf8)) }
            var sampling = SamplingParameters()
            var maxTokens = 512
            if let s = entry.settings {
                sampling.temperature = s.temperature
                sampling.topP = s.topP
                sampling.topK = s.topK
                sampling.seed = s.seed
                maxTokens = s.maxTokens
            }
            served.append(ServedModel(name: entry.name, engine: engine,
                                      info: GlimpseModelInfo(template: summary.template.rawValue, vision: summary.visionProjector != nil,
                                                             image_tokens: summary.imageTokens),
                                      sampling: sampling, maxTokens: maxTokens))
        }
        let key = apiKey ?? ProcessInfo.processInfo.environment["GLIMPSE_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        if key == nil && !["127.0.0.1", "localhost", "::1"].contains(host) {
            FileHandle.standardError.write(Data("glimpse: warning: serving on \(host) with no --api-key: anyone who can reach it can use it\n".utf8))
        }
        let server = ChatServer(models: served, settings: ServerSettings(host: host, port: port, apiKey: key, queueDepth: queue))
        let host = self.host
        let models = served.map(\.name).joined(separator: ", ")
        do {
            try await server.run(handlingSignals: true) { port in
                let shown = host.contains(":") ? "[\(host)]" : host
                // One line a script can wait for (the tests read the port from it).
                FileHandle.standardOutput.write(Data("glimpse serve: listening on http://\(shown):\(port)/v1 (models: \(models))\n".utf8))
            }
        } catch {
            throw fail("cannot serve on \(host):\(port): \(error)")
        }
    }
}
