import Tasks

/// A key press, as the terminal backend decodes it.
public enum Key: Sendable, Hashable {
    case character(Character)
    case enter
    /// Alt-Enter or Shift-Enter: a new line in the input.
    case newline
    case backspace, delete, left, right, up, down, home, end, pageUp, pageDown, tab, backTab, escape
    case ctrl(Character)
    case alt(Character)
    case function(Int)
    /// Bracketed paste.
    case paste(String)
    /// A left click at a screen cell.
    case click(x: Int, y: Int)
    /// The left button let go at a screen cell (after a click: a drag when the cell differs).
    case release(x: Int, y: Int)
    /// The mouse wheel.
    case wheel(up: Bool)
}

/// A model on an OpenAI-compatible server (config.toml's `url`, or `--model URL#MODEL`).
public struct RemoteModel: Sendable, Equatable {
    /// The API's base URL, e.g. `http://gpu-box:8000/v1`.
    public var url: String
    /// The model's id on that server.
    public var model: String
    /// The environment variable holding the API key (the key itself never goes in the file).
    public var apiKeyEnv: String?
    /// Seconds to wait for the server to say anything (the first token, or the next piece).
    public var timeout: Double?
    public init(url: String, model: String, apiKeyEnv: String? = nil, timeout: Double? = nil) {
        self.url = url
        self.model = model
        self.apiKeyEnv = apiKeyEnv
        self.timeout = timeout
    }

    /// `host:port`, for the pane header.
    public var host: String {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        return String(rest.prefix { $0 != "/" })
    }

    /// How the command line names it, and what a saved conversation keeps as its path.
    public var reference: String { "\(url)#\(model)" }
}

public struct ModelEntry: Sendable, Equatable {
    public var name: String
    /// The GGUF file; for a remote model its `URL#MODEL` reference.
    public var path: String
    /// Set for a model that runs on a server.
    public var remote: RemoteModel?
    public var mmproj: String?
    /// A chat template by name, when the file's own should not be used (config.toml).
    public var template: String?
    /// The task mode and sampling settings chosen with this model (config.toml).
    public var task: TaskMode?
    public var settings: SessionSettings?
    public init(name: String, path: String, mmproj: String? = nil, template: String? = nil, task: TaskMode? = nil,
                settings: SessionSettings? = nil) {
        self.name = name
        self.path = path
        self.mmproj = mmproj
        self.template = template
        self.task = task
        self.settings = settings
    }

    /// " @ host:port" for a remote model, "" for a local one: pane headers and the status bar say where it runs.
    public var location: String { remote.map { " @ \($0.host)" } ?? "" }
}

/// An image rendered as terminal cells for a given area (the app asks for it at the pane's size).
public struct PreviewCells: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var cells: [Cell]
    /// The area it was rendered for (the image keeps its aspect ratio inside it).
    public var areaWidth: Int
    public var areaHeight: Int
    public init(width: Int, height: Int, cells: [Cell], areaWidth: Int? = nil, areaHeight: Int? = nil) {
        self.width = width
        self.height = height
        self.cells = cells
        self.areaWidth = areaWidth ?? width
        self.areaHeight = areaHeight ?? height
    }
}

public struct ImageEntry: Sendable, Equatable {
    public var name: String
    public var path: String
    public var width: Int
    public var height: Int
    public var preview: PreviewCells?
    public init(name: String, path: String, width: Int, height: Int, preview: PreviewCells? = nil) {
        self.name = name
        self.path = path
        self.width = width
        self.height = height
        self.preview = preview
    }
}

public struct Message: Sendable, Equatable {
    public enum Role: Sendable, Equatable { case user, assistant, notice, error }
    public var role: Role
    public var text: String
    public var streaming = false
    /// While an answer has no text yet: what the engine is doing ("encoding the image").
    public var activity: String? = nil
    /// A question asked with OCR on (`/ocr`): the app appends the images' text to it, as MGM's `--ocr` does, each
    /// time the conversation is sent (what is shown and kept is the question as typed).
    public var ocr = false
    public init(_ role: Role, _ text: String, streaming: Bool = false) {
        self.role = role
        self.text = text
        self.streaming = streaming
    }
}

public struct GenerationFigures: Sendable, Equatable {
    public var promptTokens = 0
    public var generatedTokens = 0
    public var tokensPerSecond = 0.0
    public var timeToFirstTokenMs = 0.0
    public var imageEncodeMs = 0.0
    public init() {}
}

/// Sampling settings the user changes with /set.
public struct SessionSettings: Sendable, Equatable, Codable {
    public var temperature: Float = 0.6
    public var topP: Float = 0.9
    public var topK = 40
    public var maxTokens = 500
    public var seed: UInt64? = nil
    public var systemPrompt: String? = nil
    public init() {}
}

public enum Overlay: Sendable, Equatable {
    case none
    /// Keys and commands; a terminal too short for them all shows them a page at a time.
    case help(page: Int)
    case modelPicker(Int)
    case taskPicker(Int)
    /// The saved conversations (`savedConversations`), to take one up.
    case conversationPicker(Int)
    /// The images of a folder (`folderImages`), to attach one.
    case imagePicker(Int)
}

/// A folder's JPEG and PNG images, as `/image FOLDER` lists them, and the preview of the one highlighted.
public struct FolderImages: Sendable, Equatable {
    public var folder: String
    /// File names, sorted.
    public var names: [String]
    /// The highlighted image's preview, or why it cannot be shown (a corrupt file).
    public var preview: (path: String, cells: PreviewCells?, problem: String?)?
    public init(folder: String, names: [String]) {
        self.folder = folder
        self.names = names
    }
    public func path(_ i: Int) -> String { (folder.hasSuffix("/") ? folder : folder + "/") + names[i] }

    public static func == (a: FolderImages, b: FolderImages) -> Bool {
        a.folder == b.folder && a.names == b.names && a.preview?.path == b.preview?.path && a.preview?.cells == b.preview?.cells
            && a.preview?.problem == b.preview?.problem
    }
}

public enum ModelStatus: Sendable, Equatable {
    case none
    case loading(String)
    case ready
    case failed(String)
}

/// One conversation pane: a checkpoint (or the same one with other settings or another task) and its answers.
public struct Pane: Sendable, Equatable {
    /// Stable across closing other panes (the app keeps one engine per pane id).
    public var id: Int
    public var selectedModel: Int?
    public var modelStatus: ModelStatus = .none
    public var task: TaskMode = .chat
    /// The modes the pane's model understands: MiniGPT-v2's until a model says otherwise (Engine's template).
    public var tasks: [TaskMode] = TaskMode.miniGPTv2Modes
    /// Whether questions get the images' text (`/ocr`, Mini-Gemini's `--ocr`).
    public var ocr = false
    /// How many tokens the model's projector makes of an image (nil: no projector, or not loaded yet).
    public var imageTokens: Int? = nil
    public var settings = SessionSettings()
    public var messages: [Message] = []
    public var figures = GenerationFigures()
    /// The running generation's id (late events of an older one are ignored).
    public var generation: Int? = nil
    /// The answer being streamed (notices may be appended after it while it streams).
    public var streamingMessage: Int? = nil
    /// Lines scrolled up from the bottom of the conversation.
    public var scroll = 0
    public init(id: Int) { self.id = id }
    public var isGenerating: Bool { generation != nil }
}

/// Everything the screen shows; changed only by `update`.
public struct AppState: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var theme: Theme
    public var models: [ModelEntry]
    /// Side by side (stacked when narrow); at least one.
    public var panes: [Pane] = [Pane(id: 0)]
    public var focusedPane = 0
    /// Whether a prompt goes to every pane (else to the focused one).
    public var broadcast = true
    /// Whether the focused pane takes the whole conversation area.
    public var zoomed = false
    /// Whether the image takes the whole area above the input (F8), boxes and all.
    public var imageZoomed = false
    /// How the preview reaches the screen (chosen at start), and the terminal's cell size in pixels.
    public var graphics: GraphicsProtocol = .symbols
    public var cellSize: CellSize = .assumed
    /// `/image FOLDER`: the folder's images, offered in a picker with a preview of the highlighted one.
    public var folderImages: FolderImages? = nil
    public var images: [ImageEntry] = []
    public var imageInView = 0
    public var input = LineEditor()
    public var overlay: Overlay = .none
    public var lastGeneration = 0
    public var quitting = false
    public var keyMap = KeyMap()
    /// Where a press on the image preview began (preview cell), while the button is down.
    public var dragStart: PreviewPoint? = nil
    /// The saved conversation this one is kept in (the app names it when it first saves); nil after /clear.
    public var conversationID: String? = nil
    /// What `/conversations` last listed, most recent first.
    public var savedConversations: [ConversationSummary] = []
    /// The picker's entry that one more `d` deletes.
    public var pendingDeletion: Int? = nil
    /// The words being typed after `/` in the conversation picker (nil when not searching).
    public var conversationSearch: String? = nil
    /// The search the picker's list answers, when it lists search results rather than every conversation.
    public var searchedFor: String? = nil

    public init(width: Int, height: Int, theme: Theme = .dark, models: [ModelEntry] = []) {
        self.width = width
        self.height = height
        self.theme = theme
        self.models = models
    }

    // MARK: The focused pane

    public var selectedModel: Int? { get { panes[focusedPane].selectedModel } set { panes[focusedPane].selectedModel = newValue } }
    public var modelStatus: ModelStatus { get { panes[focusedPane].modelStatus } set { panes[focusedPane].modelStatus = newValue } }
    public var task: TaskMode { get { panes[focusedPane].task } set { panes[focusedPane].task = newValue } }
    public var tasks: [TaskMode] { panes[focusedPane].tasks }
    public var settings: SessionSettings { get { panes[focusedPane].settings } set { panes[focusedPane].settings = newValue } }
    public var messages: [Message] { get { panes[focusedPane].messages } set { panes[focusedPane].messages = newValue } }
    public var figures: GenerationFigures { get { panes[focusedPane].figures } set { panes[focusedPane].figures = newValue } }
    public var generation: Int? { get { panes[focusedPane].generation } set { panes[focusedPane].generation = newValue } }
    public var streamingMessage: Int? { get { panes[focusedPane].streamingMessage } set { panes[focusedPane].streamingMessage = newValue } }
    public var scroll: Int { get { panes[focusedPane].scroll } set { panes[focusedPane].scroll = newValue } }

    /// Whether the panes a prompt would go to are still answering.
    public var isGenerating: Bool { broadcast ? panes.contains { $0.isGenerating } : panes[focusedPane].isGenerating }
    public var currentModel: ModelEntry? { selectedModel.map { models[$0] } }
    public func model(of pane: Pane) -> ModelEntry? { pane.selectedModel.map { models[$0] } }
    public func paneIndex(id: Int) -> Int? { panes.firstIndex { $0.id == id } }
    public func paneIndex(generation g: Int) -> Int? { panes.firstIndex { $0.generation == g } }

    public static let maximumPanes = 4
    /// Terminals smaller than this get a notice instead of the layout.
    public static let minimumSize = (width: 80, height: 24)
    public var isTooSmall: Bool { width < Self.minimumSize.width || height < Self.minimumSize.height }
}
