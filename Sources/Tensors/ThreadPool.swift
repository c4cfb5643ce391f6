import Foundation
import Synchronization

/// A fixed set of worker threads for data-parallel loops. A forward pass issues hundreds of small
/// parallel loops per token, so workers spin briefly between loops (microseconds matter) and only
/// then sleep on a condition, leaving the cores to the UI when the engine is idle.
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int

    private let epoch = Atomic<Int>(0)
    private let nextChunk = Atomic<Int>(0)
    private let unfinished = Atomic<Int>(0)
    private let sleeping = Atomic<Int>(0)
    /// Workers that have finished the current loop; the caller waits for all of them so that no worker
    /// can still be inside one loop when the next one is set up.
    private let finishedWorkers = Atomic<Int>(0)
    private let wake = NSCondition()
    private let shuttingDown = Atomic<Bool>(false)

    // The current loop; written by the caller before `epoch` is bumped, read by workers after.
    private nonisolated(unsafe) var chunkCount = 0
    private nonisolated(unsafe) var body: ((Int) -> Void)? = nil

    /// Spin iterations a worker waits for new work before it sleeps (about a millisecond).
    private static let spinLimit = 20_000

    public init(threads: Int) {
        threadCount = max(1, threads)
        // The epoch every worker starts from is read here, not when its thread gets to run: a loop issued before
        // then would otherwise count as already seen, and the caller would wait forever for that worker (a
        // freshly made pool used at once hung this way, now and then).
        let start = epoch.load(ordering: .acquiring)
        for i in 1 ..< threadCount {
            // Workers keep the pool alive until `shutdown` (an owner that goes away calls it), so a worker can
            // never run on a freed pool.
            let t = Thread { self.workerLoop(from: start) }
            t.name = "glimpse-worker-\(i)"
            t.stackSize = 1 << 20
            t.start()
        }
    }

    /// Stops the workers. The pool must not be used afterwards.
    public func shutdown() {
        wake.lock()
        shuttingDown.store(true, ordering: .releasing)
        epoch.add(1, ordering: .releasing)
        wake.broadcast()
        wake.unlock()
    }

    /// Runs `body(i)` for every i in 0..<chunks, spread over all threads (the caller's included).
    public func parallelFor(_ chunks: Int, _ body: (Int) -> Void) {
        if chunks == 0 { return }
        if threadCount == 1 || chunks == 1 || shuttingDown.load(ordering: .acquiring) {
            for i in 0 ..< chunks { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escaping in
            self.body = escaping
            chunkCount = chunks
            nextChunk.store(0, ordering: .relaxed)
            unfinished.store(chunks, ordering: .relaxed)
            finishedWorkers.store(0, ordering: .relaxed)
            epoch.add(1, ordering: .releasing)
            if sleeping.load(ordering: .acquiring) > 0 {
                wake.lock()
                wake.broadcast()
                wake.unlock()
            }
            runChunks()
            while unfinished.load(ordering: .acquiring) > 0 {}
            while finishedWorkers.load(ordering: .acquiring) < threadCount - 1 && !shuttingDown.load(ordering: .acquiring) {}
            self.body = nil
        }
    }

    /// Splits `0..<count` into ranges of at least `grain` items, about four per thread.
    public func parallelRanges(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        let target = max(1, min(threadCount * 4, count / max(grain, 1)))
        let size = (count + target - 1) / target
        parallelFor(target) { i in
            let lo = i * size, hi = min(count, lo + size)
            if lo < hi { body(lo ..< hi) }
        }
    }

    private func runChunks() {
        let total = chunkCount
        while true {
            let i = nextChunk.add(1, ordering: .relaxed).oldValue
            if i >= total { return }
            body!(i)
            unfinished.subtract(1, ordering: .releasing)
        }
    }

    private func workerLoop(from start: Int) {
        var seen = start
        while true {
            var spins = 0
            while epoch.load(ordering: .acquiring) == seen && !shuttingDown.load(ordering: .acquiring) {
                spins += 1
                if spins >= Self.spinLimit {
                    wake.lock()
                    sleeping.add(1, ordering: .relaxed)
                    while epoch.load(ordering: .acquiring) == seen && !shuttingDown.load(ordering: .acquiring) { wake.wait() }
                    sleeping.subtract(1, ordering: .relaxed)
                    wake.unlock()
                    spins = 0
                }
            }
            if shuttingDown.load(ordering: .acquiring) { return }
            seen = epoch.load(ordering: .acquiring)
            runChunks()
            finishedWorkers.add(1, ordering: .releasing)
        }
    }
}
