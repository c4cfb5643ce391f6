/// `/image FOLDER`: a picker of the folder's images, the highlighted one previewed beside the list.
extension AppState {
    /// The panel: the list on the left third, the preview in the rest.
    var imagePickerRect: Rect {
        let w = min(width - 4, 100), h = min(height - 2, 32)
        return Rect(x: (width - w) / 2, y: (height - h) / 2, width: w, height: h)
    }

    var imagePickerListWidth: Int { max(16, imagePickerRect.width / 3) }

    /// Cells for the highlighted image's preview.
    var imagePickerPreviewArea: Rect {
        let r = imagePickerRect, list = imagePickerListWidth
        return Rect(x: r.x + list + 2, y: r.y + 1, width: r.width - list - 3, height: r.height - 2)
    }

    mutating func openFolder(_ folder: String, names: [String]) -> [Effect] {
        guard !names.isEmpty else {
            messages.append(Message(.error, "\(folder) has no JPEG or PNG images"))
            return []
        }
        folderImages = FolderImages(folder: folder, names: names)
        overlay = .imagePicker(0)
        return pickerPreviewRequest(0)
    }

    func pickerPreviewRequest(_ i: Int) -> [Effect] {
        guard let f = folderImages, f.names.indices.contains(i) else { return [] }
        let area = imagePickerPreviewArea
        return [.renderPickerPreview(path: f.path(i), width: area.width, height: area.height)]
    }

    mutating func pickImage(_ key: Key, index i: Int) -> [Effect] {
        guard let f = folderImages else {
            overlay = .none
            return []
        }
        let count = f.names.count
        var next = i
        switch key {
        case .up: next = max(0, i - 1)
        case .down: next = min(count - 1, i + 1)
        case .pageUp: next = max(0, i - 10)
        case .pageDown: next = min(count - 1, i + 10)
        case .home: next = 0
        case .end: next = count - 1
        case .enter:
            overlay = .none
            folderImages = nil
            return [.attachImage(path: f.path(i))]
        case .escape:
            overlay = .none
            folderImages = nil
            return []
        default: return []
        }
        overlay = .imagePicker(next)
        return next == i ? [] : pickerPreviewRequest(next)
    }

    func drawImagePicker(_ s: inout Screen, selected: Int) {
        guard let f = folderImages else { return }
        let r = imagePickerRect
        s.fill(r, style: theme.input)
        s.put("┌" + String(repeating: "─", count: r.width - 2) + "┐", x: r.x, y: r.y, style: theme.border)
        s.put("└" + String(repeating: "─", count: r.width - 2) + "┘", x: r.x, y: r.maxY - 1, style: theme.border)
        let divider = r.x + imagePickerListWidth + 1
        for y in r.y + 1 ..< r.maxY - 1 {
            s.put("│", x: r.x, y: y, style: theme.border)
            s.put("│", x: divider, y: y, style: theme.border)
            s.put("│", x: r.maxX - 1, y: y, style: theme.border)
        }
        s.put(" \(f.folder): \(f.names.count) images (Enter attaches, Esc closes) ", x: r.x + 2, y: r.y, style: theme.accent, limit: r.width - 4)
        let rows = r.height - 2, first = max(0, selected - rows + 1)
        for (i, name) in f.names.enumerated() where i >= first && i - first < rows {
            let style = i == selected ? theme.barActive : theme.input
            let y = r.y + 1 + i - first
            if i == selected { s.fill(Rect(x: r.x + 1, y: y, width: imagePickerListWidth, height: 1), style: style) }
            s.put(name, x: r.x + 2, y: y, style: style, limit: imagePickerListWidth - 2)
        }
        let area = imagePickerPreviewArea
        guard let preview = f.preview, preview.path == f.path(selected) else {
            s.put("rendering...", x: area.x + 1, y: area.y + 1, style: theme.dim)
            return
        }
        guard let p = preview.cells else {
            for (k, line) in TextWrap.lines(preview.problem ?? "cannot be read", width: area.width - 2).prefix(area.height).enumerated() {
                s.put(line, x: area.x + 1, y: area.y + 1 + k, style: theme.error)
            }
            return
        }
        for y in 0 ..< min(p.height, area.height) {
            for x in 0 ..< min(p.width, area.width) { s[area.x + x, area.y + y] = p.cells[y * p.width + x] }
        }
    }
}
