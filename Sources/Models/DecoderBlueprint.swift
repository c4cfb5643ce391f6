import Tensors

/// Everything the shared decoder needs to run one LLaMA-family model. Architecture files fill this in
/// from their GGUF keys and tensor names; `TransformerDecoder` executes it.
public struct DecoderBlueprint: Sendable {
    public struct Layer: Sendable {
        public var attentionNorm: [Float]            // [n_embd]
        public var query: TensorView                 // [n_embd, n_head·head_dim]
        public var key: TensorView                   // [n_embd, n_head_kv·head_dim]
        public var value: TensorView                 // [n_embd, n_head_kv·head_dim]
        public var output: TensorView                // [n_head·head_dim, n_embd]
        public var queryBias: [Float]? = nil         // [n_head·head_dim]
        public var keyBias: [Float]? = nil           // [n_head_kv·head_dim]
        public var valueBias: [Float]? = nil         // [n_head_kv·head_dim]
        public var outputBias: [Float]? = nil        // [n_embd]
        public var queryNorm: [Float]? = nil         // [head_dim], per-head RMS norm (gemma3)
        public var keyNorm: [Float]? = nil           // [head_dim]
        public var postAttentionNorm: [Float]? = nil // [n_embd], applied to the attention output (gemma3)
        public var ffnNorm: [Float]                  // [n_embd]
        public var gate: TensorView                  // [n_embd, n_ff]
        public var up: TensorView                    // [n_embd, n_ff]
        public var down: TensorView                  // [n_ff, n_embd]
        public var postFFNNorm: [Float]? = nil       // [n_embd], applied to the FFN output (gemma3)
        public var rope: Rope
        /// Keys further back than this are masked (sliding-window layers); nil = full causal attention.
        public var window: Int? = nil
    }

    public var embeddingLength: Int
    public var headCount: Int
    public var headCountKV: Int
    public var headDim: Int
    public var feedForwardLength: Int
    public var contextLength: Int
    public var normEpsilon: Float
    public var activation: Activation
    /// Multiplies token embeddings (not injected image embeddings): sqrt(n_embd) for gemma.
    public var embeddingScale: Float = 1
    /// Whether `embeddingScale` also multiplies injected embeddings (image tokens): gemma, not gemma3.
    public var scalesInjectedEmbeddings = false
    /// Scale of q·k (1/sqrt(head_dim) for llama).
    public var attentionScale: Float
    /// logits = c·tanh(logits/c) when set.
    public var finalLogitSoftcap: Float? = nil

    public var tokenEmbedding: TensorView            // [n_embd, n_vocab]
    public var outputNorm: [Float]                   // [n_embd]
    public var output: TensorView                    // [n_embd, n_vocab] (token_embd when tied)
    public var layers: [Layer]

    public var vocabularySize: Int { tokenEmbedding.rowCount }
    /// Whether the rope turns by (time, row, column) positions, so images are placed on grids (qwen2vl).
    public var multimodalRope: Bool { layers.first?.rope.pairComponents != nil }
    public var kvDim: Int { headCountKV * headDim }
    public var queryDim: Int { headCount * headDim }
}
