/// One tensor's entry in the file header, already validated against the file's size.
public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// ggml dimensions: `shape[0]` is the contiguous one (a PyTorch `[out, in]` weight is `[in, out]`).
    public let shape: [Int]
    public let type: GGMLType
    /// Offset of the first byte relative to the data section.
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
    /// Length of one row (`shape[0]`) and the number of rows (product of the other dimensions).
    public var rowLength: Int { shape.first ?? 1 }
    public var rowCount: Int { shape.dropFirst().reduce(1, *) }
}
