import Foundation
import Tasks

/// `config.toml` ($XDG_CONFIG_HOME/glimpse, else ~/.config/glimpse):
///
///     default_model = "shapes"          # a name below, "shapes", or a path
///     theme = "dark"
///     models_folder = "~/models"        # scanned for X.gguf (+ X-mmproj.gguf)
///     save_conversations = true         # keep conversations (for /resume) and the input history
///     graphics = "auto"                 # the preview: auto, kitty, sixel, iterm, or symbols
///
///     [models.llava]                    # one table per named model
///     path = "~/models/llava-v1.5-7b-q4_k.gguf"
///     mmproj = "~/models/llava-v1.5-7b-mmproj-f16.gguf"
///     template = "vicuna"               # optional; default: from the file
///     task = "grounding"                # optional default task mode
///     temperature = 0.2                 # optional sampling: temperature, top_p, top_k, max_tokens, seed, system
///
///     [keys]                            # action = "key": ctrl-x, alt-x, f1..f12, esc, tab, shift-tab, or a character
///     regenerate = "f5"
///
/// Loading never fails: each problem is reported as "FILE:LINE: problem" and the rest still applies, so a typo
/// cannot keep the app from starting.
public struct Configuration: Sendable, Equatable {
    public var defaultModel: String?
    public var theme: String?
    public var modelsFolder: String?
    public var saveConversations = true
    public var graphics: GraphicsRequest?
    public var models: [ModelEntry] = []
    public var keyMap = KeyMap()
    public var problems: [String] = []

    public init() {}

    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.config"
        return base + "/glimpse/config.toml"
    }

    /// The configuration at `path`; a missing file is an empty configuration.
    public static func load(path: String) -> Configuration {
        guard FileManager.default.fileExists(atPath: path) else { return Configuration() }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            var c = Configuration()
            c.problems = ["\(path): cannot be read as UTF-8 text"]
            return c
        }
        return parse(text, source: path)
    }

    public static func parse(_ text: String, source: String) -> Configuration {
        var c = Configuration()
        let table: TOMLTable
        do { table = try TOMLTable(parsing: text) } catch let e as TOMLError {
            c.problems.append("\(source):\(e.line): \(e.message) (the configuration is ignored)")
            return c
        } catch {
            c.problems.append("\(source): \(error)")
            return c
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func line(of key: String, in section: String?) -> Int {
            var inSection = section == nil
            for (i, l) in lines.enumerated() {
                let t = l.trimmingCharacters(in: .whitespaces)
                if t.hasPrefix("[") { inSection = section.map { t.hasPrefix("[\($0)]") } ?? false; continue }
                if inSection, t.hasPrefix(key), t.dropFirst(key.count).trimmingCharacters(in: .whitespaces).hasPrefix("=") { return i + 1 }
            }
            return 0
        }
        func problem(_ key: String, _ section: String?, _ text: String) {
            c.problems.append("\(source):\(line(of: key, in: section)): \(text)")
        }
        func string(_ t: TOMLTable, _ key: String, _ section: String?) -> String? {
            guard let v = t[key] else { return nil }
            guard let s = v.string else { problem(key, section, "\(key) must be a string"); return nil }
            return s
        }
        for key in table.keys {
            switch key {
            case "default_model": c.defaultModel = string(table, key, nil)
            case "theme": c.theme = string(table, key, nil)
            case "models_folder": c.modelsFolder = string(table, key, nil).map(expandTilde)
            case "save_conversations":
                if let v = table[key]?.bool { c.saveConversations = v } else { problem(key, nil, "save_conversations must be true or false") }
            case "graphics":
                guard let v = string(table, key, nil) else { continue }
                if let g = GraphicsRequest(v) { c.graphics = g } else { problem(key, nil, "graphics must be one of \(GraphicsRequest.choices), not '\(v)'") }
            case "models":
                guard let models = table[key]?.table else { problem(key, nil, "models must be tables: [models.NAME]"); continue }
                for name in models.keys.sorted() {
                    let section = "models.\(name)"
                    guard let m = models[name]?.table else { problem(name, "models", "models.\(name) must be a table"); continue }
                    if let entry = modelEntry(name, m, section: section, problem: problem, string: string) { c.models.append(entry) }
                }
            case "keys":
                guard let keys = table[key]?.table else { problem(key, nil, "keys must be a table: [keys]"); continue }
                for name in keys.keys.sorted() {
                    guard let action = Action(rawValue: name) else {
                        problem(name, "keys", "unknown action '\(name)' (\(Action.allCases.map(\.rawValue).joined(separator: ", ")))")
                        continue
                    }
                    guard let spec = string(keys, name, "keys") else { continue }
                    guard let k = KeyMap.key(named: spec) else {
                        problem(name, "keys", "'\(spec)' is not a key (ctrl-x, alt-x, f1..f12, esc, tab, shift-tab, or one character)")
                        continue
                    }
                    c.keyMap.overrides[k] = action
                }
            default:
                problem(key, nil, "unknown setting '\(key)' (default_model, theme, models_folder, save_conversations, graphics, [models.NAME], [keys])")
            }
        }
        return c
    }

    static func modelEntry(_ name: String, _ m: TOMLTable, section: String, problem: (String, String?, String) -> Void,
                           string: (TOMLTable, String, String?) -> String?) -> ModelEntry? {
        var entry: ModelEntry
        if m["url"] != nil {
            guard let url = string(m, "url", section) else { return nil }
            if m["path"] != nil { problem("path", section, "models.\(name) has both url and path: a model is on a server or in a file") }
            if let why = remoteURLProblem(url) { problem("url", section, why); return nil }
            let model = m["model"] != nil ? string(m, "model", section) ?? name : name
            let remote = RemoteModel(url: url, model: model)
            entry = ModelEntry(name: name, path: remote.reference)
            entry.remote = remote
        } else {
            guard let path = string(m, "path", section) else {
                problem(name, "models", "models.\(name) needs a path (a GGUF file) or a url (an OpenAI-compatible server)")
                return nil
            }
            entry = ModelEntry(name: name, path: expandTilde(path))
        }
        var settings = SessionSettings()
        var changed = false
        func number(_ key: String) -> Double? {
            guard let v = m[key] else { return nil }
            if let d = v.double { return d }
            if let i = v.int { return Double(i) }
            problem(key, section, "\(key) must be a number")
            return nil
        }
        for key in m.keys {
            switch key {
            case "path", "url": break
            case "model":
                if entry.remote == nil { problem(key, section, "model names the server's model: it goes with url") }
            case "api_key_env":
                guard let v = string(m, key, section) else { continue }
                if entry.remote == nil { problem(key, section, "api_key_env goes with url") } else { entry.remote?.apiKeyEnv = v }
            case "api_key":
                problem(key, section, "an API key does not belong in the file: put it in an environment variable and name that with api_key_env")
            case "timeout":
                if let v = number(key) {
                    if entry.remote == nil { problem(key, section, "timeout goes with url") } else if v > 0 && v <= 86400 {
                        entry.remote?.timeout = v
                    } else { problem(key, section, "timeout must be seconds, above 0") }
                }
            case "mmproj": entry.mmproj = string(m, key, section).map(expandTilde)
            case "template": entry.template = string(m, key, section)
            case "task":
                guard let t = string(m, key, section) else { continue }
                if let mode = TaskMode(rawValue: t.lowercased()) { entry.task = mode } else {
                    problem(key, section, "unknown task '\(t)' (\(TaskMode.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
            case "temperature":
                if let v = number(key) { if v >= 0 && v <= 5 { settings.temperature = Float(v); changed = true } else { problem(key, section, "temperature must be from 0 to 5") } }
            case "top_p":
                if let v = number(key) { if v > 0 && v <= 1 { settings.topP = Float(v); changed = true } else { problem(key, section, "top_p must be above 0 and at most 1") } }
            case "top_k":
                if let v = number(key) { if v >= 0, v == v.rounded() { settings.topK = Int(v); changed = true } else { problem(key, section, "top_k must be a whole number, 0 or more") } }
            case "max_tokens":
                if let v = number(key) { if v >= 1, v == v.rounded() { settings.maxTokens = Int(v); changed = true } else { problem(key, section, "max_tokens must be a whole number from 1") } }
            case "seed":
                if let v = number(key) { if v >= 0, v == v.rounded() { settings.seed = UInt64(v); changed = true } else { problem(key, section, "seed must be a whole number, 0 or more") } }
            case "system":
                if let v = string(m, key, section) { settings.systemPrompt = v; changed = true }
            default:
                problem(key, section, "unknown model setting '\(key)' (path, mmproj, template, task, temperature, top_p, top_k, max_tokens, seed, system; for a server: url, model, api_key_env, timeout)")
            }
        }
        if changed { entry.settings = settings }
        return entry
    }

    /// Why `url` cannot be a server's base URL, or nil.
    public static func remoteURLProblem(_ url: String) -> String? {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return "url must start with http:// or https:// ('\(url)')" }
        let rest = url.drop { $0 != "/" }.dropFirst(2)
        guard let first = rest.first, first != "/", first != ":" else { return "url names no host ('\(url)')" }
        return nil
    }

    static func expandTilde(_ path: String) -> String { (path as NSString).expandingTildeInPath }
}
