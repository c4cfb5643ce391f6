import Dispatch
import Foundation

/// Runs a helper program (Tesseract, the clipboard tools) and collects what it wrote, killed after `timeout`
/// seconds so a stuck helper cannot hold the app.
enum Subprocess {
    struct Outcome {
        var status: Int32
        var exited: Bool
        var output: Data
        var messages: Data
        var succeeded: Bool { exited && status == 0 }
        /// Its last line on stderr, or its exit status.
        var why: String {
            String(decoding: messages, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "exit status \(status)"
        }
    }

    /// The first `name` on PATH.
    static func find(_ name: String) -> String? {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil,
                    timeout: Double) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { if process.isRunning { process.terminate() } }
        // Read the messages beside the output so neither pipe can fill.
        nonisolated(unsafe) var messages = Data()
        let readMessages = DispatchWorkItem { messages = err.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(execute: readMessages)
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        readMessages.wait()
        return Outcome(status: process.terminationStatus, exited: process.terminationReason == .exit, output: output,
                       messages: messages)
    }
}
