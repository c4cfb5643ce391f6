import ArgumentParser
import Foundation
import GGUF
import Models
import Tensors

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a GGUF file: architecture, hyperparameters, tensors, tokenizer, template.")

    @Argument(help: "A GGUF file.")
    var file: String?
    @Flag(help: "List every metadata key and tensor.")
    var verbose = false
    @Flag(help: "Show the CPU's features and the kernel level Glimpse chose (GLIMPSE_KERNELS=amx|avx512|avx2|portable forces one).")
    var cpu = false

    func run() throws {
        if cpu { return printCPU() }
        guard let file else { throw fail("info needs a GGUF file, or --cpu") }
        let f: GGUFFile
        do { f = try GGUFFile(path: file) } catch { throw fail("\(error)") }
        let arch = f["general.architecture"]?.string ?? "?"
        print("file:          \(file)")
        print("gguf version:  \(f.version), alignment \(f.alignment), \(formatBytes(f.fileSize))")
        if let name = f["general.name"]?.string { print("name:          \(name)") }
        print("architecture:  \(arch)")
        print("hyperparameters:")
        for key in f.metadataKeys where key.hasPrefix(arch + ".") || (arch == "clip" && key.hasPrefix("clip.")) {
            print("  \(key.dropFirst(arch == "clip" ? 0 : arch.count + 1)) = \(f[key]!.summary)")
        }
        var byType: [GGMLType: (count: Int, bytes: Int)] = [:]
        for t in f.tensors { byType[t.type, default: (0, 0)].count += 1; byType[t.type]!.bytes += t.byteCount }
        let params = f.tensors.reduce(0) { $0 + $1.elementCount }
        print("tensors:       \(f.tensors.count), \(formatCount(params)) parameters")
        for (type, v) in byType.sorted(by: { $0.value.bytes > $1.value.bytes }) {
            print("  \(type.description.padding(toLength: 5, withPad: " ", startingAt: 0)) \(String(v.count).leftPad(4)) tensors  \(formatBytes(v.bytes))")
        }
        if let model = f["tokenizer.ggml.model"]?.string {
            let n = f["tokenizer.ggml.tokens"]?.array?.count ?? 0
            let pre = f["tokenizer.ggml.pre"]?.string.map { ", pre-tokenizer \($0)" } ?? ""
            print("tokenizer:     \(model) (\(n) tokens\(pre))")
            let template = ChatTemplate.detect(templateText: f["tokenizer.chat_template"]?.string, architecture: arch) { text in
                f["tokenizer.ggml.tokens"]?.array?.strings?.contains(text) ?? false
            }
            let source = f["tokenizer.chat_template"] == nil ? "detected from the vocabulary" : "from tokenizer.chat_template"
            print("chat template: \(template.rawValue) (\(source))")
        }
        if verbose {
            print("metadata:")
            for key in f.metadataKeys { print("  \(key) [\(f[key]!.typeName)] = \(f[key]!.summary)") }
            print("tensor list:")
            for t in f.tensors { print("  \(t.name) \(t.type) \(t.shape)") }
        }
    }
}

extension Info {
    func printCPU() {
        for line in Kernels.featureLines { print(line) }
        print("kernel level: \(Kernels.choice)")
        for level in KernelLevel.allCases.reversed() where level > Kernels.best {
            print("  not \(level.name): \(Kernels.support.reasons[level] ?? "unsupported")")
        }
        if let problem = Kernels.environmentProblem { print("warning: \(problem)") }
    }
}

func formatBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB"]
    var v = Double(n), u = 0
    while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
    return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
}

func formatCount(_ n: Int) -> String {
    n >= 1_000_000 ? String(format: "%.1fM", Double(n) / 1e6) : n >= 1000 ? String(format: "%.1fK", Double(n) / 1e3) : "\(n)"
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
