/// Mini-Gemini's two CLI modes as text transforms (its `mgm/serve/cli.py`; `../shared/specs/mini-gemini.md` §5):
/// `--ocr` appends the image's text to the question, `--gen` asks for an image-generation prompt, which the answer
/// gives between `<h>` and `</h>`. None of `<GEN>`, `<h>`, `</h>` is a special token: they are plain text.
public enum MiniGemini {
    /// What `--gen` appends to the user's text (with its space).
    public static let generationMarker = " <GEN>"
    /// What introduces the image's text in the question.
    public static let ocrLabel = "Reference OCR Token: "

    /// The question as Generate sends it: " <GEN>" after it (once: a text already ending so is left alone).
    public static func generationRequest(_ text: String) -> String {
        text.hasSuffix("<GEN>") ? text : text + generationMarker
    }

    /// Whether a user's text asks for an image-generation prompt.
    public static func isGenerationRequest(_ text: String) -> Bool { text.hasSuffix("<GEN>") }

    /// The user's text with the image's text appended as MGM's CLI does: `inp + "\nReference OCR Token: " + ocr +
    /// "\n"`, before `--gen`'s " <GEN>" (which MGM appends after it, so a trailing marker is moved behind the OCR
    /// line). An empty OCR text adds nothing, as in MGM.
    public static func withOCR(_ text: String, _ ocr: String) -> String {
        guard !ocr.isEmpty else { return text }
        var question = text
        var marker = ""
        if question.hasSuffix(generationMarker) {
            question.removeLast(generationMarker.count)
            marker = generationMarker
        }
        return question + "\n" + ocrLabel + ocr + "\n" + marker
    }

    /// The prompt MGM hands to its diffusion model: `outputs.split("</h>")[-2].split("<h>")[-1]`, taken only when
    /// the answer holds both `<h>` and `</h>` (the text before the last `</h>`, after the `<h>` nearest it). Trimmed
    /// of surrounding white space; nil when there is no such span or it is empty.
    public static func generationPrompt(in answer: String) -> String? {
        guard answer.contains("<h>"), answer.contains("</h>") else { return nil }
        let pieces = pythonSplit(answer, "</h>")
        let span = pythonSplit(pieces[pieces.count - 2], "<h>").last ?? ""
        let prompt = span.trimmingWhiteSpace
        return prompt.isEmpty ? nil : prompt
    }
}

/// Tesseract's `tsv` output read into lines of text, in place of MGM's PaddleOCR.
///
/// PaddleOCR gives MGM one text per detected line with that line's confidence (0...1), and MGM keeps the texts above
/// 0.1. Tesseract's TSV has one row per word with a confidence of 0...100 (structure rows have -1), numbered by
/// page, block, paragraph and line: the words above 10 are kept, and grouped into the lines Tesseract reports
/// (same page, block, paragraph and line numbers, words joined with spaces), so the joined result reads like MGM's
/// line-level list. Lines are joined with ", " as MGM joins PaddleOCR's.
public enum TesseractTSV {
    /// MGM's threshold of 0.1 on Tesseract's 0-100 scale.
    public static let minimumConfidence = 10.0

    /// The lines of words kept, in Tesseract's order.
    public static func lines(_ tsv: String, minimumConfidence: Double = minimumConfidence) -> [String] {
        struct LineKey: Hashable { let page, block, paragraph, line: Int }
        var order: [LineKey] = []
        var words: [LineKey: [String]] = [:]
        for row in tsv.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let columns = row.split(separator: "\t", omittingEmptySubsequences: false)
            // level page block par line word left top width height conf text; the header's level is not a number.
            guard columns.count >= 12, let level = Int(columns[0]), level == 5,
                  let page = Int(columns[1]), let block = Int(columns[2]), let paragraph = Int(columns[3]),
                  let line = Int(columns[4]), let confidence = Double(columns[10].trimmingWhiteSpace) else { continue }
            // A word's text could hold a tab in principle: everything after the 11th column is the text.
            let text = columns[11...].joined(separator: "\t").trimmingWhiteSpace
            guard confidence > minimumConfidence, !text.isEmpty else { continue }
            let key = LineKey(page: page, block: block, paragraph: paragraph, line: line)
            if words[key] == nil { order.append(key) }
            words[key, default: []].append(text)
        }
        return order.map { words[$0]!.joined(separator: " ") }
    }

    /// The text MGM's "Reference OCR Token:" line carries: the lines joined with ", " ("" when none).
    public static func referenceText(_ tsv: String) -> String { lines(tsv).joined(separator: ", ") }
}

/// Python's `str.split(sep)` for a non-empty separator: every piece, empty ones included (Tasks has no Foundation).
func pythonSplit(_ text: String, _ separator: String) -> [String] {
    let s = Array(text.unicodeScalars), sep = Array(separator.unicodeScalars)
    var pieces: [String] = []
    var current = String.UnicodeScalarView()
    var i = 0
    while i < s.count {
        if i + sep.count <= s.count, s[i ..< i + sep.count].elementsEqual(sep) {
            pieces.append(String(current))
            current = String.UnicodeScalarView()
            i += sep.count
        } else {
            current.append(s[i])
            i += 1
        }
    }
    pieces.append(String(current))
    return pieces
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line breaks (Tasks does without Foundation).
    var trimmingWhiteSpace: String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first ... last])
    }
}
