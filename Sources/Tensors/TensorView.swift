import GGUF

/// A read-only view of a tensor's bytes (usually inside a memory-mapped GGUF file; nothing is copied).
/// Rows are `shape[0]` elements long and contiguous; a linear layer's weight has one row per output unit.
public struct TensorView: @unchecked Sendable {
    public let name: String
    public let type: GGMLType
    public let shape: [Int]
    public let data: UnsafeRawPointer
    /// Owner of the memory (the mapped file or a buffer), kept alive as long as the view.
    let owner: AnyObject?

    public init(name: String, type: GGMLType, shape: [Int], data: UnsafeRawPointer, owner: AnyObject?) {
        self.name = name
        self.type = type
        self.shape = shape
        self.data = data
        self.owner = owner
    }

    public var rowLength: Int { shape[0] }
    public var rowCount: Int { shape.dropFirst().reduce(1, *) }
    public var rowBytes: Int { type.rowBytes(rowLength)! }
    public var elementCount: Int { shape.reduce(1, *) }

    public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }

    /// Dequantizes row `r` into `out` (`rowLength` floats).
    public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        Dequantize.row(type, row(r), out, rowLength)
    }

    /// The whole tensor as floats (for small tensors: norms, biases).
    public func floats() -> [Float] {
        var out = [Float](repeating: 0, count: elementCount)
        out.withUnsafeMutableBufferPointer { buf in
            for r in 0 ..< rowCount { dequantizeRow(r, into: buf.baseAddress! + r * rowLength) }
        }
        return out
    }
}

extension GGUFFile {
    /// A zero-copy view of the named tensor, or nil if the file has none.
    public func view(_ name: String) -> TensorView? {
        guard let info = tensorInfo(name) else { return nil }
        return TensorView(name: name, type: info.type, shape: info.shape, data: data(of: info), owner: self)
    }
}

/// A float tensor owned by Swift (activations, converted small weights).
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }
}
