import Tasks

/// What a click on the top bar reaches.
public enum TopBarTarget: Sendable, Equatable {
    case model
    case task(TaskMode)
}

/// One piece of the top bar: its text, first column and width in columns.
struct TopBarPiece: Equatable {
    var text: String
    var x: Int
    var width: Int
    var target: TopBarTarget?
}

extension AppState {
    var modelTitle: String {
        switch modelStatus {
        case .none: return currentModel?.name ?? "no model"
        case .loading(let n): return "\(n) (loading...)"
        case .ready: return currentModel?.name ?? "?"
        case .failed: return "\(currentModel?.name ?? "?") (failed)"
        }
    }

    /// The top bar laid out for `r`: drawn by render and hit by mouse clicks, so both always agree.
    /// The task selector is always visible; on narrow terminals labels shorten and the captions go.
    func topBarPieces(_ r: Rect) -> [TopBarPiece] {
        let modelName = modelTitle
        let full = tasks.map(\.title)
        let short = tasks.map(\.shortTitle)
        let wideWidth = 9 + 9 + min(CharacterWidth.columns(modelName) + 5, 24) + 7 + full.reduce(0) { $0 + CharacterWidth.columns($1) + 3 }
        let wide = wideWidth <= r.width
        let labels = wide ? full : short
        let selectorWidth = labels.reduce(0) { $0 + CharacterWidth.columns($1) + (wide ? 3 : 2) } + (wide ? 7 : 1)
        var pieces: [TopBarPiece] = []
        var x = r.x + 1
        func add(_ text: String, _ target: TopBarTarget?, limit: Int? = nil) {
            let width = min(CharacterWidth.columns(text), limit ?? Int.max)
            pieces.append(TopBarPiece(text: text, x: x, width: width, target: target))
            x += width
        }
        add("Glimpse", nil)
        add(wide ? "  Model: " : "  ", nil)
        let modelRoom = max(6, r.maxX - selectorWidth - x - 1)
        add(modelName + " [F2]", .model, limit: min(24, modelRoom))
        x = max(x + 1, r.maxX - selectorWidth)
        if wide { add("Task:", nil); x += 2 }
        for (mode, label) in zip(tasks, labels) {
            add(" \(label) ", .task(mode))
            if wide { x += 1 }
        }
        return pieces
    }

    /// The target under column `x` of the top bar, if any.
    func topBarTarget(atColumn x: Int) -> TopBarTarget? {
        topBarPieces(Layout(self).topBar).first { $0.target != nil && x >= $0.x && x < $0.x + $0.width }?.target
    }
}
