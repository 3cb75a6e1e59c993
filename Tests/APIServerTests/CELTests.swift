import Testing
@testable import APIServer

/// The CEL subset Skiff evaluates (validation rules and admission policies).
@Suite(.timeLimit(.minutes(10))) struct CELTests {
    static let object: JSON = [
        "spec": ["replicas": 3, "maxReplicas": 5, "name": "web-1", "ratio": .double(0.5),
                 "tags": ["a", "b", "c"], "ports": [["port": 80, "name": "http"], ["port": 443, "name": "https"]],
                 "labels": ["app": "web", "tier": "front"], "empty": .null],
    ]

    func evaluate(_ source: String, _ variables: [String: JSON] = ["self": object]) throws -> CELValue {
        try CELEvaluator(variables: variables.mapValues(CELValue.init)).evaluate(try CELParser.parse(source))
    }

    @Test(arguments: [
        ("self.spec.replicas <= self.spec.maxReplicas", CELValue.bool(true)),
        ("self.spec.replicas * 2 + 1", .int(7)),
        ("self.spec.replicas / 2", .int(1)),
        ("7 % 3 == 1 && -2 < 0", .bool(true)),
        ("self.spec.ratio < 1", .bool(true)),
        ("3 == 3.0 && 2u == 2", .bool(true)),
        ("has(self.spec.replicas) && !has(self.spec.missing)", .bool(true)),
        ("self.spec.name.startsWith('web') && self.spec.name.endsWith(\"-1\")", .bool(true)),
        ("self.spec.name.matches('^[a-z]+-[0-9]$')", .bool(true)),
        ("self.spec.name.size() == 5 && size(self.spec.tags) == 3", .bool(true)),
        ("'b' in self.spec.tags && 'app' in self.spec.labels", .bool(true)),
        ("self.spec.ports.all(p, p.port > 0)", .bool(true)),
        ("self.spec.ports.exists(p, p.name == 'https')", .bool(true)),
        ("self.spec.ports.exists_one(p, p.port > 100)", .bool(true)),
        ("self.spec.ports.map(p, p.port)", .list([.int(80), .int(443)])),
        ("self.spec.ports.filter(p, p.port > 100).map(p, p.name)", .list([.string("https")])),
        ("self.spec.ports.map(p, p.port > 100, p.name)", .list([.string("https")])),
        ("self.spec.labels.all(k, k.size() > 2)", .bool(true)),
        ("self.spec.replicas > 1 ? 'many' : 'one'", .string("many")),
        ("self.spec.tags + ['d']", .list([.string("a"), .string("b"), .string("c"), .string("d")])),
        ("{'a': 1}['a'] + [1, 2][1]", .int(3)),
        ("string(self.spec.replicas) + 'x'", .string("3x")),
        ("int('42') + int(2.9)", .int(44)),
        ("self.spec.empty == null", .bool(true)),
        ("self.spec.tags.join(',')", .string("a,b,c")),
        ("'a,b'.split(',').size()", .int(2)),
        ("'Hello'.lowerAscii()", .string("hello")),
        ("self.spec.labels.tier == 'front'", .bool(true)),
        ("type(1) == int", .bool(true)),
        ("duration('1h30m') > duration('90s')", .bool(true)),
        ("[3, 1, 2].max() == 3 && [1, 2, 3].isSorted()", .bool(true)),
        ("r'\\d' == '\\\\d'", .bool(true)),
        // Errors on one side of && / || do not matter when the other side decides.
        ("self.spec.missing == 1 || true", .bool(true)),
        ("false && self.spec.missing == 1", .bool(false)),
    ])
    func evaluatesExpressions(source: String, expected: CELValue) throws {
        #expect(try evaluate(source) == expected, "\(source)")
    }

    @Test(arguments: [
        ("self.spec.missing > 1", "no such key: missing"),
        ("1 / 0", "division by zero"),
        ("9223372036854775807 + 1", "integer overflow"),
        ("'a' + 1", "no such overload"),
        ("unknownVar == 1", "undeclared reference to 'unknownVar'"),
        ("self.spec.tags[5]", "index out of bounds"),
    ])
    func reportsEvaluationErrors(source: String, message: String) throws {
        #expect {
            _ = try evaluate(source)
        } throws: { error in
            (error as? CELError)?.message.contains(message) == true
        }
    }

    @Test(arguments: ["self.spec.", "1 +", "has(self)", "(1", "'unterminated", "a ? b", "self..x"])
    func syntaxErrorsAreReported(source: String) {
        #expect(throws: CELError.self) { try CELParser.parse(source) }
    }

    @Test func transitionRulesSeeOldSelf() throws {
        let value = try evaluate("self >= oldSelf", ["self": 5, "oldSelf": 3])
        #expect(value == .bool(true))
        #expect(try evaluate("self == oldSelf", ["self": "a", "oldSelf": "b"]) == .bool(false))
    }

    /// Hostile rules: nesting past the parser's depth is a syntax error (not a stack overflow),
    /// and an evaluation past its cost budget stops with kube-apiserver's error.
    @Test func deepNestingAndCostAreBounded() throws {
        let deep = String(repeating: "(", count: 5_000) + "1" + String(repeating: ")", count: 5_000)
        #expect { try CELParser.parse(deep) } throws: { "\($0)".contains("nests more than") }
        #expect { try CELParser.parse(String(repeating: "!", count: 5_000) + "true") } throws: { "\($0)".contains("nests more than") }
        #expect(try evaluate(String(repeating: "(", count: 50) + "1" + String(repeating: ")", count: 50)) == .int(1))

        let quadratic = "self.all(x, self.all(y, x >= 0))"
        let long: JSON = .array((0..<1_500).map { .int(Int64($0)) })
        #expect { try evaluate(quadratic, ["self": long]) } throws: { "\($0)".contains("cost limit exceeded") }
        let short: JSON = .array((0..<200).map { .int(Int64($0)) })
        #expect(try evaluate(quadratic, ["self": short]) == .bool(true), "the same rule over a short list is within the budget")
        #expect(try evaluate("self.all(x, x >= 0)", ["self": long]) == .bool(true), "a linear rule is well inside the budget")
    }
}
