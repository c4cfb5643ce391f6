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
            // The app sees tmux's TERM; the terminal around tmux is the client's: its TERM, the name it gave
            // tmux ("WezTerm 20240203", "iTerm2 3.5", "XTerm(379)"), and the features tmux was told of.
            let client = tmux(["display-message", "-p", "#{client_termname}\t#{client_termtype}\t#{client_termfeatures}"])
                .split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if let name = client.first, !name.isEmpty { seen["TERM"] = name }
            if client.count > 1, let program = client[1].split(whereSeparator: { $0 == " " || $0 == "(" }).first {
                seen["TERM_PROGRAM"] = program == "iTerm2" ? "iTerm.app" : String(program)
            }
            if client.count > 2, client[2].split(separator: ",").contains("sixel") { offered.insert(.sixel) }
        }
        offered.formUnion(PixelEncoder.offered(environment: seen))
        let wantsProbe = request != .fixed(.symbols) && multiplexer != .screen && multiplexer != .tmux(passthrough: false)
        let (reply, cell) = wantsProbe ? TerminalProbe.ask(wrap: { GraphicsDetection.wrap($0, for: multiplexer) }) : (nil, TerminalProbe.windowCellSize())
        let outcome = GraphicsDetection.choose(request, offered: offered, probe: reply, multiplexer: multiplexer)
        return Choice(outcome: outcome, cell: cell ?? .assumed)
    }

    static func multiplexer(_ env: [String: String]) -> GraphicsDetection.Multiplexer {
        if let t = env["TMUX"], !t.isEmpty {
            // A pane option: this pane's value, inherited from its window or the global one (-A).
            return .tmux(passthrough: GraphicsDetection.passthroughEnabled(tmux(["show-options", "-Apqv", "allow-passthrough"])))
        }
        if let s = env["STY"], !s.isEmpty { return .screen }
        return .none
    }

    static func tmux(_ arguments: [String]) -> String {
        guard let program = Subprocess.find("tmux"), let run = try? Subprocess.run(program, arguments, timeout: 2), run.succeeded else { return "" }
        return String(decoding: run.output, as: UTF8.self).trimmingCharacters(in: .newlines)
    }
}
