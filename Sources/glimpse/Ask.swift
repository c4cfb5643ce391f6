import ArgumentParser
import Engine
import Foundation
import Models
import Tasks
import UI
import Vision

struct Ask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer one prompt, streaming the answer to stdout.")

    @Option(name: [.short, .long], help: "Model: `shapes` (built in, the default), a name in the models folder, a GGUF path, or a server's model as URL#MODEL (http://host:8000/v1#llava).")
    var model: String?
    @Option(help: "Vision projector (mmproj) GGUF file (default: NAME-mmproj.gguf beside the model).")
    var mmproj: String?
    @Option(help: "Ask several models the same thing: names or paths, comma-separated (e.g. shapes,llava).")
    var compare: String?
    @Option(help: "An image to ask about (repeatable; JPEG or PNG).")
    var image: [String] = []
    @Option(help: "Answer every line {\"id\", \"image\", \"prompt\"} of a JSON-lines file; one JSON line per answer.")
    var batch: String?
    @Option(help: "Chat template by name (\(ChatTemplate.allCases.map(\.rawValue).joined(separator: ", "))); default: from the file.")
    var template: String?
    @Flag(help: "Feed the prompt as plain text, without the chat template.")
    var raw = false
    @Flag(help: "Print one JSON object (text and stats) instead of streaming.")
    var json = false
    @Option(name: [.short, .customLong("n-predict")], help: "Most tokens to generate.")
    var nPredict: Int = 256
    @Option(name: [.short, .long], help: "Threads (default: all cores).")
    var threads: Int?
    @Option(name: [.short, .customLong("ctx-size")], help: "Context size in tokens.")
    var ctxSize: Int = 4096
    @Flag(help: "Print the prompt's tokens to stderr before answering.")
    var verbosePrompt = false
    @Option(help: "Instead of answering, print the prompt's N most likely next tokens with their logits (to check a converted checkpoint against its original).")
    var topLogits: Int?
    @Flag(help: "Mini-Gemini's --ocr: append the image's text, read by Tesseract, as a \"Reference OCR Token:\" line.")
    var ocr = false
    @Flag(help: "Mini-Gemini's --gen: ask for an image-generation prompt (\" <GEN>\"); print the answer's <h>...</h> prompt.")
    var gen = false
    @OptionGroup var sampling: SamplingOptions
    @Argument(help: "The prompt (MiniGPT-v2 task tags like [vqa], [grounding] go in front).")
    var prompt: String?

    func validate() throws {
        if let threads, threads < 1 { throw fail("--threads must be at least 1") }
        guard nPredict >= 0 else { throw fail("--n-predict must be 0 or more") }
        if let topLogits, topLogits < 1 { throw fail("--top-logits must be at least 1") }
        guard ctxSize >= 16 else { throw fail("--ctx-size must be at least 16") }
        if let template, ChatTemplate(rawValue: template) == nil {
            throw fail("unknown template '\(template)' (known: \(ChatTemplate.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if !RawArguments.allValidUTF8 { throw fail("the arguments are not valid UTF-8") }
        if batch == nil && prompt == nil { throw fail("give a prompt (or --batch FILE)") }
        if batch != nil && (prompt != nil || !image.isEmpty) { throw fail("--batch takes prompts and images from its file") }
        if compare != nil && model != nil { throw fail("--compare names the models; leave out --model") }
        if compare != nil && mmproj != nil { throw fail("--compare takes each model's own mmproj; leave out --mmproj") }
    }

    func run() async throws {
        let catalog = ModelCatalog.current()
        for problem in catalog.config.problems { FileHandle.standardError.write(Data("glimpse: warning: \(problem)\n".utf8)) }
        let names: [String?] = compare.map { $0.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) } } ?? [model]
        let entries: [ModelEntry]
        do { entries = try names.map { name in try catalog.resolve(name) } } catch { throw fail("\(error)") }
        let images: [RGBImage]
        do { images = try loadImages(image) } catch { throw fail("\(error)") }
        if compare != nil, !images.isEmpty, let blind = entries.first(where: { $0.mmproj == nil && $0.remote == nil }) {
            throw fail("\(blind.name) cannot see images: \(blind.path) has no \(blind.name)-mmproj.gguf beside it")
        }
        for (i, entry) in entries.enumerated() {
            if entries.count > 1 && !json {
                FileHandle.standardOutput.write(Data("\(i == 0 ? "" : "\n")== \(entry.name)\(entry.location) ==\n".utf8))
            }
            let engine = try await loaded(entry, needsVision: !images.isEmpty)
            if let batch { try await runBatch(engine, file: batch); continue }
            try await ask(engine, images: images, model: entries.count > 1 ? entry.name : nil)
        }
    }

    /// An engine with `entry` loaded (its mmproj from --mmproj, else the one paired with the file), or connected
    /// to its server.
    func loaded(_ entry: ModelEntry, needsVision: Bool) async throws -> any GenerationEngine {
        let projector = compare == nil ? mmproj ?? entry.mmproj : entry.mmproj
        if entry.remote != nil {
            if mmproj != nil && compare == nil { throw fail("--mmproj is for a local model: \(entry.name) runs on \(entry.remote!.host)") }
            if verbosePrompt || topLogits != nil { throw fail("--verbose-prompt and --top-logits need a local model: \(entry.name) runs on \(entry.remote!.host)") }
        } else if needsVision && projector == nil {
            throw fail("--image needs a vision projector: \(entry.path) has no \(entry.name)-mmproj.gguf beside it; add --mmproj FILE")
        }
        let engine = ModelLoading.engine(for: entry, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        do {
            let model = try await ModelLoading.load(entry, into: engine, mmproj: projector,
                                                    template: template.flatMap(ChatTemplate.init(rawValue:)), contextSize: ctxSize)
            for note in model.notes { FileHandle.standardError.write(Data("glimpse: note: \(note)\n".utf8)) }
            if needsVision && !model.hasVision { throw EngineError("\(entry.name) cannot see images: it has no vision projector") }
            // A remote model of unknown template may well know the tags: only a known template is told about.
            if let t = model.template, !t.understandsTaskTags, let tag = prompt.flatMap(TaskMode.leadingTag(of:))?.tag {
                FileHandle.standardError.write(Data("glimpse: note: \(entry.name) was not trained on MiniGPT-v2's task tags: it reads \(tag) as words of the question\n".utf8))
            }
            if let t = model.template, !t.isMiniGemini, ocr || gen {
                let what = [ocr ? "the Reference OCR Token line" : nil, gen ? "<GEN>" : nil].compactMap { $0 }.joined(separator: " and ")
                FileHandle.standardError.write(Data("glimpse: note: \(entry.name) is not a Mini-Gemini model: it reads \(what) as words of the question\n".utf8))
            }
        } catch {
            throw fail("\(error)")
        }
        return engine
    }

    func ask(_ engine: any GenerationEngine, images: [RGBImage], model: String?) async throws {
        for image in images { for note in await engine.notes(for: image) { FileHandle.standardError.write(Data("glimpse: note: \(note)\n".utf8)) } }
        let ocrText = readText(images)
        let request = makeRequest(question(prompt ?? "", ocrText: ocrText), images: images)
        if verbosePrompt, let local = engine as? Engine, let lm = await local.loadedModel {
            let ids = try await local.promptTokens(for: request)
            let lines = ids.map { $0 < 0 ? "     -1 -> (image)" : "\(String($0).leftPad(7)) -> '\(lm.tokenizer.vocabulary.tokens[Int($0)])'" }
            FileHandle.standardError.write(Data(("prompt: \(ids.count) tokens\n" + lines.joined(separator: "\n") + "\n").utf8))
        }
        if let topLogits, let local = engine as? Engine {
            do { try await printTopLogits(local, request, count: topLogits) } catch { throw fail("\(error)") }
            return
        }
        do {
            let (text, reason, stats) = try await answer(engine, request, stream: !json)
            let generationPrompt = gen ? MiniGemini.generationPrompt(in: text) : nil
            if !json { FileHandle.standardOutput.write(Data("\n".utf8)) }
            if gen && generationPrompt == nil {
                FileHandle.standardError.write(Data("glimpse: note: the answer holds no <h>...</h> image-generation prompt\n".utf8))
            }
            if json {
                var record = AnswerRecord(text: text, reason: reason, stats: stats, image: images.first)
                record.model = model
                record.generation_prompt = generationPrompt
                record.ocr_text = ocr ? ocrText : nil
                print(record.json)
            } else if let generationPrompt {
                FileHandle.standardOutput.write(Data("Image-generation prompt: \(generationPrompt)\n".utf8))
            }
        } catch {
            throw fail("\(error)")
        }
    }

    /// --top-logits: the first step's most likely tokens, most likely first; one `ID LOGIT 'TOKEN'` line each, or
    /// with --json one object {"top_logits": [{"id", "logit", "token"}]}.
    func printTopLogits(_ engine: Engine, _ request: GenerationRequest, count: Int) async throws {
        let logits = try await engine.nextTokenLogits(for: request)
        let tokens = await engine.loadedModel?.tokenizer.vocabulary.tokens ?? []
        let top = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(count)
        let name = { (id: Int) in id < tokens.count ? tokens[id] : "" }
        if json {
            struct Entry: Encodable { let id: Int; let logit: Float; let token: String }
            struct Record: Encodable { let top_logits: [Entry] }
            let record = Record(top_logits: top.map { Entry(id: $0, logit: logits[$0], token: name($0)) })
            print(String(decoding: try JSONEncoder().encode(record), as: UTF8.self))
        } else {
            for id in top { print("\(String(id).leftPad(7)) \(logits[id]) \(name(id).debugDescription)") }
        }
    }

    /// With --ocr, the images' text (Tesseract; cached, so --compare reads each image once); "" without it, or
    /// when it cannot be read (said on stderr in one line, and the question is still answered).
    func readText(_ images: [RGBImage]) -> String {
        guard ocr else { return "" }
        guard !images.isEmpty else {
            FileHandle.standardError.write(Data("glimpse: note: --ocr reads the text of the images: give --image\n".utf8))
            return ""
        }
        do {
            let text = try TextReader.shared.text(of: images)
            FileHandle.standardError.write(Data("glimpse: note: \(text.isEmpty ? "Tesseract found no text in the image" : "OCR (Tesseract): \(text)")\n".utf8))
            return text
        } catch {
            // Once a run: a batch of questions needs to hear it once.
            if Self.ocrFailures.insert("\(error)").inserted { FileHandle.standardError.write(Data("glimpse: note: \(error)\n".utf8)) }
            return ""
        }
    }

    nonisolated(unsafe) static var ocrFailures = Set<String>()

    /// The user's text as Mini-Gemini's CLI sends it: the OCR line appended (--ocr), then " <GEN>" (--gen).
    func question(_ text: String, ocrText: String) -> String {
        let withText = ocr ? MiniGemini.withOCR(text, ocrText) : text
        return gen ? MiniGemini.generationRequest(withText) : withText
    }

    func makeRequest(_ text: String, images: [RGBImage]) -> GenerationRequest {
        GenerationRequest(prompt: raw ? .raw(text) : .chat([ChatMessage(.user, text)]), images: images,
                          sampling: sampling.parameters, maxTokens: nPredict)
    }

    /// One JSON line per input line; a bad line is answered with {"id", "error"} and the batch goes on.
    func runBatch(_ engine: any GenerationEngine, file: String) async throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw fail("\(file): cannot be read") }
        struct Line: Decodable { let id: String?; let image: String?; let images: [String]?; let prompt: String }
        struct Failure: Encodable { let id: String?; let line: Int; let error: String }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for (n, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = raw.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            var id: String? = nil
            do {
                let line: Line
                do { line = try JSONDecoder().decode(Line.self, from: Data(text.utf8)) } catch {
                    throw EngineError("not a JSON object with a \"prompt\"")
                }
                id = line.id
                let paths = (line.images ?? []) + (line.image.map { [$0] } ?? [])
                let images = try loadImages(paths)
                let ocrText = readText(images)
                let request = makeRequest(question(line.prompt, ocrText: ocrText), images: images)
                let (answer, reason, stats) = try await answer(engine, request, stream: false)
                var record = AnswerRecord(id: line.id, text: answer, reason: reason, stats: stats, image: images.first)
                record.generation_prompt = gen ? MiniGemini.generationPrompt(in: answer) : nil
                record.ocr_text = ocr ? ocrText : nil
                print(record.json)
            } catch {
                let failure = Failure(id: id, line: n + 1, error: "\(error)")
                print(String(decoding: try encoder.encode(failure), as: UTF8.self))
            }
        }
    }
}

/// Swift repairs invalid UTF-8 in arguments silently; look at the raw bytes instead.
enum RawArguments {
    static var allValidUTF8: Bool {
        for i in 0 ..< Int(CommandLine.argc) {
            guard let p = CommandLine.unsafeArgv[i] else { continue }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p))
            if String(validating: bytes, as: UTF8.self) == nil { return false }
        }
        return true
    }
}
