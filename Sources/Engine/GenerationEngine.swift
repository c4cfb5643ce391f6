import Vision

/// What a pane, `ask` and `glimpse serve` need of a model: a local `Engine`, or a `RemoteEngine` that streams
/// from a server. Both stream the same events, so answers, figures and boxes go through the same code.
public protocol GenerationEngine: Actor {
    /// Starts a generation; any running one is cancelled first. Ending the stream's iteration cancels it.
    func generate(_ request: GenerationRequest) async -> AsyncStream<GenerationEvent>
    /// Cancels the running generation and returns once it has let go (the connection closed, the cache free).
    func stopRunning() async
    /// Threads to compute with, applied from the next answer (remote engines ignore it).
    func setThreads(_ count: Int)
    /// What the user should know about how this model will see `image`.
    func notes(for image: RGBImage) -> [String]
}

extension Engine: GenerationEngine {}
