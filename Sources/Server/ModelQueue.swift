import Synchronization

/// One model answers one request at a time (its engine holds one KV cache); the rest wait here, first come first
/// served, up to `capacity`. Past that a request is refused at once (the server answers 503), so a crowd of
/// clients cannot pile up unbounded memory or waits.
actor ModelQueue {
    struct Full: Error {}

    let capacity: Int
    private var busy = false
    private var waiting: [(id: Int, continuation: CheckedContinuation<Void, Error>)] = []
    private var nextID = 0

    init(capacity: Int) { self.capacity = max(0, capacity) }

    /// Waits for the model; the ticket gives it back (explicitly, or when the ticket is dropped).
    func acquire() async throws -> Ticket {
        if !busy {
            busy = true
            return Ticket(self)
        }
        guard waiting.count < capacity else { throw Full() }
        let id = nextID
        nextID += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { waiting.append((id, $0)) }
        } onCancel: {
            Task { await self.leave(id) }
        }
        return Ticket(self)
    }

    /// A waiting request whose client went away.
    private func leave(_ id: Int) {
        guard let i = waiting.firstIndex(where: { $0.id == id }) else { return }
        waiting.remove(at: i).continuation.resume(throwing: CancellationError())
    }

    fileprivate func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().continuation.resume() }
    }

    /// Requests waiting and running (for /health).
    var load: (running: Bool, waiting: Int) { (busy, waiting.count) }
}

/// The right to run on a model. Released once: by `release()`, or when the last reference goes (a response body
/// that the server dropped without running, a handler that threw).
final class Ticket: Sendable {
    private let queue: ModelQueue
    private let released = Atomic<Bool>(false)

    fileprivate init(_ queue: ModelQueue) { self.queue = queue }

    func release() async {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await queue.release()
    }

    deinit {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let queue = self.queue
        Task { await queue.release() }
    }
}
