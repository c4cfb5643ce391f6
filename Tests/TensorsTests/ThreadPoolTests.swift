import Foundation
import Synchronization
import Tensors
import XCTest

final class ThreadPoolTests: XCTestCase {
    /// A pool used the moment it is made must still run its loops on every thread. Its workers once read the
    /// loop counter only when their threads got to run, so a loop issued before that counted as seen and the
    /// caller waited forever (about one fresh pool in three hung). Run on a watchdog: a hang fails the test.
    func testAFreshPoolRunsItsFirstLoop() {
        let done = DispatchSemaphore(value: 0)
        let results = Mutex<[Int]>([])
        Thread {
            for _ in 0 ..< 300 {
                let pool = ThreadPool(threads: 2)
                let total = Atomic<Int>(0)
                pool.parallelFor(64) { i in total.add(i, ordering: .relaxed) }
                pool.parallelFor(8) { i in total.add(i, ordering: .relaxed) }
                results.withLock { $0.append(total.load(ordering: .relaxed)) }
                pool.shutdown()
            }
            done.signal()
        }.start()
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success, "a fresh pool hung in its first loop")
        let sums = results.withLock { $0 }
        XCTAssertEqual(sums.count, 300)
        XCTAssertEqual(Set(sums), [64 * 63 / 2 + 28], "every chunk ran once")
    }
}
