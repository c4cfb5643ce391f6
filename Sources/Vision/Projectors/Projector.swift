import GGUF
import Tensors

/// Maps the vision encoder's hidden states to language-model embeddings. One file per type, one registry line.
protocol Projector: Sendable {
    /// The value of `clip.projector_type`.
    static var name: String { get }
    init(file: GGUFFile, encoderWidth: Int) throws
    /// How the reference preprocesses images for this family.
    static func fit(mean: [Float]) -> ImagePreprocessor.Fit
    /// Embedding width it produces (must equal the language model's n_embd).
    var outputWidth: Int { get }
    func outputTokens(patches: Int) -> Int
    /// `count` rows of encoder output (the class token removed, unless `usesClassToken`) -> rows of LLM embeddings.
    func project(_ patches: [Float], count: Int, pool: ThreadPool) -> [Float]
    /// Whether the projector takes the encoder's class token too, first (MiniGPT-4's Q-Former reads all 257).
    var usesClassToken: Bool { get }
    /// The resampling filter of the reference's image processor.
    static var filter: ResampleFilter { get }
    /// Text the model expects around each image's tokens (Gemma 3's `<start_of_image>` ... `<end_of_image>`).
    var imageWrapper: (before: String, after: String)? { get }
    /// Whether an image's tokens attend to each other both ways while the decoder reads them (Gemma 3).
    var attendsBothWays: Bool { get }
    /// Whether this type reads the file, when several share a `clip.projector_type` (LLaVA-1.6's `mlp` with
    /// pinpoints, LLaVA-1.5's without); the registry takes the first that does.
    static func reads(_ file: GGUFFile) -> Bool
}

extension Projector {
    static var filter: ResampleFilter { .bicubic }
    var imageWrapper: (before: String, after: String)? { nil }
    var attendsBothWays: Bool { false }
    var usesClassToken: Bool { false }
    static func reads(_ file: GGUFFile) -> Bool { true }
}

/// A projector that takes over the whole image path, from the preprocessed image to the embeddings, because it
/// reads the image itself besides the encoder's features (Mini-Gemini: a ConvNeXt at high resolution, and several
/// CLIP views of one image).
protocol ImagePathProjector: Projector {
    /// How the image is prepared: the tensor `embed` receives.
    var preprocessor: ImagePreprocessor { get }
    /// Preprocessed image -> `outputTokens(patches:)` rows of `outputWidth`; `progress` hears the fraction done.
    /// `timing` hears the seconds each named part took (for `glimpse bench`).
    func embed(pixels: [Float], encoder: VisionEncoder, pool: ThreadPool, progress: ((Double) -> Void)?,
               timing: ((String, Double) -> Void)?) -> [Float]
    /// The image tokens before the final projection (for tests and tools).
    func minedFeatures(pixels: [Float], encoder: VisionEncoder, pool: ThreadPool, progress: ((Double) -> Void)?,
                       timing: ((String, Double) -> Void)?) -> [Float]
}

/// A projector that sees an image as several square views (tiles of a resized image plus an overview), how many
/// depending on the image's shape (SmolVLM, LLaVA-1.6). Each view goes through the encoder and `project` alone.
protocol TiledProjector: Projector {
    /// The views of an image of this size, in the order `views` returns them.
    func tiling(width: Int, height: Int) -> ImageTiling
    /// The views, each the encoder's square input size, as RGB images.
    func views(of image: RGBImage, _ tiling: ImageTiling) -> [RGBImage]
    /// Each view's projected rows (in `views` order) -> the image's rows in prompt order.
    func arrange(_ projected: [[Float]], _ tiling: ImageTiling) -> [Float]
    /// Where the rows go in the prompt, and the text between them.
    func layout(_ tiling: ImageTiling) -> ImageLayout
}

extension TiledProjector {
    func arrange(_ projected: [[Float]], _ tiling: ImageTiling) -> [Float] { projected.flatMap { $0 } }
}

/// A projector with its own vision tower that reads each image at about its own resolution, so the encoder's
/// input and the token count follow the image's size (Qwen2-VL): the shared ViT is not used.
protocol NativeResolutionProjector: Projector {
    /// Where the image's rows go in the prompt (a grid, for the decoder's multimodal rope).
    func layout(width: Int, height: Int) -> ImageLayout
    /// The image as the tower reads it.
    func resized(_ image: RGBImage) -> RGBImage
    /// Image -> rows of `outputWidth`, in the layout's order; `progress` hears the fraction done.
    func embed(_ image: RGBImage, mean: [Float], std: [Float], pool: ThreadPool, progress: ((Double) -> Void)?) -> [Float]
}

/// How an image is cut: a grid of tiles (0 x 0 when the image is seen whole) and the overview.
public struct ImageTiling: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    /// The size the image is resized to before it is cut.
    public let resizedWidth: Int
    public let resizedHeight: Int
    /// The image's own size (LLaVA-1.6 removes its padding by it).
    public let width: Int
    public let height: Int
}

enum ProjectorRegistry {
    static let all: [any Projector.Type] = [
        LlavaNextProjector.self,       // before MLPProjector: both are `mlp`
        MLPProjector.self,
        MiniGPTv2Projector.self,
        Gemma3Projector.self,
        QFormerProjector.self,
        MiniGeminiProjector.self,
        Idefics3Projector.self,
        Qwen2VLProjector.self,
        Qwen25VLProjector.self,
    ]

    static func projector(named name: String, for file: GGUFFile) -> (any Projector.Type)? {
        all.first { $0.name == name && $0.reads(file) }
    }
}

/// y = W·x + b over rows, for projector layers.
func linearRows(_ w: TensorView, _ bias: [Float]?, _ x: [Float], count n: Int, pool: ThreadPool) -> [Float] {
    var y = [Float](repeating: 0, count: n * w.rowCount)
    let scratch = BatchScratch()
    x.withUnsafeBufferPointer { xb in
        y.withUnsafeMutableBufferPointer { yb in
            MatMul.batch(w, xb.baseAddress!, count: n, yb.baseAddress!, scratch: scratch, pool: pool)
            if let bias {
                let m = w.rowCount
                bias.withUnsafeBufferPointer { b in for t in 0 ..< n { Ops.add(yb.baseAddress! + t * m, b.baseAddress!, m) } }
            }
        }
    }
    return y
}
