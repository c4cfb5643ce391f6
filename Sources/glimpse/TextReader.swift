import Dispatch
import Foundation
import Synchronization
import Tasks
import Vision

/// Reads the text in images for Mini-Gemini's `--ocr` with Tesseract, run as a subprocess (`tesseract IMAGE stdout
/// tsv`): Glimpse has no link-time dependency on it and builds and runs without it. MGM itself uses PaddleOCR; see
/// `TesseractTSV` for how Tesseract's words become MGM's list of lines. Results are kept per image content, so
/// asking again, or from another pane, does not read the image again.
final class TextReader: Sendable {
    static let shared = TextReader()

    enum Failure: Error, CustomStringConvertible {
        case notInstalled
        case failed(String)

        var description: String {
            switch self {
            case .notInstalled:
                return "--ocr reads the image's text with Tesseract, which is not installed (sudo apt-get install tesseract-ocr): the question goes without it"
            case .failed(let why):
                return "Tesseract could not read the image (\(why)): the question goes without its text"
            }
        }
    }

    /// The same pixels give the same text.
    private struct ContentKey: Hashable {
        let width: Int
        let height: Int
        let digest: Int
    }

    private let cache = Mutex<[ContentKey: String]>([:])

    /// The `tesseract` program: `GLIMPSE_TESSERACT` if set (tests point it elsewhere), else the first on PATH.
    static var executable: String? {
        let environment = ProcessInfo.processInfo.environment
        if let chosen = environment["GLIMPSE_TESSERACT"] {
            return FileManager.default.isExecutableFile(atPath: chosen) ? chosen : nil
        }
        return Subprocess.find("tesseract")
    }

    /// The text of several images, each one's lines in order, joined with ", " ("" when none has any).
    func text(of images: [RGBImage]) throws -> String {
        try images.map { try text(of: $0) }.filter { !$0.isEmpty }.joined(separator: ", ")
    }

    /// The image's text as MGM's "Reference OCR Token:" line carries it ("" when Tesseract finds none).
    func text(of image: RGBImage) throws -> String {
        let key = ContentKey(width: image.width, height: image.height, digest: image.pixels.withUnsafeBytes { bytes in
            var hasher = Hasher()
            hasher.combine(bytes: bytes)
            return hasher.finalize()
        })
        if let known = cache.withLock({ $0[key] }) { return known }
        let text = TesseractTSV.referenceText(try Self.tsv(of: image))
        cache.withLock { $0[key] = text }
        return text
    }

    /// Tesseract's TSV for the decoded image, written to a temporary PPM (orientation already applied, any format
    /// Glimpse reads; Tesseract's image library reads PNM).
    static func tsv(of image: RGBImage) throws -> String {
        guard let program = executable else { throw Failure.notInstalled }
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("glimpse-ocr-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString).ppm")
        var data = Data("P6\n\(image.width) \(image.height)\n255\n".utf8)
        data.append(contentsOf: image.pixels)
        do { try data.write(to: file) } catch { throw Failure.failed("cannot write \(file.path): \(error.localizedDescription)") }
        defer { try? FileManager.default.removeItem(at: file) }

        var environment = ProcessInfo.processInfo.environment
        // One thread: the engines already use every core.
        environment["OMP_THREAD_LIMIT"] = "1"
        let run: Subprocess.Outcome
        do {
            // A stuck Tesseract must not hold the question for ever.
            run = try Subprocess.run(program, [file.path, "stdout", "tsv"], environment: environment, timeout: 120)
        } catch { throw Failure.failed("\(program) did not start: \(error.localizedDescription)") }
        guard run.succeeded else { throw Failure.failed(run.why) }
        return String(decoding: run.output, as: UTF8.self)
    }
}
