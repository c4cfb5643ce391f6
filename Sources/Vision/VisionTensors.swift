import GGUF
import Tensors

public struct VisionError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Tensor lookup with shape checks for mmproj files.
struct VisionTensors {
    let file: GGUFFile

    func anyShape(_ name: String) throws -> TensorView {
        guard let v = file.view(name) else { throw VisionError("\(file.path): missing tensor '\(name)'") }
        return v
    }

    func required(_ name: String, _ shape: [Int]) throws -> TensorView {
        let v = try anyShape(name)
        guard v.shape == shape else {
            throw VisionError("\(file.path): tensor '\(name)' has shape \(v.shape), expected \(shape)")
        }
        return v
    }

    func optional(_ name: String, _ shape: [Int]) throws -> TensorView? {
        file.view(name) == nil ? nil : try required(name, shape)
    }

    func optionalFloats(_ name: String, _ count: Int?) throws -> [Float]? {
        guard let v = file.view(name) else { return nil }
        if let count, v.elementCount != count {
            throw VisionError("\(file.path): tensor '\(name)' has \(v.elementCount) values, expected \(count)")
        }
        return v.floats()
    }

    func norm(_ prefix: String, _ d: Int) throws -> (w: [Float], b: [Float]) {
        guard let n = try optionalNorm(prefix, d) else { throw VisionError("\(file.path): missing tensor '\(prefix).weight'") }
        return n
    }

    func optionalNorm(_ prefix: String, _ d: Int) throws -> (w: [Float], b: [Float])? {
        guard let w = try optionalFloats(prefix + ".weight", d) else { return nil }
        return (w, try optionalFloats(prefix + ".bias", d) ?? [Float](repeating: 0, count: d))
    }
}
