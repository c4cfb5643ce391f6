import Foundation
import XCTest

/// GLIMPSE_KERNELS: a level the machine has runs and is reported; an unknown one, or one the machine lacks, is
/// refused in one line before anything runs; every level gives the same greedy answer on the tiny LLaMA.
extension BadInputTests {
    func testKernelLevelsAreReportedForcedAndRefused() throws {
        let info = try run(#"$GLIMPSE info --cpu"#)
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("kernel level: "), info.stdout)
        let portable = try run(#"GLIMPSE_KERNELS=portable $GLIMPSE info --cpu"#)
        XCTAssertTrue(portable.stdout.contains("kernel level: portable, forced by GLIMPSE_KERNELS"), portable.stdout)
        try assertOneLineFailure(#"GLIMPSE_KERNELS=avx1024 $GLIMPSE ask hi"#, mentions: "GLIMPSE_KERNELS=avx1024 is not a kernel level")
        // The highest level this machine lacks, if any, is refused by name.
        let lacking = ["amx", "avx512", "avx2"].first { info.stdout.contains("not \($0):") }
        if let lacking {
            try assertOneLineFailure("GLIMPSE_KERNELS=\(lacking) $GLIMPSE ask hi", mentions: "cannot run the \(lacking) kernels")
        }
    }

    /// A prompt long enough for the batch path (the int8 GEMM on avx512), through every level the machine has.
    /// The tiny LLaMA's first greedy tokens have wide margins, so every level must agree on them.
    func testEveryKernelLevelGivesTheSameGreedyStart() throws {
        let info = try run(#"$GLIMPSE info --cpu"#).stdout
        let levels = ["portable", "avx2", "avx512"].filter { !info.contains("not \($0):") }
        var answers: [String: String] = [:]
        for level in levels {
            let o = try run("GLIMPSE_KERNELS=\(level) $GLIMPSE ask --raw --temp 0 -n 3 'Once upon a time, in a small village, there lived'")
            XCTAssertEqual(o.status, 0, o.stderr)
            answers[level] = o.stdout
        }
        XCTAssertEqual(Set(answers.values).count, 1, "\(answers)")
    }
}
