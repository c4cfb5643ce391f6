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

struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
