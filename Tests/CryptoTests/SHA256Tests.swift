import Foundation
import XCTest
@testable import Crypto

final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(SHA256.hash([UInt8]()).hexString, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hash(Array("abc".utf8)).hexString, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testStreamingMatchesOneShot() {
        let data = Array((0..<10_000).map { UInt8($0 & 0xFF) })
        var hasher = SHA256()
        hasher.update(data[0..<3333])
        hasher.update(data[3333...])
        let digest = hasher.finalize()
        XCTAssertEqual(digest, SHA256.hash(data))
    }

    func testHexRoundTrip() {
        XCTAssertEqual([UInt8](hex: "00ff10Ab"), [0x00, 0xFF, 0x10, 0xAB])
        XCTAssertNil([UInt8](hex: "0"))
        XCTAssertNil([UInt8](hex: "zz"))
        XCTAssertEqual([UInt8](hex: [0xDE, 0xAD].hexString), [0xDE, 0xAD])
    }

    func testUUIDsAreVersion7DistinctAndOrderedByTime() {
        let a = SecureRandom.uuid()
        usleep(2000)
        let b = SecureRandom.uuid()
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(a.count, 36)
        XCTAssertEqual(Array(a)[14], "7")
        XCTAssertTrue("89ab".contains(Array(a)[19]))
        XCTAssertLessThan(a, b, "a later id sorts later")
    }
}
