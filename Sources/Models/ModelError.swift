/// A model that cannot be loaded or run; `description` is one line for the user.
public struct ModelError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
