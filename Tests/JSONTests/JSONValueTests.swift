import JSON
import XCTest

final class JSONValueTests: XCTestCase {
    func testObjectsCompareWithoutRegardToOrderButKeepIt() throws {
        let a = try JSONValue.parse(#"{"a":1,"b":[1,2],"c":{"x":null,"y":true}}"#)
        let b = try JSONValue.parse(#"{"c":{"y":true,"x":null},"b":[1,2],"a":1.0}"#)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.hashValue, b.hashValue)
        XCTAssertEqual(b.objectValue?.keys, ["c", "b", "a"])
        XCTAssertEqual(b.serializedString(), #"{"c":{"y":true,"x":null},"b":[1,2],"a":1}"#)
        XCTAssertNotEqual(try JSONValue.parse("[1,2]"), try JSONValue.parse("[2,1]"))
        XCTAssertNotEqual(try JSONValue.parse(#"{"a":1}"#), try JSONValue.parse(#"{"a":1,"b":2}"#))
        XCTAssertNotEqual(JSONValue.bool(false), JSONValue.number(JSONNumber(0)))
        XCTAssertNotEqual(JSONValue.null, JSONValue.string(""))
    }

    func testObjectSubscriptAppendsReplacesInPlaceAndRemoves() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["d"] = 4
        object["b"] = "two"
        XCTAssertEqual(object.keys, ["a", "b", "c", "d"])
        XCTAssertEqual(object["b"], "two")
        object["a"] = nil
        XCTAssertEqual(object.keys, ["b", "c", "d"])
        XCTAssertNil(object["a"])
        XCTAssertEqual(object.count, 3)
        XCTAssertEqual(object.map(\.key), ["b", "c", "d"])
        XCTAssertFalse(object.isEmpty)
    }

    func testLargeObjectsStayIndexedThroughEdits() {
        var object = JSONObject()
        for index in 0..<100 { object["k\(index)"] = .number(JSONNumber(index)) }
        XCTAssertEqual(object["k73"], 73)
        object["k10"] = nil
        XCTAssertNil(object["k10"])
        XCTAssertEqual(object["k11"], 11)
        XCTAssertEqual(object["k99"], 99)
        XCTAssertEqual(object.keys.first, "k0")
        XCTAssertEqual(object.count, 99)
    }

    /// A selection keeps the source's order and keys (code points: `é` and `e\u{301}` stay two),
    /// and a large one is looked up and edited like any object.
    func testASelectionOfMembersIsAnObjectInTheSourcesOrder() {
        var source = JSONObject()
        for index in 0..<40 { source["k\(index)"] = .number(JSONNumber(index)) }
        source["é"] = "precomposed"
        source["e\u{301}"] = "decomposed"
        var selection = JSONObject.Selection(of: source)
        XCTAssertTrue(selection.isEmpty)
        for position in 0..<source.count where position % 2 == 0 || position >= 39 {
            selection.take(keyAt: position, value: .string("v\(position)"))
        }
        var selected = selection.object
        XCTAssertEqual(selected.keys, source.keys.enumerated().filter { $0.offset % 2 == 0 || $0.offset >= 39 }.map(\.element))
        XCTAssertEqual(selected["k38"], "v38")
        XCTAssertEqual(selected["é"], "v40")
        XCTAssertEqual(selected["e\u{301}"], "v41")
        XCTAssertNil(selected["k1"])
        selected["k1"] = true
        XCTAssertEqual(selected["k1"], true)
        XCTAssertEqual(selected.count, 20 + 3 + 1)
    }

    func testInitializerKeepsTheLastOfRepeatedKeysAtTheFirstPosition() {
        let object = JSONObject([("a", 1), ("b", 2), ("a", 3)])
        XCTAssertEqual(object.keys, ["a", "b"])
        XCTAssertEqual(object["a"], 3)
    }

    func testAccessorsReturnNilForOtherTypes() {
        let value: JSONValue = ["s": "x", "n": 2.5, "i": 7, "b": true, "z": nil, "a": [1], "o": [:]]
        XCTAssertEqual(value["s"]?.stringValue, "x")
        XCTAssertNil(value["n"]?.stringValue)
        XCTAssertEqual(value["n"]?.doubleValue, 2.5)
        XCTAssertNil(value["n"]?.int64Value)
        XCTAssertEqual(value["i"]?.int64Value, 7)
        XCTAssertEqual(value["b"]?.boolValue, true)
        XCTAssertEqual(value["z"]?.isNull, true)
        XCTAssertEqual(value["a"]?.arrayValue, [1])
        XCTAssertEqual(value["a"]?[0], 1)
        XCTAssertNil(value["a"]?[1])
        XCTAssertNil(value["a"]?[-1])
        XCTAssertEqual(value["o"]?.objectValue, JSONObject())
        XCTAssertNil(value["missing"])
        XCTAssertNil(value[0])
        XCTAssertNil(JSONValue.string("x")["s"])
        XCTAssertNotNil(value["i"]?.numberValue)
    }

    func testWalksPointers() throws {
        let value = try JSONValue.parse(#"{"a/b":{"c~d":[10,20,{"":"empty"}]}}"#)
        XCTAssertEqual(value.value(at: try JSONPointer(parsing: "/a~1b/c~0d/1")), 20)
        XCTAssertEqual(value.value(at: try JSONPointer(parsing: "/a~1b/c~0d/2/")), "empty")
        XCTAssertEqual(value.value(at: .root), value)
        XCTAssertNil(value.value(at: try JSONPointer(parsing: "/a~1b/c~0d/01")))
        XCTAssertNil(value.value(at: try JSONPointer(parsing: "/a~1b/c~0d/-")))
        XCTAssertNil(value.value(at: try JSONPointer(parsing: "/a~1b/c~0d/3")))
        XCTAssertNil(value.value(at: try JSONPointer(parsing: "/x")))
    }

    func testSerializesCompactAndPretty() throws {
        let value: JSONValue = ["name": "a\"b\\c\u{01}\n", "list": [1, 2.5, nil, true], "empty": [:], "none": []]
        XCTAssertEqual(value.serializedString(), #"{"name":"a\"b\\c\u0001\n","list":[1,2.5,null,true],"empty":{},"none":[]}"#)
        XCTAssertEqual(value.prettyPrinted(), """
        {
          "name": "a\\"b\\\\c\\u0001\\n",
          "list": [
            1,
            2.5,
            null,
            true
          ],
          "empty": {},
          "none": []
        }
        """)
        XCTAssertEqual(try JSONValue.parse(value.serialized()), value)
    }
}
