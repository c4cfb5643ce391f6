/// Drops the whitespace a chat answer's stream opens with. SentencePiece vocabularies start an answer with a
/// word-start space ("▁3" streams as " 3"); people, `ask`'s output and the history sent back through the chat
/// template (which writes its own space) all want it without. Raw continuations keep theirs: there the space is
/// part of the text.
struct AnswerStart {
    private var trimming: Bool

    init(trimming: Bool) { self.trimming = trimming }

    mutating func pass(_ text: String) -> String {
        guard trimming else { return text }
        let rest = text.drop { $0.isWhitespace }
        if !rest.isEmpty { trimming = false }
        return String(rest)
    }
}
