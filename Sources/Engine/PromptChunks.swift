import Models
import Tokenizers
import Vision

/// A prompt as the decoder takes it: runs of token ids and images.
enum PromptChunk: Sendable {
    case tokens([Int32])
    /// The index of an image in the request, before its layout is known.
    case image(Int)
    /// Rows offset..<offset+count of image `image`'s embeddings (its layout puts text between runs of rows);
    /// `grid` when they lie on a rows x columns grid (Qwen2-VL's multimodal positions).
    case imageRows(image: Int, offset: Int, count: Int, grid: DecoderGrid? = nil)

    /// Positions it takes in the decoder.
    var length: Int {
        switch self {
        case .tokens(let ids): return ids.count
        case .image: return 0
        case .imageRows(_, _, let count, _): return count
        }
    }
}

extension PromptChunk {
    /// Splits rendered prompt text at image markers and tokenizes the pieces separately, BOS only on the first
    /// (as MiniGPT's `get_context_emb` and llama.cpp's mtmd do). The number of markers must equal `imageCount`.
    static func build(text: String, marker: String, imageCount: Int, tokenizer: Tokenizer, parseSpecial: Bool) throws -> [PromptChunk] {
        let pieces = text.components(separatedBy: marker)
        guard pieces.count - 1 == imageCount else {
            if imageCount == 0 {
                throw EngineError("the prompt has an image marker (\(marker)) but no image was given")
            }
            throw EngineError("the prompt has \(pieces.count - 1) image markers for \(imageCount) images")
        }
        var chunks: [PromptChunk] = []
        for (i, piece) in pieces.enumerated() {
            let ids = tokenizer.encode(piece, addSpecial: i == 0, parseSpecial: parseSpecial)
            if !ids.isEmpty { chunks.append(.tokens(ids)) }
            if i < imageCount { chunks.append(.image(i)) }
        }
        return chunks
    }
}

extension PromptChunk {
    /// Each `.image(i)` replaced by its layout: text tokenized (special tokens on, no BOS) and runs of rows.
    static func expand(_ chunks: [PromptChunk], layouts: [ImageLayout], tokenizer: Tokenizer) -> [PromptChunk] {
        var out: [PromptChunk] = []
        for chunk in chunks {
            guard case .image(let i) = chunk else { out.append(chunk); continue }
            var offset = 0
            for part in layouts[i].parts {
                switch part {
                case .text(let text):
                    let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
                    if !ids.isEmpty { out.append(.tokens(ids)) }
                case .embeddings(let n):
                    out.append(.imageRows(image: i, offset: offset, count: n))
                    offset += n
                case .grid(let rows, let columns):
                    out.append(.imageRows(image: i, offset: offset, count: rows * columns,
                                          grid: DecoderGrid(rows: rows, columns: columns)))
                    offset += rows * columns
                }
            }
        }
        return out
    }
}

public struct EngineError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A content key for an image, so the same pixels are encoded once (FNV-1a over size and pixels).
struct ImageKey: Hashable, Sendable {
    let value: UInt64

    init(_ image: RGBImage) {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for v in [UInt64(image.width), UInt64(image.height)] { h = (h ^ v) &* 0x100_0000_01B3 }
        image.pixels.withUnsafeBufferPointer { p in
            for b in p { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        }
        value = h
    }

    /// Stand-in ids for the image's positions in the cached token history (negative: never a real token),
    /// so a later turn with the same image reuses the cache up to and past it.
    func placeholderIDs(_ count: Int) -> [Int32] {
        let base = Int32(truncatingIfNeeded: value & 0x3FFF_FFFF)
        return (0 ..< count).map { -1 - ((base &+ Int32($0)) & 0x3FFF_FFFF) }
    }
}
