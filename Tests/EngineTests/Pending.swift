import XCTest
final class PendingTests: XCTestCase { func testNothingYet() {} }
