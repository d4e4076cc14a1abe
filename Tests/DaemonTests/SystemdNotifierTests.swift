import Foundation
import TestSupport
import XCTest
@testable import Daemon

final class SystemdNotifierTests: XCTestCase {
    func testSendsDatagramsToTheNotifySocket() throws {
        let socket = try NotifySocket(folder: ProjectPaths.temporaryDirectory())
        defer { socket.close() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path])
        XCTAssertTrue(notifier.notify("READY=1\nSTATUS=test"))
        XCTAssertNotNil(socket.wait(forLine: "READY=1"))
        XCTAssertFalse(SystemdNotifier(environment: [:]).notify("READY=1"))
    }

    func testWatchdogIntervalIsHalfTheTimeoutForThisProcess() {
        XCTAssertEqual(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "2000000"]), .seconds(1))
        XCTAssertNil(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"]))
        XCTAssertNil(SystemdNotifier.watchdogInterval(environment: [:]))
    }
}
