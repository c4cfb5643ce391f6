import CFuzzDriver
import FuzzTargets
import Foundation

/// `glimpse-fuzz TARGET FILE...` replays files through a fuzz target (each once; a crash names the file it was
/// on). Built by scripts/fuzz with coverage, AddressSanitizer and libFuzzer linked in, `glimpse-fuzz TARGET
/// [libFuzzer options] CORPUS...` fuzzes it.
@main
struct GlimpseFuzz {
    nonisolated(unsafe) static var target: FuzzTarget = .gguf

    static func main() {
        var arguments = CommandLine.arguments
        guard arguments.count >= 2, let chosen = FuzzTarget(rawValue: arguments[1]) else {
            print("usage: glimpse-fuzz TARGET FILE...   (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))")
            exit(2)
        }
        target = chosen
        arguments.remove(at: 1)
        if ProcessInfo.processInfo.environment["GLIMPSE_FUZZ"] == "1" {
            // libFuzzer's driver takes the rest of the command line: options and corpus folders.
            var argv = arguments.map { strdup($0) }
            let status = glimpse_run_fuzzer(Int32(argv.count), &argv) { data, size in
                GlimpseFuzz.target.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
                return 0
            }
            if status == -1 { print("glimpse-fuzz: built without libFuzzer (scripts/fuzz builds it with)"); exit(2) }
            exit(status)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { print("\(path): cannot be read"); exit(1) }
            print("\(target.rawValue): \(path)")
            target.run(Array(data))
        }
    }
}
