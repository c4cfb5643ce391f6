import ArgumentParser
import Foundation
import UI

/// `glimpse [IMAGE]`: the terminal app.
struct App: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app", abstract: "Open the terminal app (the default): chat about images with a live preview.")

    @Option(name: [.short, .long], help: "A model to offer (repeatable; the first is loaded): a name, a GGUF path, or URL#MODEL on a server. Default: the models folder.")
    var model: [String] = []
    @Option(help: "Theme: dark, light, high-contrast, mono, or a file name in themes/.")
    var theme: String?
    @Option(help: "Open side-by-side panes comparing these models: names or paths, comma-separated (e.g. shapes,llava).")
    var compare: String?
    @Flag(help: "Leave the mouse to the terminal (text selection) instead of clicks on tasks and models.")
    var noMouse = false
    @Option(help: "How the image preview is drawn: auto (detected), kitty, sixel, iterm, or symbols (any terminal).")
    var graphics: String?
    @Flag(help: "Take up the latest saved conversation (its models, images and turns).")
    var resume = false
    @Argument(help: "An image to attach at start.")
    var image: String?

    func run() async throws {
        let catalog = ModelCatalog.current()
        let compared = compare.map { $0.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) } } ?? []
        if compare != nil && (compared.count < 2 || compared.count > 4) { throw fail("--compare takes 2 to 4 models, comma-separated") }
        if resume && (compare != nil || !model.isEmpty) {
            throw fail("--resume takes up the saved conversation's own models: leave out --\(compare != nil ? "compare" : "model")")
        }
        for name in compared { do { _ = try catalog.resolve(name) } catch { throw fail("\(error)") } }
        let found = catalog.discover(extra: compared.isEmpty ? model : compared + model)
        // The first model named on the command line, else the default model (config.toml, else shapes), else the first found.
        var initial: Int? = found.isEmpty ? nil : 0
        if model.isEmpty && compared.isEmpty, let wanted = try? catalog.resolve(nil),
           let i = found.firstIndex(where: { $0.name == wanted.name || $0.path == wanted.path }) { initial = i }
        let folders = ThemeCatalog.folders
        var notices = catalog.config.problems
        var chosen = ProcessInfo.processInfo.environment["NO_COLOR"].map { _ in Theme.mono } ?? Theme.dark
        // A theme named on the command line must load; one from config.toml falls back to the default with a notice.
        if let name = theme ?? (ProcessInfo.processInfo.environment["NO_COLOR"] == nil ? catalog.config.theme : nil) {
            do { chosen = try ThemeCatalog.load(name, folders: folders) } catch {
                if theme != nil { throw fail("\(error)") }
                notices.append("\(Configuration.defaultPath()): theme: \(error)")
            }
        }
        if let image, !FileManager.default.fileExists(atPath: image) { throw fail("\(image): no such file") }
        var request = catalog.config.graphics ?? .auto
        if let graphics {
            guard let g = GraphicsRequest(graphics) else { throw fail("--graphics takes \(GraphicsRequest.choices), not '\(graphics)'") }
            request = g
        }
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            throw fail("the app needs a terminal; for scripts use `glimpse ask`")
        }
        // Asked before curses takes the terminal over: the query's answer must not arrive as keys.
        let graphicsChoice = GraphicsSetup.choose(request)
        let controller = await AppController(models: found, initialModel: initial, theme: chosen, themeFolders: folders, mouse: !noMouse,
                                             keyMap: catalog.config.keyMap, notices: notices,
                                             comparing: compared.isEmpty ? [] : Array(1 ..< compared.count),
                                             saving: catalog.config.saveConversations, resuming: resume,
                                             graphics: graphicsChoice)
        await controller.run(attaching: image)
    }
}

enum ThemeCatalog {
    /// ~/.config/glimpse/themes, then the themes/ folder beside the sources (a build from a checkout).
    static var folders: [String] {
        let config = (ProcessInfo.processInfo.environment["XDG_CONFIG_HOME"]
            ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.config") + "/glimpse/themes"
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("themes").path
        return [config, checkout]
    }

    static func load(_ name: String, folders: [String]) throws -> Theme {
        if name == "dark" { return .dark }
        if name == "mono" { return .mono }
        guard let path = folders.map({ "\($0)/\(name).toml" }).first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw CatalogError("no theme '\(name)' (looked in \(folders.joined(separator: ", ")))")
        }
        return try Theme.load(path: path)
    }
}
