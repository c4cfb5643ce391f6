import Foundation
import GGUF
import History
import Models
import Tasks
import Tokenizers
import UI
import Vision

/// What the fuzzers feed: every reader of a file a stranger may have made, each as a function of raw bytes that
/// must return (a thrown error is a fine outcome; a crash, a hang or a wild read is a bug). libFuzzer drives them
/// through `glimpse-fuzz` built with `-sanitize=fuzzer,address` (scripts/fuzz); the test suite replays the seed
/// corpora and every minimized crash through the same functions.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A GGUF file: header, metadata, tensor table, then what a model load reads from it (the decoder's
    /// hyperparameters and tensor shapes for every registered architecture, the vocabulary, an mmproj's
    /// vision encoder and projector).
    case gguf
    /// A JPEG or PNG, decoded (EXIF orientation included) and preprocessed as an encoder would take it.
    case image
    /// Text through the SentencePiece and byte-pair tokenizers (special tokens parsed), decoded back and
    /// streamed; ids from the bytes detokenized.
    case tokenizer
    /// A model's answer: MiniGPT-v2's boxes and phrases, and the transcript made of them.
    case grounded
    /// config.toml, and a theme file.
    case config
    /// A saved conversation (JSON), resumed into the app's state and rendered, and searched as words.
    case conversation

    public func run(_ bytes: [UInt8]) {
        switch self {
        case .gguf: Self.gguf(bytes)
        case .image: Self.image(bytes)
        case .tokenizer: Self.tokenizer(bytes)
        case .grounded: Self.grounded(bytes)
        case .config: Self.config(bytes)
        case .conversation: Self.conversation(bytes)
        }
    }

    // MARK: Files

    /// Inputs go through a file, as users' models do (GGUF is memory-mapped): one per process, in memory.
    static let scratch: String = {
        let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return "\(folder)/glimpse-fuzz-\(getpid()).gguf"
    }()

    static func gguf(_ bytes: [UInt8]) {
        guard FileManager.default.createFile(atPath: scratch, contents: Data(bytes)) else { return }
        defer { unlink(scratch) }
        guard let file = try? GGUFFile(path: scratch) else { return }
        for info in file.tensors where info.byteCount > 0 {
            // Every tensor view must lie inside the map: touch its first and last byte.
            let data = file.data(of: info)
            _ = data.load(as: UInt8.self) &+ data.load(fromByteOffset: info.byteCount - 1, as: UInt8.self)
        }
        if file["general.architecture"]?.string == "clip" {
            _ = try? VisionModel(path: scratch)
            return
        }
        for architecture in ArchitectureRegistry.all { _ = try? architecture.blueprint(file: file) }
        if let tokenizer = try? Tokenizer(file: file) {
            _ = tokenizer.decode(tokenizer.encode("Hello <start_of_turn> world", addSpecial: true, parseSpecial: true))
        }
    }

    static func image(_ bytes: [UInt8]) {
        // A small pixel limit keeps each run fast; the limit itself is part of what is tested.
        guard let image = try? ImageDecoder.decode(bytes, pixelLimit: 4096 * 4096) else { return }
        let side = 16 + Int(bytes.last ?? 0) % 48
        for fit in [ImagePreprocessor.Fit.stretch, .padToSquare(red: 127, green: 127, blue: 127)] {
            _ = ImagePreprocessor(size: side, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], fit: fit).tensor(image)
        }
    }

    // MARK: Text

    /// The vocabularies of the test models (SentencePiece: tiny-llama's; byte pairs: tiny-qwen2's), read once.
    static let tokenizers: [Tokenizer] = {
        let folder = ProcessInfo.processInfo.environment["GLIMPSE_TEST_MODELS"]
            ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/glimpse/test-models"
        return ["tiny-llama-q8_0.gguf", "tiny-qwen2-q8_0.gguf"].compactMap { name in
            (try? GGUFFile(path: folder + "/" + name)).flatMap { try? Tokenizer(file: $0) }
        }
    }()

    static func tokenizer(_ bytes: [UInt8]) {
        guard let flags = bytes.first, !tokenizers.isEmpty else { return }
        let tokenizer = tokenizers[Int(flags) % tokenizers.count]
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        let ids = tokenizer.encode(text, addSpecial: flags & 2 != 0, parseSpecial: flags & 4 != 0)
        _ = tokenizer.decode(ids, showSpecial: flags & 8 != 0)
        // Ids straight from the bytes (in the vocabulary's range, as a model's sampler gives them), streamed.
        let count = tokenizer.vocabulary.tokens.count
        var stream = StreamingDetokenizer(tokenizer: tokenizer, showSpecial: flags & 16 != 0)
        var i = 1
        while i + 1 < bytes.count {
            let id = Int32((Int(bytes[i]) << 8 | Int(bytes[i + 1])) % count)
            _ = stream.append(id)
            i += 2
        }
        _ = stream.flush()
    }

    static func grounded(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let parsed = GroundedText(parsing: text)
        for item in parsed.boxes { _ = item.box.pixels(width: 640, height: 480) }
        var state = AppState(width: 80, height: 24)
        state.panes[0].messages = [Message(.user, "[grounding] describe"), Message(.assistant, text)]
        _ = state.transcript
        _ = state.render()
    }

    static func config(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = Configuration.parse(text, source: "config.toml")
        _ = try? Theme.parse(text, name: "fuzz")
    }

    static func conversation(_ bytes: [UInt8]) {
        guard let saved = try? JSONDecoder().decode(SavedConversation.self, from: Data(bytes)) else { return }
        var state = AppState(width: 100, height: 30, models: [ModelEntry(name: "shapes", path: "/models/shapes.gguf")])
        _ = state.resume(saved, id: "fuzz", images: [], missing: saved.images)
        _ = state.render()
        _ = state.transcript
        _ = saved.markdown(title: "fuzz")
        _ = HistoryDatabase.matchQuery(saved.firstQuestion ?? "")
    }
}
