/// Keys and values of every position seen so far, per layer: row-major [capacity][n_head_kv·head_dim] floats.
public final class KVCache: @unchecked Sendable {
    public let capacity: Int
    public let layers: Int
    public let kvDim: Int
    /// Positions filled so far (the next token goes at `count`).
    public internal(set) var count = 0
    let keys: [UnsafeMutablePointer<Float>]
    let values: [UnsafeMutablePointer<Float>]
    /// The rope position the next input starts at. It equals `count` except after an image laid on a grid, which
    /// advances it by its longer side only (Qwen2-VL's multimodal positions).
    public internal(set) var nextPosition = 0
    /// `nextPosition` after each slot, so truncating restores it.
    let positionAfter: UnsafeMutablePointer<Int32>

    public init(layers: Int, capacity: Int, kvDim: Int) {
        self.capacity = capacity
        self.layers = layers
        self.kvDim = kvDim
        keys = (0 ..< layers).map { _ in .allocate(capacity: capacity * kvDim) }
        values = (0 ..< layers).map { _ in .allocate(capacity: capacity * kvDim) }
        positionAfter = .allocate(capacity: max(1, capacity))
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
        positionAfter.deallocate()
    }

    /// Forgets positions from `position` on (to reuse a shared prefix of a conversation).
    public func truncate(to position: Int) {
        count = min(count, max(0, position))
        nextPosition = count == 0 ? 0 : Int(positionAfter[count - 1])
    }

    public var bytes: Int { 2 * layers * capacity * kvDim * MemoryLayout<Float>.size }
}
