import Foundation
import UI

/// Where models come from: the built-in `shapes` model shipped in the checkout's `models/`, the models folder
/// (each `X.gguf` paired with `X-mmproj.gguf` when present), and names or paths given by the user.
enum ModelCatalog {
    static let builtInName = "shapes"

    static var folder: String {
        ProcessInfo.processInfo.environment["GLIMPSE_MODELS"]
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

    static func mmproj(for path: String) -> String? {
        let candidate = (path as NSString).deletingPathExtension + "-mmproj.gguf"
        return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
    }

    /// A model by name (`shapes`, or a file in the models folder without `.gguf`) or by path.
    static func resolve(_ nameOrPath: String?) throws -> ModelEntry {
        let wanted = nameOrPath ?? ProcessInfo.processInfo.environment["GLIMPSE_MODEL"] ?? builtInName
        if wanted == builtInName {
            guard let builtIn else {
                throw CatalogError("the built-in model 'shapes' is missing: models/shapes.gguf was not found next to the program "
                                   + "(set GLIMPSE_BUILTIN_MODELS to the folder holding it)")
            }
            return builtIn
        }
        let fm = FileManager.default
        if fm.fileExists(atPath: wanted) {
            return entry(name: ((wanted as NSString).lastPathComponent as NSString).deletingPathExtension, path: wanted)
        }
        let inFolder = "\(folder)/\(wanted).gguf"
        if !wanted.contains("/"), fm.fileExists(atPath: inFolder) { return entry(name: wanted, path: inFolder) }
        throw CatalogError("\(wanted): no such model file, and no model of that name (known: \(discover(extra: []).map(\.name).joined(separator: ", ")))")
    }

    /// The built-in model, then the models folder, then `extra` (names or paths) first of all.
    static func discover(extra: [String]) -> [ModelEntry] {
        var entries = extra.map { (try? resolve($0)) ?? entry(name: ($0 as NSString).lastPathComponent, path: $0) }
        if let builtIn, !entries.contains(where: { $0.path == builtIn.path }) { entries.append(builtIn) }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        for file in files where file.hasSuffix(".gguf") && !file.contains("mmproj") {
            let path = "\(folder)/\(file)"
            if entries.contains(where: { $0.path == path }) { continue }
            entries.append(entry(name: (file as NSString).deletingPathExtension, path: path))
        }
        return entries
    }
}

struct CatalogError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
