import GGUF

/// Token attributes as the GGUF converter writes them in `tokenizer.ggml.token_type`.
public enum TokenKind: Int32, Sendable {
    case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

/// Metadata keys of the tokenizer (formats.md §3.1).
enum TokenizerKey {
    static let model = "tokenizer.ggml.model"
    static let pre = "tokenizer.ggml.pre"
    static let tokens = "tokenizer.ggml.tokens"
    static let scores = "tokenizer.ggml.scores"
    static let types = "tokenizer.ggml.token_type"
    static let merges = "tokenizer.ggml.merges"
    static let bos = "tokenizer.ggml.bos_token_id"
    static let eos = "tokenizer.ggml.eos_token_id"
    static let eot = "tokenizer.ggml.eot_token_id"
    static let eom = "tokenizer.ggml.eom_token_id"
    static let unknown = "tokenizer.ggml.unknown_token_id"
    static let padding = "tokenizer.ggml.padding_token_id"
    static let addBOS = "tokenizer.ggml.add_bos_token"
    static let addEOS = "tokenizer.ggml.add_eos_token"
    static let addSpacePrefix = "tokenizer.ggml.add_space_prefix"
    static let chatTemplate = "tokenizer.chat_template"
}

public struct TokenizerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The token table and special ids of a model, read from GGUF metadata.
public struct Vocabulary: Sendable {
    public enum Model: String, Sendable { case sentencePiece = "llama", bytePairs = "gpt2" }

    public let model: Model
    public let preTokenizer: String
    public let tokens: [String]
    public let scores: [Float]
    public let kinds: [TokenKind]
    public let idOf: [String: Int32]
    public let merges: [String]
    public let bos: Int32?
    public let eos: Int32?
    public let unknown: Int32?
    public let addBOS: Bool
    public let addEOS: Bool
    public let addSpacePrefix: Bool
    /// Tokens that end a generation (eos, eot, eom and the usual end-of-turn texts).
    public let endOfGeneration: Set<Int32>
    public let chatTemplate: String?

    public var count: Int { tokens.count }

    public init(file: GGUFFile) throws {
        let fail = { (msg: String) in GGUFError(path: file.path, fault: msg) }
        guard let modelName = file[TokenizerKey.model]?.string else {
            throw fail("no tokenizer in this file (\(TokenizerKey.model) is missing)")
        }
        guard let model = Model(rawValue: modelName) else {
            throw fail("unsupported tokenizer model '\(modelName)' (supported: llama (SentencePiece), gpt2 (byte-level BPE))")
        }
        guard let tokens = file[TokenizerKey.tokens]?.array?.strings, !tokens.isEmpty else {
            throw fail("tokenizer has no token list (\(TokenizerKey.tokens))")
        }
        self.model = model
        self.tokens = tokens
        preTokenizer = file[TokenizerKey.pre]?.string ?? "default"
        let scores = file[TokenizerKey.scores]?.array?.floats ?? []
        self.scores = scores.count == tokens.count ? scores : [Float](repeating: 0, count: tokens.count)
        let rawKinds = file[TokenizerKey.types]?.array?.ints ?? []
        kinds = rawKinds.count == tokens.count
            ? rawKinds.map { TokenKind(rawValue: Int32(clamping: $0)) ?? .normal }
            : [TokenKind](repeating: .normal, count: tokens.count)
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = Int32(i) }
        idOf = ids
        merges = file[TokenizerKey.merges]?.array?.strings ?? []
        if model == .bytePairs && merges.isEmpty { throw fail("byte-level BPE tokenizer has no merges") }

        func id(_ key: String, default value: Int32?) throws -> Int32? {
            guard let v = file[key] else { return value }
            guard let i = v.int else { throw fail("metadata '\(key)' is not an integer") }
            // Some converters write -1 (as u32: 4294967295) for "none".
            if i < 0 || i == Int(UInt32.max) { return nil }
            guard i < tokens.count else { throw fail("metadata '\(key)' = \(i) is not a token id (vocabulary has \(tokens.count))") }
            return Int32(i)
        }
        let isSPM = model == .sentencePiece
        bos = try id(TokenizerKey.bos, default: isSPM ? 1 : 11)
        eos = try id(TokenizerKey.eos, default: isSPM ? 2 : 11)
        unknown = try id(TokenizerKey.unknown, default: isSPM ? 0 : nil)
        let eot = try id(TokenizerKey.eot, default: nil)
        let eom = try id(TokenizerKey.eom, default: nil)
        addBOS = file[TokenizerKey.addBOS]?.bool ?? (isSPM || ["llama-bpe", "llama3", "llama-v3"].contains(preTokenizer))
        addEOS = file[TokenizerKey.addEOS]?.bool ?? false
        addSpacePrefix = file[TokenizerKey.addSpacePrefix]?.bool ?? isSPM
        chatTemplate = file[TokenizerKey.chatTemplate]?.string

        var eog = Set([eos, eot, eom].compactMap { $0 })
        for text in ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<end_of_utterance>",
                     "<|end_of_text|>", "<EOT>", "<|eom_id|>"] {
            if let i = ids[text], kinds[Int(i)] == .control || kinds[Int(i)] == .userDefined { eog.insert(i) }
        }
        endOfGeneration = eog
    }

    public func kind(_ id: Int32) -> TokenKind { kinds[Int(id)] }
    public func isValid(_ id: Int32) -> Bool { id >= 0 && Int(id) < tokens.count }
}
