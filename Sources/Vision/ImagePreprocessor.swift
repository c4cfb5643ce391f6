/// Turns an image into the normalized planar float tensor a vision encoder takes, the way the model's
/// reference does it (formats.md §4.6, §5.7).
public struct ImagePreprocessor: Sendable {
    public enum Fit: Sendable, Equatable {
        /// MiniGPT-4/v2: resize to a square, ignoring the aspect ratio.
        case stretch
        /// LLaVA-1.5: pad to a square with this colour (the mean, in 0...255), centred, then resize.
        case padToSquare(red: UInt8, green: UInt8, blue: UInt8)
    }

    public let size: Int
    public let mean: [Float]
    public let std: [Float]
    public let fit: Fit
    public let filter: ResampleFilter

    public init(size: Int, mean: [Float], std: [Float], fit: Fit, filter: ResampleFilter = .bicubic) {
        self.size = size
        self.mean = mean
        self.std = std
        self.fit = fit
        self.filter = filter
    }

    /// The square RGB image the encoder will see.
    public func fitted(_ image: RGBImage) -> RGBImage {
        var square = image
        if case .padToSquare(let r, let g, let b) = fit, image.width != image.height {
            let side = max(image.width, image.height)
            square = RGBImage(width: side, height: side, fill: (r, g, b))
            let ox = (side - image.width) / 2, oy = (side - image.height) / 2
            for y in 0 ..< image.height {
                let src = 3 * y * image.width, dst = 3 * ((y + oy) * side + ox)
                square.pixels.replaceSubrange(dst ..< dst + 3 * image.width, with: image.pixels[src ..< src + 3 * image.width])
            }
        }
        return Resampler.resize(square, width: size, height: size, filter: filter)
    }

    /// [3][size][size] floats: (value/255 - mean[c]) / std[c].
    public func tensor(_ image: RGBImage) -> [Float] {
        let fittedImage = fitted(image)
        let n = size * size
        var out = [Float](repeating: 0, count: 3 * n)
        for i in 0 ..< n {
            for c in 0 ..< 3 {
                out[c * n + i] = (Float(fittedImage.pixels[3 * i + c]) * (1 / 255) - mean[c]) / std[c]
            }
        }
        return out
    }
}
