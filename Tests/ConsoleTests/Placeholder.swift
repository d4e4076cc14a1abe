import XCTest
@testable import Console
final class PlaceholderConsoleTests: XCTestCase { func testNothing() {} }
