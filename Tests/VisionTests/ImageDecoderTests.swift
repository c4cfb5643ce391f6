import Foundation
import Vision
import XCTest

/// Decoded pixels must equal Pillow's for the same files (tools/make_image_fixtures.py wrote both).
final class ImageDecoderTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/images")

    func testEveryKindDecodesLikePillow() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path)
            .filter { $0.hasSuffix(".jpg") || $0.hasSuffix(".png") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 20)
        for name in names {
            let image = try ImageDecoder.load(path: Self.directory.appendingPathComponent(name).path)
            let expected = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(
                name + ".rgb")))
            XCTAssertEqual(image.pixels.count, expected.count, "\(name): size \(image.width)x\(image.height)")
            let differing = zip(image.pixels, expected).filter { $0 != $1 }.count
            XCTAssertEqual(differing, 0, "\(name): \(differing) bytes differ from Pillow, first: \(Array(image.pixels.prefix(12))) vs \(Array(expected.prefix(12)))")
        }
    }

    func testOrientationSwapsSides() throws {
        let rotated = try ImageDecoder.load(path: Self.directory.appendingPathComponent("orientation6.jpg").path)
        XCTAssertEqual(rotated.width, 23)
        XCTAssertEqual(rotated.height, 37)
    }

    func testBadFilesAreRefusedWithAReason() {
        func message(_ name: String) -> String {
            do {
                _ = try ImageDecoder.load(path: Self.directory.appendingPathComponent(name).path)
                return "accepted"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(message("truncated.jpg.bad").contains("truncated JPEG"), message("truncated.jpg.bad"))
        XCTAssertTrue(message("truncated.png.bad").contains("corrupt PNG"), message("truncated.png.bad"))
        XCTAssertTrue(message("text.txt.bad").contains("not a JPEG or PNG image"), message("text.txt.bad"))
        XCTAssertTrue(message("no-such-file.png").contains("no such file"), message("no-such-file.png"))
        XCTAssertTrue(message("").contains("folder"), message(""))
    }

    func testPixelLimitIsCheckedBeforeDecoding() throws {
        let path = Self.directory.appendingPathComponent("baseline.jpg").path
        XCTAssertThrowsError(try ImageDecoder.load(path: path, pixelLimit: 100)) {
            XCTAssertTrue("\($0)".contains("image too large: 37x23 pixels is above the limit of 100"), "\($0)")
        }
    }

    func testRandomCorruptionNeverCrashes() throws {
        let good = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent("progressive.jpg")))
        let png = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent("interlaced.png")))
        var rng = SystemRandomNumberGenerator()
        for source in [good, png] {
            for _ in 0 ..< 400 {
                var m = source
                for _ in 0 ..< Int.random(in: 1 ... 6, using: &rng) {
                    m[Int.random(in: 0 ..< m.count, using: &rng)] = UInt8.random(in: 0 ... 255, using: &rng)
                }
                if Bool.random(using: &rng) { m = Array(m.prefix(Int.random(in: 0 ..< m.count, using: &rng))) }
                _ = try? ImageDecoder.decode(m)
            }
        }
    }
}
