import Synchronization

/// Parses CEL source into a ``CELExpression`` (precedence from lowest: `?:`, `||`, `&&`,
/// relations and `in`, `+ -`, `* / %`, unary `! -`, then member access, indexing and calls).
public struct CELParser {
    private var tokens: [CELLexer.Token]
    private var position = 0
    /// How deep the expression nests so far (parentheses, operands, arguments, unary operators).
    private var depth = 0
    /// The deepest nesting an expression may have (cel-go's parser refuses past its recursion
    /// limit too); deeper source is refused instead of exhausting the stack.
    static let maxDepth = 128
    static let macros: Set<String> = ["all", "exists", "exists_one", "map", "filter"]
    static let reserved: Set<String> = ["as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
                                        "package", "namespace", "return", "var", "void", "while"]

    /// Parses an expression; a syntax error names what was expected.
    public static func parse(_ source: String) throws -> CELExpression {
        var parser = CELParser(tokens: try CELLexer.tokens(source))
        let expression = try parser.conditional()
        guard parser.current == .end else { throw CELError("Syntax error: unexpected \(parser.describe(parser.current))") }
        return expression
    }

    private init(tokens: [CELLexer.Token]) { self.tokens = tokens }

    private var current: CELLexer.Token { tokens[position] }

    private mutating func advance() -> CELLexer.Token {
        defer { position += 1 }
        return tokens[position]
    }

    private mutating func accept(_ symbol: String) -> Bool {
        if current == .symbol(symbol) { position += 1; return true }
        return false
    }

    private mutating func expect(_ symbol: String) throws {
        guard accept(symbol) else { throw CELError("Syntax error: expected '\(symbol)', found \(describe(current))") }
    }

    private func describe(_ token: CELLexer.Token) -> String {
        switch token {
        case .identifier(let name): return "'\(name)'"
        case .symbol(let symbol): return "'\(symbol)'"
        case .end: return "end of expression"
        default: return "a literal"
        }
    }

    /// Counts one level of nesting for the rest of the calling rule; refuses past ``maxDepth``.
    private mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw CELError("Syntax error: the expression nests more than \(Self.maxDepth) levels deep") }
    }

    private mutating func conditional() throws -> CELExpression {
        defer { depth -= 1 }
        try enter()
        let condition = try or()
        guard accept("?") else { return condition }
        let then = try or()
        try expect(":")
        return .conditional(condition, then, try conditional())
    }

    private mutating func or() throws -> CELExpression {
        var left = try and()
        while accept("||") { left = .binary("||", left, try and()) }
        return left
    }

    private mutating func and() throws -> CELExpression {
        var left = try relation()
        while accept("&&") { left = .binary("&&", left, try relation()) }
        return left
    }

    private mutating func relation() throws -> CELExpression {
        var left = try additive()
        while true {
            if case .symbol(let op) = current, ["==", "!=", "<", "<=", ">", ">="].contains(op) {
                position += 1
                left = .binary(op, left, try additive())
            } else if current == .identifier("in") {
                position += 1
                left = .binary("in", left, try additive())
            } else {
                return left
            }
        }
    }

    private mutating func additive() throws -> CELExpression {
        var left = try multiplicative()
        while case .symbol(let op) = current, op == "+" || op == "-" {
            position += 1
            left = .binary(op, left, try multiplicative())
        }
        return left
    }

    private mutating func multiplicative() throws -> CELExpression {
        var left = try unary()
        while case .symbol(let op) = current, op == "*" || op == "/" || op == "%" {
            position += 1
            left = .binary(op, left, try unary())
        }
        return left
    }

    private mutating func unary() throws -> CELExpression {
        defer { depth -= 1 }
        try enter()
        if accept("!") { return .unary("!", try unary()) }
        if accept("-") {
            // A negative literal is a literal (so that -9223372036854775808 parses).
            if case .int(let value) = current { position += 1; return try member(.literal(.int(-value))) }
            if case .double(let value) = current { position += 1; return try member(.literal(.double(-value))) }
            return .unary("-", try unary())
        }
        return try member(try primary())
    }

    private mutating func member(_ start: CELExpression) throws -> CELExpression {
        var node = start
        while true {
            if accept(".") {
                guard case .identifier(let name) = advance() else { throw CELError("Syntax error: expected a field name after '.'") }
                if accept("(") {
                    let arguments = try argumentList(")")
                    node = try methodCall(name, target: node, arguments: arguments)
                } else {
                    node = .select(node, name)
                }
            } else if accept("[") {
                let index = try conditional()
                try expect("]")
                node = .index(node, index)
            } else {
                return node
            }
        }
    }

    private func methodCall(_ name: String, target: CELExpression, arguments: [CELExpression]) throws -> CELExpression {
        guard Self.macros.contains(name), arguments.count >= 2 else { return .call(name, target: target, arguments: arguments) }
        guard case .identifier(let variable) = arguments[0] else {
            throw CELError("Syntax error: argument 1 of \(name) must be a variable name")
        }
        if name == "map" && arguments.count == 3 {
            return .comprehension(macro: "map", range: target, variable: variable, filter: arguments[1], body: arguments[2])
        }
        guard arguments.count == 2 else { throw CELError("Syntax error: \(name) takes 2 arguments") }
        return .comprehension(macro: name, range: target, variable: variable, filter: nil, body: arguments[1])
    }

    private mutating func argumentList(_ close: String) throws -> [CELExpression] {
        var arguments: [CELExpression] = []
        if accept(close) { return arguments }
        repeat {
            if current == .symbol(close) { break }
            arguments.append(try conditional())
        } while accept(",")
        try expect(close)
        return arguments
    }

    private mutating func primary() throws -> CELExpression {
        switch advance() {
        case .int(let value): return .literal(.int(value))
        case .uint(let value): return .literal(.uint(value))
        case .double(let value): return .literal(.double(value))
        case .string(let value): return .literal(.string(value))
        case .bytes(let value): return .literal(.bytes(value))
        case .identifier(let name):
            switch name {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null": return .literal(.null)
            default: break
            }
            if Self.reserved.contains(name) { throw CELError("Syntax error: reserved identifier '\(name)'") }
            if accept("(") {
                let arguments = try argumentList(")")
                if name == "has" {
                    guard arguments.count == 1, case .select(let target, let field) = arguments[0] else {
                        throw CELError("Syntax error: invalid argument to has() macro")
                    }
                    return .presence(target, field)
                }
                return .call(name, target: nil, arguments: arguments)
            }
            return .identifier(name)
        case .symbol("("):
            let inner = try conditional()
            try expect(")")
            return inner
        case .symbol("["):
            return .list(try argumentList("]"))
        case .symbol("{"):
            var entries: [(CELExpression, CELExpression)] = []
            if !accept("}") {
                repeat {
                    if current == .symbol("}") { break }
                    let key = try conditional()
                    try expect(":")
                    entries.append((key, try conditional()))
                } while accept(",")
                try expect("}")
            }
            return .map(entries)
        case .symbol("."):
            // A leading dot names a root identifier.
            guard case .identifier(let name) = advance() else { throw CELError("Syntax error: expected an identifier after '.'") }
            return .identifier(name)
        case let token:
            throw CELError("Syntax error: unexpected \(describe(token))")
        }
    }
}


/// Parsed expressions by source, so that rules evaluated on every write (custom resource
/// validation rules) are parsed once. Emptied when it grows past its bound (sources come
/// from definitions, which change rarely).
enum CELParseCache {
    private static let entries = Mutex<[String: Result<CELExpression, CELError>]>([:])
    static let bound = 4096

    static func expression(_ source: String) throws -> CELExpression {
        if let found = entries.withLock({ $0[source] }) { return try found.get() }
        let parsed = Result { try CELParser.parse(source) }.mapError { $0 as? CELError ?? CELError("\($0)") }
        entries.withLock {
            if $0.count >= bound { $0.removeAll() }
            $0[source] = parsed
        }
        return try parsed.get()
    }
}
