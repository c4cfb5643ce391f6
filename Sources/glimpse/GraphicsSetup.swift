import Foundation
import ImagePreview
import Terminal
import UI

/// Decides at start how the preview reaches this terminal (`GraphicsDetection` weighs it), gathering the
/// witnesses: chafa's reading of the environment, the terminal's answer to a query, and tmux's settings.
enum GraphicsSetup {
    struct Choice {
        var outcome: GraphicsDetection.Outcome
        var cell: CellSize
    }

    static func choose(_ request: GraphicsRequest, environment env: [String: String] = ProcessInfo.processInfo.environment) -> Choice {
        let multiplexer = self.multiplexer(env)
        var seen = env
        var offered = Set<GraphicsProtocol>()
        if case .tmux(true) = multiplexer {
            // The app sees tmux's TERM; the terminal around tmux is the client's.
            let client = tmux(["display-message", "-p", "#{client_termname}\t#{client_termfeatures}"]).split(separator: "\t", omittingEmptySubsequences: false)
            if let name = client.first, !name.isEmpty { seen["TERM"] = String(name) }
            if client.count > 1, client[1].split(separator: ",").contains("sixel") { offered.insert(.sixel) }
        }
        offered.formUnion(PixelEncoder.offered(environment: seen))
        let wantsProbe = request != .fixed(.symbols) && multiplexer != .screen && multiplexer != .tmux(passthrough: false)
        let (reply, cell) = wantsProbe ? TerminalProbe.ask(wrap: { GraphicsDetection.wrap($0, for: multiplexer) }) : (nil, TerminalProbe.windowCellSize())
        let outcome = GraphicsDetection.choose(request, offered: offered, probe: reply, multiplexer: multiplexer)
        return Choice(outcome: outcome, cell: cell ?? .assumed)
    }

    static func multiplexer(_ env: [String: String]) -> GraphicsDetection.Multiplexer {
        if let t = env["TMUX"], !t.isEmpty {
            // The pane's own setting wins over the global one.
            let pane = tmux(["show-options", "-pqv", "allow-passthrough"])
            let global = tmux(["show-options", "-gqv", "allow-passthrough"])
            let value = pane.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? global : pane
            return .tmux(passthrough: GraphicsDetection.passthroughEnabled(value))
        }
        if let s = env["STY"], !s.isEmpty { return .screen }
        return .none
    }

    static func tmux(_ arguments: [String]) -> String {
        guard let program = Subprocess.find("tmux"), let run = try? Subprocess.run(program, arguments, timeout: 2), run.succeeded else { return "" }
        return String(decoding: run.output, as: UTF8.self).trimmingCharacters(in: .newlines)
    }
}
