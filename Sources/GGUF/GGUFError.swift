/// Why a GGUF file was refused. `description` is one line naming the file and the fault.
public struct GGUFError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let fault: String

    public init(path: String, fault: String) {
        self.path = path
        // Names read from a corrupt file may hold control characters; keep the message on one line.
        var clean = ""
        for s in fault.unicodeScalars {
            if s.properties.generalCategory == .control { clean += "\\u{\(String(s.value, radix: 16))}" } else { clean.unicodeScalars.append(s) }
        }
        self.fault = clean
    }

    public var description: String { "\(path): \(fault)" }
}
