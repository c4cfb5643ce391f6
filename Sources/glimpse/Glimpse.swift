import ArgumentParser
import Tensors
import Foundation

@main
struct Glimpse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glimpse",
        abstract: "Chat about images with vision-language models, on your own machine.",
        subcommands: [App.self, Ask.self, Serve.self, Models.self, HistoryCommand.self, Info.self, Bench.self, BenchUI.self, BenchPanes.self, BenchServe.self, Tokenize.self, Logits.self],
        defaultSubcommand: App.self)

    /// ArgumentParser's entry, after refusing a GLIMPSE_KERNELS level this machine cannot run (a forced level is
    /// for testing a path; silently running another would measure the wrong one).
    static func main() async {
        if let problem = Kernels.environmentProblem {
            _ = fail("\(problem). Unset GLIMPSE_KERNELS, or see `glimpse info --cpu`.")
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand { try await command.run() } else { try command.run() }
        } catch {
            exit(withError: error)
        }
    }
}

/// Prints one line to stderr and returns the non-zero exit to throw: the shape of every user-facing failure
/// (also for invalid option values, which ArgumentParser would answer with its usage text).
func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("glimpse: \(message)\n".utf8))
    return ExitCode.failure
}

