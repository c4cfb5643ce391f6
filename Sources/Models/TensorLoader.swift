import GGUF
import Tensors

/// Looks tensors up by name and checks their shapes, so a wrong file fails at load with the tensor named.
struct TensorLoader {
    let file: GGUFFile

    func required(_ name: String, _ shape: [Int]) throws -> TensorView {
        guard let v = file.view(name) else {
            throw ModelError("\(file.path): missing tensor '\(name)'")
        }
        try check(v, shape)
        return v
    }

    func optional(_ name: String, _ shape: [Int]) throws -> TensorView? {
        guard let v = file.view(name) else { return nil }
        try check(v, shape)
        return v
    }

    /// A small tensor (norm weights, biases) as floats.
    func floats(_ name: String, _ count: Int) throws -> [Float] {
        try required(name, [count]).floats()
    }

    func optionalFloats(_ name: String, _ count: Int) throws -> [Float]? {
        try optional(name, [count])?.floats()
    }

    private func check(_ v: TensorView, _ shape: [Int]) throws {
        // Trailing 1-sized dimensions are not significant.
        var actual = v.shape
        while actual.count > shape.count, actual.last == 1 { actual.removeLast() }
        guard actual == shape else {
            throw ModelError("\(file.path): tensor '\(v.name)' has shape \(v.shape), expected \(shape)")
        }
    }
}
