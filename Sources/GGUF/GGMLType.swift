/// The ggml tensor types Glimpse reads (ids from ggml.h; block layouts in formats.md §1.4).
public enum GGMLType: UInt32, CaseIterable, Sendable, CustomStringConvertible {
    case f32 = 0, f16 = 1
    case q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8
    case q4_K = 12, q5_K = 13, q6_K = 14
    case bf16 = 30

    /// Elements per quantization block (1 for plain float types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: return 32
        case .q4_K, .q5_K, .q6_K: return 256
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18
        case .q4_1: return 20
        case .q5_0: return 22
        case .q5_1: return 24
        case .q8_0: return 34
        case .q4_K: return 144
        case .q5_K: return 176
        case .q6_K: return 210
        }
    }

    public var description: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q5_0: return "Q5_0"
        case .q5_1: return "Q5_1"
        case .q8_0: return "Q8_0"
        case .q4_K: return "Q4_K"
        case .q5_K: return "Q5_K"
        case .q6_K: return "Q6_K"
        }
    }

    /// Names of ggml types Glimpse knows of but cannot compute with, for error messages.
    public static func knownName(ofUnsupported id: UInt32) -> String? {
        let names: [UInt32: String] = [
            9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL",
            21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64",
            29: "IQ1_M", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
        ]
        return names[id]
    }

    /// Bytes of one row of `elements` values, or nil when `elements` is not a whole number of blocks.
    public func rowBytes(_ elements: Int) -> Int? {
        guard elements % blockSize == 0 else { return nil }
        return elements / blockSize * blockBytes
    }
}
