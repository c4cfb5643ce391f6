import ArgumentParser
import Foundation

@main
struct Glimpse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glimpse",
        abstract: "Chat about images with vision-language models, on your own machine.",
        subcommands: [App.self, Ask.self, Models.self, Info.self, Bench.self, BenchUI.self, BenchPanes.self, Tokenize.self, Logits.self],
        defaultSubcommand: App.self)
}

/// Prints one line to stderr and returns the non-zero exit to throw: the shape of every user-facing failure
/// (also for invalid option values, which ArgumentParser would answer with its usage text).
func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("glimpse: \(message)\n".utf8))
    return ExitCode.failure
}

