import Foundation

/// Which vision projector (mmproj) file goes with a language model in the same folder. Files come named in
/// several ways: Glimpse's `X-mmproj.gguf`, LLaVA's `llava-v1.5-7b-mmproj-f16.gguf` beside
/// `llava-v1.5-7b-Q4_K_M.gguf`, ggml-org's `mmproj-model-f16.gguf` alone in a model's folder. The rules, in order:
/// 1. `X-mmproj.gguf` beside `X.gguf`;
/// 2. the one projector whose name, less "mmproj" and precision or quantization tags, is the model's name less
///    its own tags;
/// 3. the only projector of a folder whose only language model this is.
/// Anything else is ambiguous, and nothing is paired: config.toml's `mmproj` or `--mmproj` says it then.
enum ProjectorPairing {
    /// `files`: the names in the model's folder; `isProjector` tells an mmproj file from a language model.
    static func projector(for model: String, among files: [String], isProjector: (String) -> Bool) -> String? {
        let stem = (model as NSString).deletingPathExtension
        if files.contains(stem + "-mmproj.gguf") { return stem + "-mmproj.gguf" }
        let ggufs = files.filter { $0.lowercased().hasSuffix(".gguf") }
        let projectors = ggufs.filter { $0.lowercased().contains("mmproj") && isProjector($0) }
        let sameName = projectors.filter { words($0) == words(model) }
        if sameName.count == 1 { return sameName[0] }
        let models = ggufs.filter { !projectors.contains($0) && !$0.lowercased().contains("mmproj") }
        if projectors.count == 1, models == [model] { return projectors[0] }
        return nil
    }

    /// The name's words, less "mmproj" and tags like f16, bf16, q8_0, Q4_K_M, IQ4_XS. Tags are dropped whole before
    /// `_` splits the rest, so a name's own "1" or "m" stays a word.
    static func words(_ file: String) -> [String] {
        let stem = ((file as NSString).deletingPathExtension).lowercased()
        return stem.split(whereSeparator: { $0 == "-" || $0 == "." }).filter { !isTag($0) }
            .flatMap { $0.split(separator: "_") }.map(String.init)
            .filter { $0 != "mmproj" && $0 != "model" }
    }

    /// A precision (f16, bf16, fp32, ...) or a quantization (q8_0, q4_k_m, iq4_xs, ...).
    static func isTag(_ token: Substring) -> Bool {
        if ["f16", "f32", "bf16", "fp16", "fp32"].contains(token) { return true }
        let parts = token.drop { $0 == "i" }.split(separator: "_", omittingEmptySubsequences: false)
        guard let head = parts.first, head.first == "q", head.count > 1, head.dropFirst().allSatisfy(\.isNumber) else { return false }
        return parts.dropFirst().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber } }
    }
}
