import Foundation

/// Where the test setup (`scripts/setup-test-models`) puts model files.
enum TestModels {
    static var directory: String {
        ProcessInfo.processInfo.environment["GLIMPSE_TEST_MODELS"]
            ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/glimpse/test-models"
    }

    /// Every GGUF in the test-model folder.
    static func derivedModels() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".gguf") }.sorted().map { directory + "/" + $0 }
    }
}
