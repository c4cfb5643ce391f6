import XCTest

/// The first answer step's logits as the small VLMs' fixtures hold them (tools/make_*_fixtures.py): the top 20, a
/// strided sample and the range. `check` bounds the largest difference by 1e-4 of the range and wants the same
/// top token.
struct FirstStepReference: Decodable {
    let top_ids: [Int]
    let top_values: [Float]
    let every: Int
    let sample: [Float]
    let min: Float
    let max: Float

    func check(_ logits: [Float], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        var worst: Float = 0
        for (i, want) in sample.enumerated() { worst = Swift.max(worst, abs(logits[i * every] - want)) }
        for (id, want) in zip(top_ids, top_values) { worst = Swift.max(worst, abs(logits[id] - want)) }
        print("\(label) first step: largest |Δ| \(worst) over a range of \(max - min)")
        XCTAssertLessThan(worst, 1e-4 * (max - min), label, file: file, line: line)
        XCTAssertEqual(logits.indices.max { logits[$0] < logits[$1] }, top_ids[0], label, file: file, line: line)
    }
}
