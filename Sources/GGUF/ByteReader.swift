/// Little-endian cursor over the mapped file that refuses every read past the end.
/// Faults are plain strings; `GGUFFile` adds the path.
struct ByteReader {
    struct Fault: Error { let message: String }

    let base: UnsafeRawBufferPointer
    private(set) var offset: Int = 0

    init(_ base: UnsafeRawBufferPointer) { self.base = base }

    var remaining: Int { base.count - offset }

    mutating func skip(to newOffset: Int) throws {
        guard newOffset >= 0, newOffset <= base.count else {
            throw Fault(message: "offset \(newOffset) is past the end of the file (\(base.count) bytes)")
        }
        offset = newOffset
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else {
            throw Fault(message: "truncated: \(what()) at byte \(offset) needs \(size) bytes, \(remaining) left")
        }
        let value = base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    mutating func readFloat(_ what: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    mutating func readDouble(_ what: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// A count stored as u64, checked to fit in memory: each counted item needs at least
    /// `minItemBytes`, so a count the rest of the file cannot hold is refused before any allocation.
    mutating func readCount(_ what: @autoclosure () -> String, minItemBytes: Int) throws -> Int {
        let at = offset
        let raw = try read(UInt64.self, what())
        guard raw <= UInt64(remaining / max(minItemBytes, 1)) else {
            throw Fault(message: "truncated or corrupt: \(what()) at byte \(at) is \(raw), more than the \(remaining) bytes left can hold")
        }
        return Int(raw)
    }

    mutating func readString(_ what: @autoclosure () -> String) throws -> String {
        let length = try readCount("length of \(what())", minItemBytes: 1)
        let bytes = UnsafeRawBufferPointer(rebasing: base[offset ..< offset + length])
        offset += length
        // Invalid UTF-8 is repaired rather than refused: vocabularies hold raw byte pieces.
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func readArray<T: FixedWidthInteger>(_: T.Type, count: Int, _ what: String) throws -> [T] {
        let size = MemoryLayout<T>.size
        guard count <= remaining / size else {
            throw Fault(message: "truncated: \(what) needs \(count * size) bytes, \(remaining) left")
        }
        var out = [T](repeating: 0, count: count)
        out.withUnsafeMutableBytes { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: base[offset ..< offset + count * size]))
        }
        offset += count * size
        if T.self != UInt8.self && T.self != Int8.self {
            for i in 0 ..< count { out[i] = T(littleEndian: out[i]) }
        }
        return out
    }
}
