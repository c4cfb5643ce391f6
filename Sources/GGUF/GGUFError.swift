/// Why a GGUF file was refused. `description` is one line naming the file and the fault.
public struct GGUFError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let fault: String

    public init(path: String, fault: String) {
        self.path = path
        self.fault = fault
    }

    public var description: String { "\(path): \(fault)" }
}
