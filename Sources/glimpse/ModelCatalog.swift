import Foundation
import GGUF
import UI

/// Where models come from: the built-in `shapes` model shipped in the checkout's `models/`, the named models of
/// config.toml, the models folder (each language model paired with its vision projector, `ProjectorPairing`), and
/// names or paths given by the user.
struct ModelCatalog {
    static let builtInName = "shapes"
    let config: Configuration

    /// The catalog of the user's configuration file (problems in it are in `config.problems`).
    static func current() -> ModelCatalog {
        ModelCatalog(config: Configuration.load(path: Configuration.defaultPath()))
    }

    var folder: String {
        ProcessInfo.processInfo.environment["GLIMPSE_MODELS"] ?? config.modelsFolder
            ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/glimpse/models"
    }

    /// The folder holding `shapes.gguf`: $GLIMPSE_BUILTIN_MODELS, else `models/` next to the executable or up to
    /// three folders above it (`.build/release/glimpse` in a checkout), else the checkout this was built from.
    static var builtInFolder: String? {
        let fm = FileManager.default
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["GLIMPSE_BUILTIN_MODELS"] { candidates.append(env) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0 ..< 4 {
            candidates.append(dir.appendingPathComponent("models").path)
            candidates.append(dir.appendingPathComponent("share/glimpse/models").path)
            dir = dir.deletingLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("models").path)
        return candidates.first { fm.fileExists(atPath: "\($0)/\(builtInName).gguf") }
    }

    static var builtIn: ModelEntry? {
        builtInFolder.map { entry(name: builtInName, path: "\($0)/\(builtInName).gguf") }
    }

    static func entry(name: String, path: String) -> ModelEntry {
        ModelEntry(name: name, path: path, mmproj: mmproj(for: path))
    }

    /// The vision projector beside a language model, by `ProjectorPairing`'s rules.
    static func mmproj(for path: String) -> String? {
        let folder = (path as NSString).deletingLastPathComponent
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        let name = (path as NSString).lastPathComponent
        return ProjectorPairing.projector(for: name, among: files) { isProjector((folder as NSString).appendingPathComponent($0)) }
            .map { (folder as NSString).appendingPathComponent($0) }
    }

    /// Whether a file is an mmproj (a GGUF of architecture `clip`).
    static func isProjector(_ path: String) -> Bool {
        (try? GGUFFile(path: path))?["general.architecture"]?.string == "clip"
    }

    /// The model named on the command line, else config.toml's default_model, else $GLIMPSE_MODEL, else `shapes`.
    func resolve(_ nameOrPath: String?) throws -> ModelEntry {
        let wanted = nameOrPath ?? config.defaultModel ?? ProcessInfo.processInfo.environment["GLIMPSE_MODEL"] ?? Self.builtInName
        if let named = config.models.first(where: { $0.name == wanted }) {
            var e = named
            if e.mmproj == nil && e.remote == nil { e.mmproj = Self.mmproj(for: e.path) }
            return e
        }
        if let remote = try Self.remoteReference(wanted) {
            var e = ModelEntry(name: remote.model, path: remote.reference)
            e.remote = remote
            return e
        }
        if wanted == Self.builtInName {
            guard let builtIn = Self.builtIn else {
                throw CatalogError("the built-in model 'shapes' is missing: models/shapes.gguf was not found next to the program "
                                   + "(set GLIMPSE_BUILTIN_MODELS to the folder holding it)")
            }
            return builtIn
        }
        let fm = FileManager.default
        let path = (wanted as NSString).expandingTildeInPath
        if fm.fileExists(atPath: path) {
            return Self.entry(name: ((path as NSString).lastPathComponent as NSString).deletingPathExtension, path: path)
        }
        if wanted.contains("/") || wanted.hasSuffix(".gguf") { throw CatalogError("\(wanted): cannot open: no such file") }
        let inFolder = "\(folder)/\(wanted).gguf"
        if !wanted.contains("/"), fm.fileExists(atPath: inFolder) { return Self.entry(name: wanted, path: inFolder) }
        throw CatalogError("\(wanted): no such model file, and no model of that name (known: \(discover(extra: []).map(\.name).joined(separator: ", ")))")
    }

    /// `http://host:port/v1#MODEL`: a model on an OpenAI-compatible server, for one-off use (nil for anything else).
    static func remoteReference(_ text: String) throws -> RemoteModel? {
        let lower = text.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return nil }
        guard let hash = text.lastIndex(of: "#"), !text[text.index(after: hash)...].isEmpty else {
            throw CatalogError("\(text): name the server's model after a # (e.g. \(text)#llava); `glimpse models --server \(text)` lists them")
        }
        let url = String(text[..<hash])
        if let why = Configuration.remoteURLProblem(url) { throw CatalogError(why) }
        return RemoteModel(url: url, model: String(text[text.index(after: hash)...]))
    }

    /// `extra` (names or paths) first, then the built-in model, the configured models and the models folder.
    func discover(extra: [String]) -> [ModelEntry] {
        var entries = extra.map { (try? resolve($0)) ?? Self.entry(name: ($0 as NSString).lastPathComponent, path: $0) }
        func add(_ e: ModelEntry) {
            if !entries.contains(where: { $0.name == e.name || ($0.path == e.path && $0.settings == e.settings) }) { entries.append(e) }
        }
        if let builtIn = Self.builtIn { add(builtIn) }
        for named in config.models { add((try? resolve(named.name)) ?? named) }
        for file in folderFiles().usable { add(Self.entry(name: (file as NSString).deletingPathExtension, path: "\(folder)/\(file)")) }
        return entries
    }

    /// The models folder's `.gguf` files: those offered, and the others with the reason they are not.
    func folderFiles() -> (usable: [String], skipped: [(file: String, reason: String)]) {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        var usable: [String] = [], skipped: [(String, String)] = [], projectors: [String] = []
        for file in files {
            let path = "\(folder)/\(file)"
            guard file.hasSuffix(".gguf") else {
                if !file.hasPrefix(".") { skipped.append((file, "not a .gguf file")) }
                continue
            }
            do {
                let f = try GGUFFile(path: path)
                let arch = f["general.architecture"]?.string ?? "none"
                if arch == "clip" { projectors.append(file); continue }
                usable.append(file)
            } catch {
                skipped.append((file, "\(error)"))
            }
        }
        let paired = Set(usable.compactMap { ProjectorPairing.projector(for: $0, among: files) { projectors.contains($0) } })
        for file in projectors where !paired.contains(file) {
            skipped.append((file, "a vision projector that no language model here pairs with (name it MODEL-mmproj.gguf next to "
                                  + "MODEL.gguf, or give it as mmproj in config.toml)"))
        }
        return (usable, skipped)
    }
}

struct CatalogError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
