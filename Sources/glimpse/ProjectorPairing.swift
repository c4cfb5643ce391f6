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

    /// The name's words, less "mmproj" and tags like f16, bf16, q8_0, Q4_K_M, IQ4_XS.
    static func words(_ file: String) -> [String] {
        let stem = ((file as NSString).deletingPathExtension).lowercased()
        return stem.split(whereSeparator: { $0 == "-" || $0 == "_" || $0 == "." }).map(String.init)
            .filter { $0 != "mmproj" && $0 != "model" && !isTag($0) }
    }

    /// Precision and quantization names, and the pieces `_` splits them into (q4_k_m -> q4, k, m).
    static func isTag(_ word: String) -> Bool {
        if ["f16", "f32", "bf16", "fp16", "fp32", "k", "m", "s", "l", "xs", "xxs", "0", "1"].contains(word) { return true }
        let body = word.drop { $0 == "i" }
        return body.first == "q" && body.dropFirst().allSatisfy(\.isNumber) && body.count > 1
    }
}
