import ArgumentParser
import Foundation
import GGUF
import UI

/// `glimpse models`: what the app would offer, where each model comes from, and why files were skipped.
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "List the models Glimpse finds (built in, config.toml, models folder) and why files were skipped.")

    func run() throws {
        let catalog = ModelCatalog.current()
        let configPath = Configuration.defaultPath()
        print("config: \(configPath)\(FileManager.default.fileExists(atPath: configPath) ? "" : " (none)")")
        print("models folder: \(catalog.folder)")
        let defaultName = (try? catalog.resolve(nil))?.name
        print("")
        print("| model | from | architecture | size | vision | file |")
        print("| --- | --- | --- | ---: | --- | --- |")
        for e in catalog.discover(extra: []) {
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
        let skipped = catalog.folderFiles().skipped
        if !skipped.isEmpty {
            print("\nskipped in the models folder:")
            for s in skipped { print("  \(s.file): \(s.reason)") }
        }
        for named in catalog.config.models where !FileManager.default.fileExists(atPath: named.path) {
            print("config model '\(named.name)': \(named.path) does not exist")
        }
        if !catalog.config.problems.isEmpty {
            print("\nproblems in the configuration (the rest still applies):")
            for p in catalog.config.problems { print("  \(p)") }
        }
    }
}
