import ArgumentParser
import Foundation
import GGUF
import Tokenizers

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the token ids of a text, as the model's tokenizer splits it.")

    @Option(name: [.short, .long], help: "Language model GGUF file.")
    var model: String?
    @Flag(help: "Do not add BOS/EOS.")
    var noSpecial = false
    @Flag(help: "Treat special-token texts (like <start_of_turn>) as plain text.")
    var noParseSpecial = false
    @Flag(help: "Print only a JSON array of ids.")
    var idsOnly = false
    @Argument(help: "The text.")
    var text: String

    func run() throws {
        let tokenizer: Tokenizer
        do { tokenizer = try Tokenizer(file: GGUFFile(path: try ModelCatalog.current().resolve(model).path)) } catch { throw fail("\(error)") }
        let ids = tokenizer.encode(text, addSpecial: !noSpecial, parseSpecial: !noParseSpecial)
        if idsOnly {
            print("[" + ids.map(String.init).joined(separator: ", ") + "]")
        } else {
            for id in ids { print("\(id.description.leftPad(7)) -> '\(tokenizer.vocabulary.tokens[Int(id)])'") }
        }
    }
}
