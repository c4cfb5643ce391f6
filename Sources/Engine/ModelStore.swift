import Foundation
import Models
import Vision

/// The models every engine in the process shares. Two panes on one file get the same `LanguageModel` (one mapping,
/// one tokenizer, one set of tensor views), and two panes on one projector the same `SharedVision`, whose
/// embedding cache means an image is encoded once per vision encoder, whichever pane asks first.
/// Entries are held weakly: when the last engine lets go of a model, its file is unmapped.
public final class ModelStore: @unchecked Sendable {
    public static let shared = ModelStore()

    private let lock = NSLock()
    private var languageModels: [String: WeakBox<LanguageModel>] = [:]
    private var visionModels: [String: WeakBox<SharedVision>] = [:]

    public init() {}

    /// The language model at `path`, opened now or shared with whoever has it open. Loads are serialised, so two
    /// panes asking for one file at once still map it once.
    public func languageModel(path: String, template: ChatTemplate? = nil) throws -> LanguageModel {
        lock.lock()
        defer { lock.unlock() }
        let key = Self.key(path)
        let model: LanguageModel
        if let open = languageModels[key]?.value {
            model = open
        } else {
            model = try LanguageModel(path: path)
            languageModels[key] = WeakBox(model)
        }
        return template.map { model.with(template: $0) } ?? model
    }

    /// The vision projector at `path`, opened now or shared, with its shared embedding cache.
    public func vision(path: String) throws -> SharedVision {
        lock.lock()
        defer { lock.unlock() }
        let key = Self.key(path)
        if let open = visionModels[key]?.value { return open }
        let vision = SharedVision(try VisionModel(path: path))
        visionModels[key] = WeakBox(vision)
        return vision
    }

    /// How many distinct model files are open now (for benchmarks and tests).
    public var openFiles: (languageModels: Int, visionModels: Int) {
        lock.lock()
        defer { lock.unlock() }
        languageModels = languageModels.filter { $0.value.value != nil }
        visionModels = visionModels.filter { $0.value.value != nil }
        return (languageModels.count, visionModels.count)
    }

    /// One entry per file, however it was named (relative, through a link).
    private static func key(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
    }
}

private final class WeakBox<T: AnyObject> {
    weak var value: T?
    init(_ value: T) { self.value = value }
}

/// A vision projector and the embeddings it has made, shared by every engine that uses it. When two panes ask about
/// the same image at once, one encodes and the other waits for its result instead of encoding it again.
public final class SharedVision: @unchecked Sendable {
    public let model: VisionModel
    /// Embeddings kept, most recent last (a batch over thousands of images would otherwise hold them all).
    static let imagesKept = 16

    private let condition = NSCondition()
    private var embeddings: [ImageKey: [Float]] = [:]
    private var order: [ImageKey] = []
    private var encoding: Set<ImageKey> = []
    /// Images encoded so far (not served from the cache), for tests and benchmarks.
    public private(set) var encodeCount = 0

    init(_ model: VisionModel) { self.model = model }

    /// The image's embedding and whether this call computed it (`encode` runs at most once per image at a time).
    func embedding(for key: ImageKey, encode: () -> [Float]) -> (embedding: [Float], encodedHere: Bool) {
        condition.lock()
        while true {
            if let ready = embeddings[key] {
                condition.unlock()
                return (ready, false)
            }
            if !encoding.contains(key) { break }
            condition.wait()
        }
        encoding.insert(key)
        condition.unlock()

        let made = encode()

        condition.lock()
        encoding.remove(key)
        embeddings[key] = made
        order.removeAll { $0 == key }
        order.append(key)
        encodeCount += 1
        while order.count > Self.imagesKept { embeddings[order.removeFirst()] = nil }
        condition.broadcast()
        condition.unlock()
        return (made, true)
    }
}
