import Testing
@testable import APIServer

@Suite(.timeLimit(.minutes(10))) struct JSONTests {
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

@Suite(.timeLimit(.minutes(10))) struct YAMLBodyTests {
    /// Issue 20 D: nine levels of nine aliases stand for 9^9 values; the body is refused at
    /// once instead of being expanded (it drove the server past 10 GB).
    @Test func billionLaughsAreRefused() throws {
        var text = "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for level in 1...9 {
            let previous = "*a\(level - 1)"
            text += "a\(level): &a\(level) [" + Array(repeating: previous, count: 9).joined(separator: ",") + "]\n"
        }
        let started = ContinuousClock.now
        #expect { try JSON.parseYAML(Array(text.utf8)) } throws: {
            ($0 as? StatusError)?.code == 400 && ($0 as? StatusError)?.message.contains("excessive aliasing") == true
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        // A little aliasing is fine.
        let small = try JSON.parseYAML(Array("base: &b {x: 1}\nuse: *b\n".utf8))
        #expect(small["use"] == ["x": 1])
    }

    @Test func aKeyGivenTwiceNamesTheSecondLine() throws {
        let text = "\napiVersion: v1\nkind: ConfigMap\ndata:\n  a: one\n  b: two\n  a: three\n"
        #expect { try JSON.parseYAML(Array(text.utf8)) } throws: {
            ($0 as? StatusError)?.message.contains("line 7: key \"a\" already set in map") == true
        }
    }
}

@Suite(.timeLimit(.minutes(10))) struct StoredEntryTests {
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
