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

@Suite struct StoredEntryTests {
    func entry(_ text: String) -> StoredEntry { StoredEntry(key: "/k", modRevision: 42, value: Array(text.utf8)) }

    @Test func resourceVersionIsSplicedIntoTheTopLevelMetadata() throws {
        let spliced = try #require(entry(#"{"a":{"metadata":{"x":1}},"b":"\"metadata\":{","metadata":{"name":"n"}}"#).bytesWithResourceVersion())
        let object = try JSON.parse(spliced)
        #expect(object[path: ["metadata", "resourceVersion"]] == "42")
        #expect(object[path: ["metadata", "name"]] == "n")
        #expect(object[path: ["a", "metadata", "resourceVersion"]] == nil, "nested metadata is left alone")
        #expect(object["b"] == #""metadata":{"#, "strings are left alone")
        let empty = try JSON.parse(try #require(entry(#"{"metadata":{}}"#).bytesWithResourceVersion()))
        #expect(empty == ["metadata": ["resourceVersion": "42"]])
        #expect(entry(#"{"kind":"X"}"#).bytesWithResourceVersion() == nil)
    }
}
