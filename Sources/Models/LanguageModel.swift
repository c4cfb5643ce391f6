import GGUF
import Tensors
import Tokenizers

/// A loaded language model's weights: its mapped file, tokenizer, blueprint (tensor views into the file) and chat
/// template. Immutable, so any number of decoders (one per engine, each with its own threads and activations)
/// can run it at once while the file is mapped once.
public final class LanguageModel: @unchecked Sendable {
    public let file: GGUFFile
    public let architecture: String
    public let tokenizer: Tokenizer
    public let blueprint: DecoderBlueprint
    public let template: ChatTemplate

    public var vocabularySize: Int { blueprint.vocabularySize }

    /// Run state for these weights: activation buffers and the threads that compute.
    public func makeDecoder(pool: ThreadPool) -> TransformerDecoder {
        TransformerDecoder(blueprint: blueprint, pool: pool)
    }

    /// The same weights (nothing is copied or mapped again) under another chat template.
    public func with(template: ChatTemplate) -> LanguageModel {
        template == self.template ? self : LanguageModel(sharing: self, template: template)
    }

    /// The model this one shares its weights with, kept alive with it (stores that hold models weakly find it).
    private let base: LanguageModel?

    private init(sharing other: LanguageModel, template: ChatTemplate) {
        base = other
        file = other.file
        architecture = other.architecture
        tokenizer = other.tokenizer
        blueprint = other.blueprint
        self.template = template
    }

    /// Opens and checks a model file. `template` overrides the detected chat template.
    public init(path: String, template: ChatTemplate? = nil) throws {
        file = try GGUFFile(path: path)
        guard let arch = file["general.architecture"]?.string else {
            throw ModelError("\(path): no general.architecture key: not a model file?")
        }
        if arch == "clip" {
            throw ModelError("\(path): this is a vision projector (mmproj) file; pass it with --mmproj and give the language model with --model")
        }
        guard let kind = ArchitectureRegistry.architecture(named: arch) else {
            let known = ArchitectureRegistry.all.map { $0.name }.joined(separator: ", ")
            throw ModelError("\(path): unsupported architecture '\(arch)' (supported: \(known))")
        }
        architecture = arch
        base = nil
        let vocabulary: Vocabulary
        do {
            vocabulary = try Vocabulary(file: file)
            tokenizer = try Tokenizer(vocabulary: vocabulary)
        } catch let e as TokenizerError {
            throw ModelError("\(path): \(e.description)")
        }
        blueprint = try kind.blueprint(file: file)
        // Every token the tokenizer can produce needs a row in the embedding table.
        guard blueprint.vocabularySize >= vocabulary.count else {
            throw ModelError("\(path): the tokenizer has \(vocabulary.count) tokens but token_embd has \(blueprint.vocabularySize) rows")
        }
        self.template = template ?? ChatTemplate.detect(templateText: vocabulary.chatTemplate, architecture: arch,
                                                        hasToken: { vocabulary.idOf[$0] != nil })
    }
}
