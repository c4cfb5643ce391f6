import Foundation
import UI

/// Ctrl-V / `/paste`: the image on the system clipboard, through `wl-paste` (Wayland) or `xclip` / `xsel` (X11),
/// whichever is installed and has a display. A copied image is kept as a PNG or JPEG file under
/// ~/.cache/glimpse/pasted (the conversation refers to it by path, so it must outlive the clipboard); copied
/// files (a file manager's `text/uri-list`, or a path as text) are attached where they are.
enum Clipboard {
    enum Content: Equatable {
        case image(Data, type: String)
        case paths([String])
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let imageTypes = ["image/png", "image/jpeg", "image/jpg"]

    /// The image files to attach: a pasted image saved, or the copied files' paths.
    static func paste(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [String] {
        switch try read(environment: environment) {
        case .paths(let paths): return paths
        case .image(let data, let type): return [try keep(data, type: type, environment: environment)]
        }
    }

    static func read(environment env: [String: String]) throws -> Content {
        let wayland = env["WAYLAND_DISPLAY"].map { !$0.isEmpty } ?? false
        let x11 = env["DISPLAY"].map { !$0.isEmpty } ?? false
        guard wayland || x11 else {
            throw Failure(description: "no clipboard here: there is no display ($WAYLAND_DISPLAY or $DISPLAY; over ssh, paste or drop a path, or use /image)")
        }
        if wayland, let tool = Subprocess.find("wl-paste") {
            return try choose(types: lines(try run(tool, ["--list-types"])), tool: "wl-paste") { type in
                try run(tool, ["--no-newline", "--type", type])
            }
        }
        if x11, let tool = Subprocess.find("xclip") {
            return try choose(types: lines(try run(tool, ["-selection", "clipboard", "-t", "TARGETS", "-o"])), tool: "xclip") { type in
                try run(tool, ["-selection", "clipboard", "-t", type, "-o"])
            }
        }
        if x11, let tool = Subprocess.find("xsel") {
            // xsel reads text only: a copied path.
            return try choose(types: ["text/plain"], tool: "xsel") { _ in try run(tool, ["--clipboard", "--output"]) }
        }
        throw Failure(description: "no clipboard tool: install wl-clipboard (Wayland) or xclip (X11) to paste images")
    }

    /// An image type if there is one, else copied files, else text that names image files.
    static func choose(types: [String], tool: String, fetch: (String) throws -> Data) throws -> Content {
        if let type = imageTypes.first(where: types.contains) { return .image(try fetch(type), type: type) }
        for type in ["text/uri-list", "UTF8_STRING", "text/plain;charset=utf-8", "text/plain", "STRING"] where types.contains(type) {
            let text = String(decoding: try fetch(type), as: UTF8.self)
            // uri-list: one URL a line, comments starting with #.
            let items = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.hasPrefix("#") }
            if let paths = PathCompletion.droppedImagePaths(items.map { "'\($0.replacingOccurrences(of: "'", with: ""))'" }.joined(separator: " "))
                ?? PathCompletion.droppedImagePaths(text) {
                return .paths(paths)
            }
            throw Failure(description: "the clipboard holds text, not an image or an image file's path")
        }
        let shown = types.filter { !$0.isEmpty && $0.uppercased() != $0 }.prefix(6).joined(separator: ", ")
        throw Failure(description: "the clipboard holds no image" + (shown.isEmpty ? "" : " (it has \(shown))") + " (\(tool))")
    }

    static func run(_ tool: String, _ arguments: [String]) throws -> Data {
        let outcome: Subprocess.Outcome
        do { outcome = try Subprocess.run(tool, arguments, timeout: 3) } catch {
            throw Failure(description: "\(tool) did not start: \(error.localizedDescription)")
        }
        guard outcome.succeeded else { throw Failure(description: "\((tool as NSString).lastPathComponent): \(outcome.why)") }
        return outcome.output
    }

    static func lines(_ data: Data) -> [String] {
        String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Writes the pasted image where it stays: ~/.cache/glimpse/pasted/pasted-DATE-HASH.png.
    static func keep(_ data: Data, type: String, environment env: [String: String]) throws -> String {
        guard !data.isEmpty else { throw Failure(description: "the clipboard's image is empty") }
        let cache = env["XDG_CACHE_HOME"] ?? (FileManager.default.homeDirectoryForCurrentUser.path + "/.cache")
        let folder = cache + "/glimpse/pasted"
        let format = DateFormatter()
        format.dateFormat = "yyyyMMdd-HHmmss"
        var hasher = Hasher()
        hasher.combine(data)
        let name = "pasted-\(format.string(from: Date()))-\(String(UInt32(truncatingIfNeeded: hasher.finalize()), radix: 16))"
            + (type == "image/png" ? ".png" : ".jpg")
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: folder + "/" + name))
        } catch {
            throw Failure(description: "cannot keep the pasted image in \(folder): \(error.localizedDescription)")
        }
        return folder + "/" + name
    }
}
