import Engine
import Foundation
import Models
import OpenAI
import Remote
import Tasks
import UI

/// A model ready to answer, local or remote, with what the panes and `ask` need to know of it.
struct LoadedModel {
    let engine: any GenerationEngine
    /// The chat template it answers in (the server's, for `glimpse serve`; nil for a server that does not say).
    let template: ChatTemplate?
    let hasVision: Bool
    let imageTokens: Int?
    /// What the user should read before asking (a projector's limits, a key variable that is not set).
    let notes: [String]

    var tasks: [TaskMode] {
        TaskMode.offered(understandsTaskTags: template?.understandsTaskTags ?? false, isMiniGemini: template?.isMiniGemini ?? false)
    }
}

enum ModelLoading {
    /// Loads `entry` into `engine`: a local `Engine` reads the files, a `RemoteEngine` checks that its server
    /// answers and serves the model. `mmproj` and `template` override the entry's.
    static func load(_ entry: ModelEntry, into engine: any GenerationEngine, mmproj: String? = nil,
                     template: ChatTemplate? = nil, contextSize: Int = 4096) async throws -> LoadedModel {
        let chosen = template ?? entry.template.flatMap(ChatTemplate.init(rawValue:))
        if let remote = engine as? RemoteEngine {
            let info = try await remote.check()
            // A model served by `glimpse serve` says its template; the configuration's wins (it knows the checkpoint).
            let served = info.glimpse.flatMap { ChatTemplate(rawValue: $0.template) }
            return LoadedModel(engine: remote, template: chosen ?? served, hasVision: info.glimpse?.vision ?? true,
                               imageTokens: info.glimpse?.image_tokens, notes: remote.notes)
        }
        guard let local = engine as? Engine else { throw CatalogError("\(entry.name): no engine can run it") }
        let summary = try await local.load(path: entry.path, mmproj: mmproj ?? entry.mmproj, template: chosen, contextSize: contextSize)
        return LoadedModel(engine: local, template: summary.template, hasVision: summary.visionProjector != nil,
                           imageTokens: summary.imageTokens, notes: summary.notes)
    }

    /// The engine an entry runs on: its server's, or a new local one.
    static func engine(for entry: ModelEntry, threads: Int) -> any GenerationEngine {
        entry.remote.map(remoteEngine) ?? Engine(threads: threads)
    }

    /// The engine for a remote model, its key read from the environment variable the configuration names.
    static func remoteEngine(_ remote: RemoteModel) -> RemoteEngine {
        var notes: [String] = []
        var key: String? = nil
        if let variable = remote.apiKeyEnv {
            key = ProcessInfo.processInfo.environment[variable]
            if key?.isEmpty ?? true { notes.append("$\(variable) is not set: \(remote.host) gets no API key") }
        }
        let endpoint = RemoteEndpoint(baseURL: remote.url, model: remote.model, apiKey: key, timeout: remote.timeout ?? 120)
        return RemoteEngine(endpoint, keyVariable: remote.apiKeyEnv, notes: notes)
    }
}
