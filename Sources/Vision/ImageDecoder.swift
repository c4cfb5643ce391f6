import CImageCodec
import Foundation

/// Why an image could not be used; `description` is one line for the user.
public struct ImageError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reads JPEG and PNG files into RGB, applying a JPEG's EXIF orientation (phone photos).
public enum ImageDecoder {
    /// Images above this many pixels are refused before their pixels are allocated (about 64 megapixels:
    /// larger than any camera's JPEG, small enough that decoding cannot exhaust memory).
    public static let defaultPixelLimit: UInt64 = 8192 * 8192

    public static func load(path: String, pixelLimit: UInt64 = defaultPixelLimit) throws -> RGBImage {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
                throw ImageError(isDir.boolValue ? "\(path): is a folder, not an image" : "\(path): cannot be read")
            }
            throw ImageError("\(path): no such file")
        }
        do {
            return try decode([UInt8](data), pixelLimit: pixelLimit)
        } catch let e as ImageError {
            throw ImageError("\(path): \(e.description)")
        }
    }

    public static func decode(_ bytes: [UInt8], pixelLimit: UInt64 = defaultPixelLimit) throws -> RGBImage {
        let isJPEG = bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
        let isPNG = bytes.count >= 8 && bytes[0 ..< 8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        guard isJPEG || isPNG else { throw ImageError("not a JPEG or PNG image") }
        var out = glimpse_image()
        let status = bytes.withUnsafeBufferPointer { buf in
            isJPEG ? glimpse_decode_jpeg(buf.baseAddress, buf.count, pixelLimit, &out)
                : glimpse_decode_png(buf.baseAddress, buf.count, pixelLimit, &out)
        }
        defer { glimpse_image_free(&out) }
        let message = withUnsafeBytes(of: out.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let kind = isJPEG ? "JPEG" : "PNG"
        switch status {
        case GLIMPSE_IMAGE_OK: break
        case GLIMPSE_IMAGE_TOO_LARGE: throw ImageError("image too large: \(message)")
        case GLIMPSE_IMAGE_NO_MEMORY: throw ImageError("not enough memory to decode the image")
        default: throw ImageError("corrupt \(kind): \(message.isEmpty ? "unreadable data" : message)")
        }
        // libjpeg fills a truncated file's missing rows with grey and only warns: refuse it rather than use it.
        if isJPEG && out.warnings > 0 {
            throw ImageError("corrupt or truncated JPEG: \(message)")
        }
        let count = Int(out.width) * Int(out.height) * 3
        var image = RGBImage(width: Int(out.width), height: Int(out.height),
                             pixels: Array(UnsafeBufferPointer(start: out.pixels, count: count)))
        if isJPEG, let orientation = ExifOrientation.read(jpeg: bytes) {
            image = orientation.apply(to: image)
        }
        return image
    }
}
