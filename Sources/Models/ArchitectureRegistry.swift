import GGUF

/// A decoder architecture: reads its hyperparameters and tensors from a GGUF file.
public protocol Architecture {
    /// The value of `general.architecture`.
    static var name: String { get }
    static func blueprint(file: GGUFFile) throws -> DecoderBlueprint
}

/// The architectures Glimpse can run. Adding one is a new file in Architectures/ and a line here.
public enum ArchitectureRegistry {
    public static let all: [any Architecture.Type] = [
        LlamaArchitecture.self,
        Gemma3Architecture.self,
        GemmaArchitecture.self,
        Qwen2Architecture.self,
        Qwen2VLArchitecture.self,
    ]

    public static func architecture(named name: String) -> (any Architecture.Type)? {
        all.first { $0.name == name }
    }
}
