import Foundation
import Vision
import XCTest

/// Resizing must equal Pillow's byte for byte (upscaling, downscaling with anti-aliasing, all three filters).
final class ResamplerTests: XCTestCase {
    static let directory = ImageDecoderTests.directory

    func testResizeEqualsPillow() throws {
        let source = try ImageDecoder.load(path: Self.directory.appendingPathComponent("resize-source.png").path)
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { name in
            name.hasPrefix("resize-") && ["bicubic.rgb", "bilinear.rgb", "lanczos.rgb"].contains { name.hasSuffix($0) }
        }
        XCTAssertGreaterThanOrEqual(names.count, 18)
        for name in names {
            // resize-WxH-FILTER.rgb
            let parts = name.dropFirst(7).dropLast(4).split(separator: "-")
            let size = parts[0].split(separator: "x").map { Int($0)! }
            let filter: ResampleFilter = parts[1] == "bicubic" ? .bicubic : parts[1] == "lanczos" ? .lanczos : .bilinear
            let got = Resampler.resize(source, width: size[0], height: size[1], filter: filter)
            let want = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(name)))
            let differing = zip(got.pixels, want).filter { $0 != $1 }.count
            XCTAssertEqual(got.pixels.count, want.count, name)
            XCTAssertEqual(differing, 0, "\(name): \(differing) bytes differ from Pillow")
        }
    }
}
