import Foundation
import GGUF
import XCTest

/// A malformed file is refused with one line naming the file and the fault; never a crash or a read past the map.
final class GGUFMutationTests: XCTestCase {
    /// A small valid GGUF v3: every metadata type, two tensors (F32 and Q8_0).
    static func validFile(version: UInt32 = 3, firstTensorType: UInt32 = 0) -> [UInt8] {
        var b: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); b += Array(s.utf8) }
        b += Array("GGUF".utf8); u32(version); u64(2); u64(9)
        str("general.architecture"); u32(8); str("llama")
        str("a.u8"); u32(0); b.append(7)
        str("a.i16"); u32(3); b += [0xFE, 0xFF]
        str("a.f32"); u32(6); withUnsafeBytes(of: Float(1.5).bitPattern.littleEndian) { b += $0 }
        str("a.bool"); u32(7); b.append(1)
        str("a.u64"); u32(10); u64(123)
        str("a.f64"); u32(12); withUnsafeBytes(of: Double(2.5).bitPattern.littleEndian) { b += $0 }
        str("a.arr"); u32(9); u32(8); u64(2); str("x"); str("yz")
        str("general.alignment"); u32(4); u32(32)
        str("t0"); u32(1); u64(32); u32(firstTensorType); u64(0) // F32 [32]: 128 bytes
        str("t1"); u32(2); u64(32); u64(2); u32(8); u64(128) // Q8_0 [32, 2]: 68 bytes
        while b.count % 32 != 0 { b.append(0) }
        for i in 0 ..< 128 + 68 { b.append(UInt8(truncatingIfNeeded: i)) }
        return b
    }

    func write(_ bytes: [UInt8], _ url: URL) throws { try Data(bytes).write(to: url) }

    func testValidFileParses() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-valid.gguf")
        for version: UInt32 in [2, 3] {
            try write(Self.validFile(version: version), url)
            let f = try GGUFFile(path: url.path)
            XCTAssertEqual(f.metadata["a.i16"], .int16(-2))
            XCTAssertEqual(f.metadata["a.arr"], .array(.string(["x", "yz"])))
            XCTAssertEqual(f.metadata["a.f64"], .float64(2.5))
            XCTAssertEqual(f.tensors.map(\.name), ["t0", "t1"])
            XCTAssertEqual(f.tensorInfo("t1")?.byteCount, 68)
        }
    }

    func testMutationsAreRefusedCleanly() throws {
        let valid = Self.validFile()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-mutant-\(getpid()).gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        var rng = SystemRandomNumberGenerator()
        var refused = 0, accepted = 0
        func check(_ bytes: [UInt8], _ what: String) throws {
            try write(bytes, url)
            do {
                let f = try GGUFFile(path: url.path)
                // Whatever parses must have every tensor inside the file.
                for t in f.tensors { XCTAssertLessThanOrEqual(f.dataOffset + t.offset + t.byteCount, f.fileSize, what) }
                accepted += 1
            } catch let e as GGUFError {
                XCTAssertTrue(e.description.hasPrefix(url.path + ": "), "\(what): \(e)")
                XCTAssertFalse(e.description.contains("\n"), "\(what): more than one line")
                refused += 1
            }
        }
        for n in 0 ..< valid.count { try check(Array(valid[..<n]), "truncated to \(n)") }
        for _ in 0 ..< 3000 {
            var m = valid
            for _ in 0 ..< Int.random(in: 1 ... 4, using: &rng) {
                let i = Int.random(in: 0 ..< m.count, using: &rng)
                m[i] ^= UInt8(1) << UInt8.random(in: 0 ... 7, using: &rng)
            }
            try check(m, "bit flips")
        }
        // Huge counts and lengths at every 8-byte field position of the header.
        for i in stride(from: 8, to: 400, by: 1) where i + 8 <= valid.count {
            var m = valid
            for j in 0 ..< 8 { m[i + j] = 0xFF }
            try check(m, "0xFF x8 at \(i)")
        }
        XCTAssertGreaterThan(refused, 1000)
        XCTAssertGreaterThan(accepted, 0)
    }

    func testNamedFaults() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-fault.gguf")
        var bad = Self.validFile(); bad[0] = 0x58
        try write(bad, url)
        XCTAssertThrowsError(try GGUFFile(path: url.path)) { XCTAssertTrue("\($0)".contains("not a GGUF file")) }
        XCTAssertThrowsError(try GGUFFile(path: "/nonexistent/model.gguf")) { XCTAssertTrue("\($0)".contains("cannot open")) }
        try write(Self.validFile(firstTensorType: 10), url)
        XCTAssertThrowsError(try GGUFFile(path: url.path)) {
            XCTAssertTrue("\($0)".contains("tensor 't0' has unsupported tensor type 10 (Q2_K)"), "\($0)")
        }
        let valid = Self.validFile()
        try write(valid, url)
        let dataStart = try GGUFFile(path: url.path).dataOffset
        // Cut inside the last tensor, and just into the first one's data: the same message, with both sizes.
        for cut in [valid.count - 10, dataStart + 1] {
            try write(Array(valid[..<cut]), url)
            XCTAssertThrowsError(try GGUFFile(path: url.path)) {
                XCTAssertTrue("\($0)".contains("the file is truncated: it has \(cut) bytes, its tensors need \(valid.count)"), "\($0)")
            }
        }
    }
}
