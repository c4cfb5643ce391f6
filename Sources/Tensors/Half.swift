// Scalar conversions for the 16-bit float formats stored in GGUF files.

@inline(__always) public func halfToFloat(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }

@inline(__always) public func floatToHalf(_ value: Float) -> UInt16 { Float16(value).bitPattern }

@inline(__always) public func bf16ToFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

/// Round-to-nearest-even, as ggml's `GGML_FP32_TO_BF16` does for finite values.
@inline(__always) public func floatToBF16(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(truncatingIfNeeded: (bits >> 16) | 64) }
    return UInt16(truncatingIfNeeded: (bits &+ (0x7FFF &+ ((bits >> 16) & 1))) >> 16)
}

@inline(__always) func loadHalf(_ p: UnsafeRawPointer, _ offset: Int = 0) -> Float {
    halfToFloat(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}
