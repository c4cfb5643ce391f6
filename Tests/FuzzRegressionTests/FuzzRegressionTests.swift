import FuzzTargets
import Foundation
import XCTest

/// Every seed of the fuzzers' corpora and every input a fuzzer once crashed on (minimized into
/// Tests/Fixtures/fuzz/regressions/TARGET/ by scripts/fuzz), replayed through the same target functions. A
/// crash here is a bug that came back.
final class FuzzRegressionTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuzz")

    func inputs(_ kind: String, _ target: FuzzTarget) -> [URL] {
        let folder = Self.fixtures.appendingPathComponent("\(kind)/\(target.rawValue)")
        return ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [])
            .filter { !$0.lastPathComponent.hasPrefix(".") }.sorted { $0.path < $1.path }
    }

    func testEveryTargetHasSeeds() {
        for target in FuzzTarget.allCases { XCTAssertFalse(inputs("corpus", target).isEmpty, "\(target) has no seeds") }
    }

    func testSeedsAndRegressionsRunWithoutCrashing() throws {
        var replayed = 0
        for target in FuzzTarget.allCases {
            for file in inputs("corpus", target) + inputs("regressions", target) {
                target.run(Array(try Data(contentsOf: file)))
                replayed += 1
            }
        }
        XCTAssertGreaterThan(replayed, 20)
    }

    /// Simple mutations of every seed (each byte flipped, runs cut short), so the suite covers more than the
    /// seeds themselves even where no fuzzer runs: 64 variants per seed from a fixed generator.
    func testMutatedSeedsRunWithoutCrashing() throws {
        var rng = SplitMix(seed: 20261208)
        for target in FuzzTarget.allCases {
            for file in inputs("corpus", target) {
                let seed = Array(try Data(contentsOf: file))
                guard !seed.isEmpty else { continue }
                for _ in 0 ..< 64 {
                    var bytes = seed
                    for _ in 0 ..< 1 + Int(rng.next() % 4) {
                        let i = Int(rng.next() % UInt64(bytes.count))
                        bytes[i] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
                    }
                    if rng.next() % 4 == 0 { bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1)))) }
                    if let dump = ProcessInfo.processInfo.environment["GLIMPSE_FUZZ_DUMP"] {
                        try Data(bytes).write(to: URL(fileURLWithPath: dump))   // the input a crash was on
                    }
                    target.run(bytes)
                }
            }
        }
    }
}

struct SplitMix {
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
