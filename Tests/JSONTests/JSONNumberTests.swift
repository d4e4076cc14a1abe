import JSON
import XCTest

final class JSONNumberTests: XCTestCase {
    private func number(_ literal: String, file: StaticString = #filePath, line: UInt = #line) -> JSONNumber {
        guard let number = JSONNumber(literal: literal) else {
            XCTFail("not a number: \(literal)", file: file, line: line)
            return JSONNumber(0)
        }
        return number
    }

    func testEqualValuesAreEqualWhateverTheSpelling() {
        XCTAssertEqual(number("1.0"), number("1"))
        XCTAssertEqual(number("1e2"), number("100"))
        XCTAssertEqual(number("100e-2"), number("1"))
        XCTAssertEqual(number("0.10"), number("1e-1"))
        XCTAssertEqual(number("-0"), number("0"))
        XCTAssertEqual(number("0e999"), number("0.000"))
        XCTAssertEqual(number("12345678901234567890123.0"), number("1.2345678901234567890123e22"))
        XCTAssertEqual(Set([number("1.0"), number("1"), number("10e-1")]).count, 1)
        XCTAssertEqual(try JSONValue.parse("[1.0, 2]"), try JSONValue.parse("[1, 2.00]"))
        XCTAssertNotEqual(number("1"), number("1.0000000000000000000000001"))
    }

    func testKeepsIntegersBeyondSixtyFourBits() {
        let big = number("123456789012345678901234567890")
        XCTAssertNil(big.int64Value)
        XCTAssertTrue(big.isInteger)
        XCTAssertEqual(big.description, "123456789012345678901234567890")
        XCTAssertNotEqual(big, number("123456789012345678901234567891"))
        XCTAssertTrue(big < number("123456789012345678901234567891"))
        XCTAssertEqual(number("9223372036854775807").int64Value, Int64.max)
        XCTAssertEqual(number("-9223372036854775808").int64Value, Int64.min)
        XCTAssertNil(number("9223372036854775808").int64Value)
        XCTAssertEqual(number("9223372036854775808").description, "9223372036854775808")
        XCTAssertEqual(number("1e3").int64Value, 1000)
        XCTAssertNil(number("1.5").int64Value)
    }

    func testRejectsWhatTheGrammarDoesNotAllow() {
        for literal in ["", "-", "+1", "01", "1.", ".1", "1e", "1e+", "0x10", " 1", "1 ", "NaN", "Infinity", "1_000", "--1"] {
            XCTAssertNil(JSONNumber(literal: literal), literal)
        }
    }

    func testComparesExactly() {
        XCTAssertTrue(number("0.1") < number("0.10000000000000000001"))
        XCTAssertTrue(number("-5") < number("-4.99999999999999999999"))
        XCTAssertTrue(number("-1e400") < number("-1e399"))
        XCTAssertTrue(number("1e-400") < number("1e-399"))
        XCTAssertTrue(number("-1e-400") < number("0"))
        XCTAssertTrue(number("0") < number("1e-400"))
        XCTAssertTrue(number("9223372036854775807") < number("9223372036854775807.5"))
        XCTAssertFalse(number("2.0") < number("2"))
        XCTAssertEqual(JSONNumber.compare(number("2.50"), number("2.5")), 0)
        XCTAssertEqual([number("3"), number("-1.5"), number("1e20"), number("0.5")].sorted(), [number("-1.5"), number("0.5"), number("3"), number("1e20")])
    }

    func testMultipleOfIsExact() {
        XCTAssertTrue(number("0.07").isMultiple(of: number("0.01")))
        XCTAssertTrue(number("19.99").isMultiple(of: number("0.01")))
        XCTAssertFalse(number("0.075").isMultiple(of: number("0.01")))
        XCTAssertTrue(number("4.5").isMultiple(of: number("1.5")))
        XCTAssertFalse(number("35").isMultiple(of: number("1.5")))
        XCTAssertTrue(number("1e308").isMultiple(of: number("0.5")))
        XCTAssertTrue(number("1e1000000").isMultiple(of: number("0.5")), "a huge exponent is cheap")
        XCTAssertFalse(number("1e1000000").isMultiple(of: number("3")))
        XCTAssertTrue(number("3e1000000").isMultiple(of: number("3")))
        XCTAssertTrue(number("0").isMultiple(of: number("0.3")))
        XCTAssertFalse(number("5").isMultiple(of: number("0")))
        XCTAssertTrue(number("-12").isMultiple(of: number("4")))
        XCTAssertTrue(number("123456789012345678901234567890").isMultiple(of: number("10")))
        XCTAssertFalse(number("123456789012345678901234567891").isMultiple(of: number("3")))
        XCTAssertTrue(number("123456789012345678901234567890").isMultiple(of: number("3")))
        // A divisor beyond 64 bits takes the slow path.
        let bigDivisor = number("100000000000000000000000000007")
        XCTAssertTrue(number("300000000000000000000000000021").isMultiple(of: bigDivisor))
        XCTAssertFalse(number("300000000000000000000000000022").isMultiple(of: bigDivisor))
        XCTAssertTrue(number("3.00000000000000000000000000021e29").isMultiple(of: number("1.00000000000000000000000000007e-1")))
        XCTAssertFalse(number("0.0000001").isMultiple(of: number("0.01")))
        XCTAssertTrue(number("0.0123").isMultiple(of: number("0.0001")))
        XCTAssertTrue(number("1e-3").isMultiple(of: number("1e-3")))
    }

    func testDescribesInTheExactECMAScriptLayout() {
        XCTAssertEqual(number("100").description, "100")
        XCTAssertEqual(number("1.50").description, "1.5")
        XCTAssertEqual(number("-0.07").description, "-0.07")
        XCTAssertEqual(number("1e21").description, "1e+21")
        XCTAssertEqual(number("1e20").description, "100000000000000000000")
        XCTAssertEqual(number("1.5e300").description, "1.5e+300")
        XCTAssertEqual(number("1e-7").description, "1e-7")
        XCTAssertEqual(number("1.25e-6").description, "0.00000125")
        XCTAssertEqual(number("0.1000000000000000055511151231257827").description, "0.1000000000000000055511151231257827")
        for literal in ["3.14159", "-2.5e-300", "6.02214076e23", "123456789012345678901234567890.5"] {
            XCTAssertEqual(JSONNumber(literal: number(literal).description), number(literal), literal)
        }
    }

    func testConvertsToAndFromDouble() {
        XCTAssertEqual(JSONNumber(0.1), number("0.1"))
        XCTAssertEqual(JSONNumber(1e-7), number("0.0000001"))
        XCTAssertEqual(JSONNumber(-0.0), number("0"))
        XCTAssertEqual(JSONNumber(3.0), JSONNumber(3))
        XCTAssertEqual(JSONNumber(1e300), number("1e300"))
        XCTAssertNil(JSONNumber(exactly: .infinity))
        XCTAssertNil(JSONNumber(exactly: .nan))
        XCTAssertEqual(number("0.1").doubleValue, 0.1)
        XCTAssertEqual(number("1e400").doubleValue, .infinity)
        XCTAssertEqual(number("-1e400").doubleValue, -.infinity)
        XCTAssertEqual(number("1e-400").doubleValue, 0)
        XCTAssertEqual(number("123456789012345678901234567890").doubleValue, 1.2345678901234568e29)
        let literal: JSONValue = 0.07
        XCTAssertEqual(literal, .number(number("0.07")))
    }
}
