import ArgumentParser
import Foundation
import GGUF
import Remote
import UI

/// `glimpse models`: what the app would offer, where each model comes from, and why files were skipped.
struct Models: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "List the models Glimpse finds (built in, config.toml, models folder, servers) and why files were skipped.")

    @Option(help: "Instead, list the models an OpenAI-compatible server offers (e.g. http://localhost:8080/v1).")
    var server: String?

    func run() async throws {
        if let server { return try await listServer(server) }
        let catalog = ModelCatalog.current()
        let configPath = Configuration.defaultPath()
        print("config: \(configPath)\(FileManager.default.fileExists(atPath: configPath) ? "" : " (none)")")
        print("models folder: \(catalog.folder)")
        let defaultName = (try? catalog.resolve(nil))?.name
        print("")
        print("| model | from | architecture | size | vision | file |")
        print("| --- | --- | --- | ---: | --- | --- |")
        var remotes: [ModelEntry] = []
        for e in catalog.discover(extra: []) {
            if e.remote != nil { remotes.append(e); continue }
            let from = e.name == ModelCatalog.builtInName && e.path == ModelCatalog.builtIn?.path ? "built in"
                : catalog.config.models.contains(where: { $0.name == e.name }) ? "config" : "folder"
            var arch = "?", size = "?"
            do {
                let f = try GGUFFile(path: e.path)
                arch = f["general.architecture"]?.string ?? "?"
                let real = URL(fileURLWithPath: e.path).resolvingSymlinksInPath().path
                let bytes = (try? FileManager.default.attributesOfItem(atPath: real)[.size] as? Int) ?? 0
                size = String(format: "%.1f MB", Double(bytes) / 1e6)
            } catch {
                arch = "unreadable: \(error)"
            }
            let vision = e.mmproj.map { ($0 as NSString).lastPathComponent } ?? "text only"
            let name = e.name + (e.name == defaultName ? " (default)" : "")
            print("| \(name) | \(from) | \(arch) | \(size) | \(vision) | \(e.path) |")
        }
        if !remotes.isEmpty {
            print("\n| model | server | served model | status |")
            print("| --- | --- | --- | --- |")
            // Checked together: a dead server costs its connect timeout once, not once per model.
            let statuses = await withTaskGroup(of: (Int, String).self) { group in
                for (i, e) in remotes.enumerated() {
                    group.addTask { (i, await Self.status(of: e.remote!)) }
                }
                var all = [String](repeating: "", count: remotes.count)
                for await (i, s) in group { all[i] = s }
                return all
            }
            for (e, status) in zip(remotes, statuses) {
                let name = e.name + (e.name == defaultName ? " (default)" : "")
                print("| \(name) | \(e.remote!.url) | \(e.remote!.model) | \(status) |")
            }
        }
        let skipped = catalog.folderFiles().skipped
        if !skipped.isEmpty {
            print("\nskipped in the models folder:")
            for s in skipped { print("  \(s.file): \(s.reason)") }
        }
        for named in catalog.config.models where named.remote == nil && !FileManager.default.fileExists(atPath: named.path) {
            print("config model '\(named.name)': \(named.path) does not exist")
        }
        if !catalog.config.problems.isEmpty {
            print("\nproblems in the configuration (the rest still applies):")
            for p in catalog.config.problems { print("  \(p)") }
        }
    }

    /// "ready (vision, minigptv2)" or why not, from the server's /models.
    static func status(of remote: RemoteModel) async -> String {
        let engine = ModelLoading.remoteEngine(remote)
        do {
            let info = try await engine.check()
            guard let g = info.glimpse else { return "ready" }
            return "ready (\(g.vision ? "vision" : "text only"), \(g.template))"
        } catch {
            return "\(error)".replacingOccurrences(of: "|", with: "/")
        }
    }

    func listServer(_ url: String) async throws {
        if let why = Configuration.remoteURLProblem(url) { throw fail(why) }
        let engine = ModelLoading.remoteEngine(RemoteModel(url: url, model: ""))
        do {
            let models = try await engine.listModels()
            if models.isEmpty { print("\(url) lists no models") }
            for m in models { print("\(url)#\(m.id)") }
        } catch {
            throw fail("\(error)")
        }
    }
}
