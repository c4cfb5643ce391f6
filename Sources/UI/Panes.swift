import Tasks

/// Opening, closing and naming conversation panes (the comparison view).
extension AppState {
    /// "A", "B", ...: how panes, and the boxes each one found, are labelled.
    public static func paneLetter(_ index: Int) -> String { String(UnicodeScalar(UInt8(65 + index % 26))) }

    /// `/split [MODEL]`: a new pane beside the focused one, bound to MODEL (default: the focused pane's model)
    /// with the focused pane's task and settings; it gets the focus.
    mutating func split(_ argument: String) -> [Effect] {
        guard panes.count < Self.maximumPanes else { return error("at most \(Self.maximumPanes) panes") }
        let index: Int
        if argument.isEmpty {
            guard let current = selectedModel else { return error("/split needs a model name (\(models.map(\.name).joined(separator: ", ")))") }
            index = current
        } else {
            let wanted = argument.lowercased()
            guard let i = models.firstIndex(where: { $0.name.lowercased() == wanted }) ?? Int(argument).map({ $0 - 1 }),
                  models.indices.contains(i) else {
                return error("unknown model '\(argument)' (\(models.map(\.name).joined(separator: ", ")))")
            }
            index = i
        }
        return split(model: index)
    }

    /// A new pane beside the focused one, on the model at `index` (by index: a local and a remote model may share
    /// a name).
    mutating func split(model index: Int) -> [Effect] {
        guard panes.count < Self.maximumPanes else { return error("at most \(Self.maximumPanes) panes") }
        var pane = Pane(id: (panes.map(\.id).max() ?? 0) + 1)
        pane.task = task
        pane.settings = settings
        panes.insert(pane, at: focusedPane + 1)
        focusedPane += 1
        zoomed = false
        return chooseModel(index)
    }

    /// Opens one pane per model index beside the first (`glimpse --compare A,B`); prompts go to all.
    public mutating func openComparison(_ indices: [Int]) -> [Effect] {
        var effects: [Effect] = []
        for i in indices where models.indices.contains(i) { effects += split(model: i) }
        focusedPane = 0
        return effects
    }

    /// `/close`: closes the focused pane (the last one stays).
    mutating func closePane() -> [Effect] {
        guard panes.count > 1 else { return error("this is the only pane") }
        let closing = panes.remove(at: focusedPane)
        focusedPane = min(focusedPane, panes.count - 1)
        if panes.count == 1 { zoomed = false }
        return (closing.isGenerating ? [.stopPane(closing.id)] : []) + [.closePane(closing.id)]
    }
}
