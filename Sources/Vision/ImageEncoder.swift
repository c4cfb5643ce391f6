import CImageCodec

/// Encodes RGB images as files, for sending them to a server (remote panes).
public enum ImageEncoder {
    public struct Encoded: Sendable {
        public let bytes: [UInt8]
        /// "image/png" or "image/jpeg".
        public let mediaType: String
        public let width: Int
        public let height: Int
    }

    public static func png(_ image: RGBImage) throws -> Encoded {
        try encode(image, mediaType: "image/png") { glimpse_encode_png($0, UInt32(image.width), UInt32(image.height), &$1) }
    }

    public static func jpeg(_ image: RGBImage, quality: Int = 90) throws -> Encoded {
        let q = Int32(min(100, max(1, quality)))
        return try encode(image, mediaType: "image/jpeg") {
            glimpse_encode_jpeg($0, UInt32(image.width), UInt32(image.height), q, &$1)
        }
    }

    /// PNG keeps the pixels exact (a server running the same model then sees what a local pane sees); a photo
    /// whose PNG would pass `pngLimit` bytes goes as JPEG instead, so a 12-megapixel picture is not 20 MB of base64.
    public static func forUpload(_ image: RGBImage, pngLimit: Int = 1 << 20) throws -> Encoded {
        // Raw RGB bytes bound what PNG can reach: skip the PNG attempt when even a 3x deflate could not fit.
        if image.pixels.count <= pngLimit * 3 {
            let encoded = try png(image)
            if encoded.bytes.count <= pngLimit { return encoded }
        }
        return try jpeg(image)
    }

    private static func encode(_ image: RGBImage, mediaType: String,
                               _ call: (UnsafePointer<UInt8>, inout glimpse_encoded) -> glimpse_image_status) throws -> Encoded {
        guard image.width > 0, image.height > 0 else { throw ImageError("an empty image cannot be encoded") }
        var out = glimpse_encoded()
        let status = image.pixels.withUnsafeBufferPointer { call($0.baseAddress!, &out) }
        defer { glimpse_encoded_free(&out) }
        guard status == GLIMPSE_IMAGE_OK else {
            let message = withUnsafeBytes(of: out.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw ImageError("the image could not be encoded as \(mediaType): \(message)")
        }
        return Encoded(bytes: Array(UnsafeBufferPointer(start: out.bytes, count: out.size)), mediaType: mediaType,
                       width: image.width, height: image.height)
    }
}
