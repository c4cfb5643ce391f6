import GGUF
import Tensors
import Tokenizers

/// A loaded language model: its file, tokenizer, decoder and chat template.
public final class LanguageModel: @unchecked Sendable {
    public let file: GGUFFile
    public let architecture: String
    public let tokenizer: Tokenizer
    public let decoder: TransformerDecoder
    public let template: ChatTemplate

    public var vocabularySize: Int { decoder.blueprint.vocabularySize }

    /// Opens and checks a model file. `template` overrides the detected chat template.
    public init(path: String, pool: ThreadPool, template: ChatTemplate? = nil) throws {
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
        let vocabulary: Vocabulary
        do {
            vocabulary = try Vocabulary(file: file)
            tokenizer = try Tokenizer(vocabulary: vocabulary)
        } catch let e as TokenizerError {
            throw ModelError("\(path): \(e.description)")
        }
        let blueprint = try kind.blueprint(file: file)
        // Every token the tokenizer can produce needs a row in the embedding table.
        guard blueprint.vocabularySize >= vocabulary.count else {
            throw ModelError("\(path): the tokenizer has \(vocabulary.count) tokens but token_embd has \(blueprint.vocabularySize) rows")
        }
        decoder = TransformerDecoder(blueprint: blueprint, pool: pool)
        self.template = template ?? ChatTemplate.detect(templateText: vocabulary.chatTemplate, architecture: arch,
                                                        hasToken: { vocabulary.idOf[$0] != nil })
    }
}
