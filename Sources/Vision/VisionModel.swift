import GGUF
import Tensors

/// An mmproj file, loaded: image processor, vision encoder and projector.
public final class VisionModel: @unchecked Sendable {
    public let file: GGUFFile
    public let projectorType: String
    public let preprocessor: ImagePreprocessor
    /// The shared ViT; nil for projectors with towers of their own (`NativeResolutionProjector`).
    let encoder: VisionEncoder!
    let projector: any Projector

    /// Embedding width of the image tokens (the language model's n_embd must match).
    public var outputWidth: Int { projector.outputWidth }
    /// Image tokens per image, or per view for a projector that tiles images (`tilesImages`).
    public var tokensPerImage: Int {
        guard let encoder else { return layout(width: 448, height: 448).embeddingCount }   // a 448x448 image's, for Qwen2-VL
        return projector.outputTokens(patches: encoder.gridSide * encoder.gridSide)
    }
    /// Whether an image's token count depends on its shape (tiles plus an overview: SmolVLM, LLaVA-1.6).
    public var tilesImages: Bool { projector is any TiledProjector || projector is any NativeResolutionProjector }
    /// Text that goes around each image's tokens in the prompt, when the model family has it.
    public var imageWrapper: (before: String, after: String)? { projector.imageWrapper }
    /// Whether the decoder reads an image's tokens attending both ways among them, rather than causally.
    public var imageTokensAttendBothWays: Bool { projector.attendsBothWays }
    /// What the file asks for that Glimpse does not do, each a sentence the user is shown once the model loads
    /// (none today: LLaVA-1.6's tiles were the last).
    public let notes: [String]

    public init(path: String) throws {
        file = try GGUFFile(path: path)
        guard file["general.architecture"]?.string == "clip" else {
            throw VisionError("\(path): not a vision projector (mmproj) file: architecture is '\(file["general.architecture"]?.string ?? "none")'")
        }
        let flags = try file.decode(ClipHyperparameters.Flags.self, prefix: "clip.")
        guard let type = flags.projectorType ?? file["clip.vision.projector_type"]?.string else {
            throw VisionError("\(path): no clip.projector_type")
        }
        guard let kind = ProjectorRegistry.projector(named: type, for: file) else {
            let known = Set(ProjectorRegistry.all.map { $0.name }).sorted().joined(separator: ", ")
            throw VisionError("\(path): unsupported projector type '\(type)' (supported: \(known))")
        }
        if flags.hasVisionEncoder == false { throw VisionError("\(path): this mmproj file has no vision encoder") }
        let hp = try file.decode(ClipHyperparameters.self, prefix: "clip.vision.")
        guard hp.imageMean.count == 3, hp.imageStd.count == 3, hp.imageStd.allSatisfy({ $0 > 0 }) else {
            throw VisionError("\(path): image_mean and image_std must hold 3 values (std positive)")
        }
        guard hp.patchSize > 0, hp.imageSize % hp.patchSize == 0 else {
            throw VisionError("\(path): image size \(hp.imageSize) is not a multiple of the patch size \(hp.patchSize)")
        }
        let activation: Activation
        switch hp.activation {
        case "gelu": activation = .geluTanh
        case "gelu_erf": activation = .geluErf
        case "quick_gelu": activation = .geluQuick
        case "silu": activation = .silu
        case nil:
            guard !(flags.useGelu == true && flags.useSilu == true) else { throw VisionError("\(path): both use_gelu and use_silu are set") }
            activation = flags.useGelu == true ? .geluTanh : flags.useSilu == true ? .silu : .geluQuick
        case let other?: throw VisionError("\(path): unknown feed_forward_activation '\(other)'")
        }
        projectorType = type
        notes = []
        encoder = kind is any NativeResolutionProjector.Type ? nil : try VisionEncoder(file: file, hp: hp, activation: activation)
        projector = try kind.init(file: file, encoderWidth: hp.embeddingLength)
        preprocessor = (projector as? any ImagePathProjector)?.preprocessor
            ?? ImagePreprocessor(size: hp.imageSize, mean: hp.imageMean, std: hp.imageStd,
                                 fit: kind.fit(mean: hp.imageMean), filter: kind.filter)
    }

    /// What the user should know about how this image will be seen: one that must be enlarged many times over,
    /// or one so long and thin that, padded to a square, it is under a few pixels wide at the model's resolution.
    /// The model still answers; these say why the answer may be poor.
    public func notes(for image: RGBImage) -> [String] {
        let side = preprocessor.size, long = max(image.width, image.height), short = min(image.width, image.height)
        var out: [String] = []
        if case .padToSquare = preprocessor.fit, Double(short) * Double(side) / Double(long) < 4 {
            out.append("The image is \(image.width)x\(image.height): padded to a square and seen at \(side)x\(side), it is "
                       + "under 4 pixels across, so the model sees almost nothing of it. Crop it to the part that matters.")
        } else if long * 8 <= side {
            out.append("The image is \(image.width)x\(image.height) and this model reads images at \(side)x\(side): it is "
                       + "enlarged \(side / long) times, so there is little detail for it to find.")
        }
        return out
    }

    /// The encoder's hidden states for a preprocessed image, class token included (for tests and tools).
    public func hiddenStates(_ pixels: [Float], pool: ThreadPool) -> [Float] { encoder.encode(pixels, pool: pool) }

    /// How an image of this size is cut into views (nil when the projector sees every image as one view).
    public func tiling(width: Int, height: Int) -> ImageTiling? {
        (projector as? any TiledProjector)?.tiling(width: width, height: height)
    }

    /// Where an image's embedding rows go in the prompt, and the text the model expects between them.
    public func layout(width: Int, height: Int) -> ImageLayout {
        if let native = projector as? any NativeResolutionProjector { return native.layout(width: width, height: height) }
        guard let tiled = projector as? any TiledProjector else { return ImageLayout(embeddings: tokensPerImage) }
        return tiled.layout(tiled.tiling(width: width, height: height))
    }

    /// The square views a tiling projector encodes, in order (the image itself, fitted, for the others).
    public func views(of image: RGBImage) -> [RGBImage] {
        if let native = projector as? any NativeResolutionProjector { return [native.resized(image)] }
        guard let tiled = projector as? any TiledProjector else { return [preprocessor.fitted(image)] }
        return tiled.views(of: image, tiled.tiling(width: image.width, height: image.height))
    }

    /// Image -> `layout(for:).embeddingCount` rows of `outputWidth` floats, ready to enter the language model.
    /// `progress` hears the fraction of the encoder's work done (EVA ViT-g at 448 px takes 18 s on two cores).
    public func embed(_ image: RGBImage, pool: ThreadPool, progress: ((Double) -> Void)? = nil) -> [Float] {
        if let native = projector as? any NativeResolutionProjector {
            return native.embed(image, mean: preprocessor.mean, std: preprocessor.std, pool: pool, progress: progress)
        }
        guard let tiled = projector as? any TiledProjector else {
            return embed(pixels: preprocessor.tensor(image), pool: pool, progress: progress)
        }
        let tiling = tiled.tiling(width: image.width, height: image.height)
        let views = tiled.views(of: image, tiling)
        var projected: [[Float]] = []
        for (i, view) in views.enumerated() {
            let hidden = encoder.encode(preprocessor.tensor(view), pool: pool) { progress?((Double(i) + $0) / Double(views.count)) }
            projected.append(project(hiddenStates: hidden, pool: pool))
        }
        return tiled.arrange(projected, tiling)
    }

    public func embed(pixels: [Float], pool: ThreadPool, progress: ((Double) -> Void)? = nil) -> [Float] {
        if let own = projector as? any ImagePathProjector {
            return own.embed(pixels: pixels, encoder: encoder, pool: pool, progress: progress, timing: nil)
        }
        return project(hiddenStates: encoder.encode(pixels, pool: pool, progress: progress), pool: pool)
    }

    /// Mini-Gemini's image tokens before its final projector (CLIP's features plus the mined ones); nil for
    /// other projectors.
    public func minedFeatures(pixels: [Float], pool: ThreadPool) -> [Float]? {
        (projector as? any ImagePathProjector)?.minedFeatures(pixels: pixels, encoder: encoder, pool: pool, progress: nil, timing: nil)
    }

    /// Whether the projector reads the image itself beside the encoder (Mini-Gemini), timed by `timedEmbed`.
    public var ownsImagePath: Bool { projector is any ImagePathProjector }

    /// For projectors that own the image path: the embeddings and the seconds each part took (`glimpse bench`).
    public func timedEmbed(pixels: [Float], pool: ThreadPool) -> (embeddings: [Float], parts: [(String, Double)])? {
        guard let own = projector as? any ImagePathProjector else { return nil }
        var parts: [(String, Double)] = []
        let e = own.embed(pixels: pixels, encoder: encoder, pool: pool, progress: nil) { parts.append(($0, $1)) }
        return (e, parts)
    }

    /// The encoder's hidden states (as `hiddenStates` gives them) -> the image's token embeddings.
    public func project(hiddenStates hidden: [Float], pool: ThreadPool) -> [Float] {
        let d = encoder.width
        let patches = encoder.gridSide * encoder.gridSide
        guard encoder.hasClassToken else { return projector.project(hidden, count: patches, pool: pool) }
        if projector.usesClassToken { return projector.project(hidden, count: patches + 1, pool: pool) }
        return projector.project(Array(hidden[d...]), count: patches, pool: pool)
    }
}
