import GGUF

/// `qwen2vl`: the language model of Qwen2-VL and Qwen2.5-VL (small-vlms.md §3): Qwen2's layers with multimodal
/// rope. Each rotated pair turns by one of three positions, time, row or column, by the sections in
/// `rope.dimension_sections` ([16, 24, 24]): text has the same position in all three, an image's tokens the
/// image's start in time and start + row, start + column in the others, and the text after it continues from
/// start + the grid's longer side (transformers' `get_rope_index`, llama.cpp's mtmd).
public enum Qwen2VLArchitecture: Architecture {
    public static let name = "qwen2vl"

    struct Sections: Decodable {
        let sections: [Int]
        enum CodingKeys: String, CodingKey { case sections = "rope.dimension_sections" }
    }

    public static func blueprint(file: GGUFFile) throws -> DecoderBlueprint {
        let sections = try file.decode(Sections.self, prefix: "\(name).").sections
        guard sections.count >= 3, sections.allSatisfy({ $0 >= 0 }), sections.reduce(0, +) > 0 else {
            throw ModelError("\(file.path): qwen2vl.rope.dimension_sections \(sections) is not a list of section sizes")
        }
        return try Qwen2Architecture.blueprint(file: file, prefix: name, sections: sections)
    }
}
