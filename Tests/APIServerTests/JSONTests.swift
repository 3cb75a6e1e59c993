import Testing
@testable import APIServer

@Suite struct JSONTests {
    @Test func parsesAndSerializesEveryKindOfValue() throws {
        let text = #"{"a":[1,-2,3.5,true,false,null],"b":{"c":"d\"e\\f\n\u00e9\ud83d\ude00"},"n":-9007199254740993}"#
        let value = try JSON.parse(text)
        #expect(value["a"] == [1, -2, .double(3.5), true, false, nil])
        #expect(value[path: ["b", "c"]] == .string("d\"e\\f\né😀"))
        #expect(value["n"] == .int(-9007199254740993), "64-bit integers keep every digit")
        #expect(try JSON.parse(value.serialized()) == value, "serialization round-trips")
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "tru", "{\"a\" 1}", "\"\u{01}\"", "1 2", "{'a':1}"])
    func rejectsMalformedDocuments(text: String) {
        #expect(throws: JSONParseError.self) { try JSON.parse(text) }
    }

    @Test func rejectsDeepNesting() {
        let deep = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        #expect(throws: JSONParseError.self) { try JSON.parse(deep) }
    }

    @Test func pathAssignmentCreatesObjects() {
        var value = JSON.emptyObject
        value[path: ["metadata", "labels", "app"]] = "web"
        #expect(value.text == #"{"metadata":{"labels":{"app":"web"}}}"#)
        value[path: ["metadata", "labels"]] = nil
        #expect(value.text == #"{"metadata":{}}"#)
    }
}
