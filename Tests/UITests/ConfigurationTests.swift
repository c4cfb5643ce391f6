import Tasks
import UI
import XCTest

final class ConfigurationTests: XCTestCase {
    /// toml++ (under TOMLKit) aborts on these instead of reporting them (found by the config fuzzer).
    func testTableHeadersTheTOMLParserWouldAbortOnAreReported() throws {
        for text in ["[{models]]\n", "a = 1\n[ [x]\n", "[[ {x]]", "[.x]", "[=]"] {
            let c = Configuration.parse(text, source: "config.toml")
            XCTAssertEqual(c.problems.count, 1, text)
            XCTAssertTrue(c.problems.first?.hasPrefix("config.toml:") ?? false, c.problems.first ?? "")
            XCTAssertThrowsError(try Theme.parse(text, name: "t", source: "t.toml"), text)
        }
        // A header-like line inside a multi-line string is text, not a header.
        XCTAssertEqual(Configuration.parse("x = \"\"\"\n[{not a header\n\"\"\"\ntheme = \"light\"\n", source: "c").theme, "light")
    }

    func testAFullConfiguration() {
        let c = Configuration.parse("""
            default_model = "llava"
            theme = "light"
            models_folder = "/srv/models"
            save_conversations = false

            [models.llava]
            path = "/srv/llava.gguf"
            mmproj = "/srv/llava-mmproj.gguf"
            template = "vicuna"
            task = "grounding"
            temperature = 0
            top_k = 20
            system = "be brief"

            [models.plain]
            path = "/srv/plain.gguf"

            [keys]
            regenerate = "f5"
            help = "ctrl-g"
            """, source: "config.toml")
        XCTAssertEqual(c.problems, [])
        XCTAssertEqual(c.defaultModel, "llava")
        XCTAssertEqual(c.theme, "light")
        XCTAssertEqual(c.modelsFolder, "/srv/models")
        XCTAssertFalse(c.saveConversations)
        XCTAssertTrue(Configuration().saveConversations, "kept unless turned off")
        XCTAssertEqual(c.models.map(\.name), ["llava", "plain"])
        let llava = c.models[0]
        XCTAssertEqual(llava.mmproj, "/srv/llava-mmproj.gguf")
        XCTAssertEqual(llava.template, "vicuna")
        XCTAssertEqual(llava.task, .grounding)
        XCTAssertEqual(llava.settings?.temperature, 0)
        XCTAssertEqual(llava.settings?.topK, 20)
        XCTAssertEqual(llava.settings?.systemPrompt, "be brief")
        XCTAssertNil(c.models[1].settings, "no sampling settings: the session's stay")
        XCTAssertEqual(c.keyMap.overrides, [.function(5): .regenerate, .ctrl("g"): .help])
    }

    func testEveryProblemNamesTheLineAndTheRestStillApplies() {
        let c = Configuration.parse("""
            theme = "dark"
            colour = 3
            save_conversations = "no"

            [models.a]
            path = "/a.gguf"
            temperature = "hot"
            task = "dance"
            flavour = 1

            [models.b]
            mmproj = "/b-mmproj.gguf"

            [keys]
            fly = "ctrl-x"
            help = "ctrl-shift-q"
            """, source: "cfg.toml")
        XCTAssertEqual(c.theme, "dark")
        XCTAssertTrue(c.saveConversations)
        XCTAssertEqual(c.models.map(\.name), ["a"], "a model without a path is skipped, the other kept")
        let expected = ["cfg.toml:2: unknown setting 'colour'", "cfg.toml:3: save_conversations must be true or false",
                        "cfg.toml:7: temperature must be a number", "cfg.toml:8: unknown task 'dance'",
                        "cfg.toml:9: unknown model setting 'flavour'", "models.b needs a path", "cfg.toml:15: unknown action 'fly'",
                        "cfg.toml:16: 'ctrl-shift-q' is not a key"]
        for e in expected { XCTAssertTrue(c.problems.contains { $0.contains(e) }, "\(e) in \(c.problems)") }
        XCTAssertEqual(c.problems.count, expected.count, "\(c.problems)")
    }

    func testRemoteModels() {
        let c = Configuration.parse("""
            [models.gpu-llava]
            url = "http://gpu-box:8000/v1"
            model = "llava-hf/llava-v1.6-mistral-7b-hf"
            api_key_env = "GPU_BOX_KEY"
            timeout = 300
            task = "grounding"

            [models.ollama]
            url = "http://localhost:11434/v1/"

            [models.leaky]
            url = "https://api.example.com/v1"
            api_key = "sk-123"

            [models.both]
            url = "http://a:1/v1"
            path = "/srv/x.gguf"

            [models.nohost]
            url = "ftp://files/v1"

            [models.local]
            path = "/srv/x.gguf"
            model = "x"
            """, source: "config.toml")
        let remote = c.models.first { $0.name == "gpu-llava" }
        XCTAssertEqual(remote?.remote, RemoteModel(url: "http://gpu-box:8000/v1", model: "llava-hf/llava-v1.6-mistral-7b-hf",
                                                   apiKeyEnv: "GPU_BOX_KEY", timeout: 300))
        XCTAssertEqual(remote?.path, "http://gpu-box:8000/v1#llava-hf/llava-v1.6-mistral-7b-hf")
        XCTAssertEqual(remote?.task, .grounding)
        XCTAssertEqual(remote?.location, " @ gpu-box:8000")
        XCTAssertEqual(c.models.first { $0.name == "ollama" }?.remote?.model, "ollama", "the model id defaults to the section's name")
        XCTAssertEqual(c.models.first { $0.name == "ollama" }?.location, " @ localhost:11434")
        XCTAssertNil(c.models.first { $0.name == "nohost" })
        XCTAssertEqual(c.models.first { $0.name == "local" }?.remote, nil)
        XCTAssertEqual(c.problems.sorted(), [
            "config.toml:13: an API key does not belong in the file: put it in an environment variable and name that with api_key_env",
            "config.toml:17: models.both has both url and path: a model is on a server or in a file",
            "config.toml:20: url must start with http:// or https:// ('ftp://files/v1')",
            "config.toml:24: model names the server's model: it goes with url",
        ])
    }

    func testASyntaxErrorIsReportedWithItsLine() {
        let c = Configuration.parse("theme = \"dark\"\n[models.a\npath = 1\n", source: "cfg.toml")
        XCTAssertEqual(c.problems.count, 1)
        XCTAssertTrue(c.problems[0].hasPrefix("cfg.toml:2:"), c.problems[0])
        XCTAssertNil(c.theme, "a file that does not parse is ignored as a whole")
    }

    func testXDGConfigHomeIsHonoured() {
        XCTAssertEqual(Configuration.defaultPath(environment: ["XDG_CONFIG_HOME": "/x"]), "/x/glimpse/config.toml")
        XCTAssertTrue(Configuration.defaultPath(environment: [:]).hasSuffix("/.config/glimpse/config.toml"))
    }

    func testKeyOverridesAndPerModelSettingsReachTheApp() {
        var settings = SessionSettings()
        settings.temperature = 0
        var s = AppState(width: 80, height: 24, models: [ModelEntry(name: "a", path: "/a"),
                                                         ModelEntry(name: "b", path: "/b", task: .detection, settings: settings)])
        s.keyMap = KeyMap(overrides: [.ctrl("g"): .help, .function(5): .taskPicker])
        _ = s.update(.key(.ctrl("g")))
        XCTAssertEqual(s.overlay, .help(page: 0))
        _ = s.update(.key(.escape))
        _ = s.update(.key(.function(5)))
        XCTAssertEqual(s.overlay, .taskPicker(0))
        _ = s.update(.key(.escape))
        _ = s.update(.key(.function(2)))
        _ = s.update(.key(.down))
        let effects = s.update(.key(.enter))
        XCTAssertEqual(effects, [.loadModel(s.models[1])])
        XCTAssertEqual(s.task, .detection)
        XCTAssertEqual(s.settings.temperature, 0)
    }

    func testTheStartUpModelBringsItsConfiguredTaskAndSettings() {
        var settings = SessionSettings()
        settings.topK = 7
        var s = AppState(width: 80, height: 24, models: [ModelEntry(name: "a", path: "/a", task: .grounding, settings: settings)])
        XCTAssertEqual(s.chooseModel(0), [.loadModel(s.models[0], pane: 0)])
        XCTAssertEqual(s.task, .grounding)
        XCTAssertEqual(s.settings.topK, 7)
        XCTAssertEqual(s.modelStatus, .loading("a"))
    }
}
