/// Splits CEL source into tokens.
struct CELLexer {
    enum Token: Equatable {
        case identifier(String)
        case int(Int64)
        case uint(UInt64)
        case double(Double)
        case string(String)
        case bytes([UInt8])
        case symbol(String)
        case end
    }

    static let symbols = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".", ",",
                          "[", "]", "(", ")", "{", "}"]

    /// The one-character escapes in string literals and what they stand for.
    private static let simpleEscapes: [Unicode.Scalar: String] = [
        "n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", "\"": "\"", "`": "`", "?": "?",
        "a": "\u{07}", "b": "\u{08}", "f": "\u{0C}", "v": "\u{0B}",
    ]

    static func tokens(_ source: String) throws -> [Token] {
        let chars = Array(source.unicodeScalars)
        var i = 0
        var tokens: [Token] = []
        func peek(_ offset: Int = 0) -> Unicode.Scalar? { i + offset < chars.count ? chars[i + offset] : nil }
        while i < chars.count {
            let c = chars[i]
            if c.properties.isWhitespace { i += 1; continue }
            if c == "/" && peek(1) == "/" {
                while i < chars.count && chars[i] != "\n" { i += 1 }
                continue
            }
            if c == "\"" || c == "'" {
                tokens.append(.string(try readString(chars, &i, raw: false)))
                continue
            }
            if c.properties.isAlphabetic || c == "_" {
                var name = ""
                while let d = peek(), d.properties.isAlphabetic || d == "_" || ("0"..."9").contains(d) {
                    name.unicodeScalars.append(d)
                    i += 1
                }
                // r"…" is a raw string, b"…" bytes (and rb / br both).
                if name.count <= 2, name.lowercased().allSatisfy({ $0 == "r" || $0 == "b" }), Set(name.lowercased()).count == name.count,
                   let quote = peek(), quote == "\"" || quote == "'" {
                    let text = try readString(chars, &i, raw: name.lowercased().contains("r"))
                    tokens.append(name.lowercased().contains("b") ? .bytes(Array(text.utf8)) : .string(text))
                    continue
                }
                tokens.append(.identifier(name))
                continue
            }
            if ("0"..."9").contains(c) || (c == "." && peek(1).map { ("0"..."9").contains($0) } == true) {
                tokens.append(try readNumber(chars, &i))
                continue
            }
            if let symbol = symbols.first(where: { symbol in
                symbol.unicodeScalars.enumerated().allSatisfy { peek($0.offset) == $0.element }
            }) {
                tokens.append(.symbol(symbol))
                i += symbol.unicodeScalars.count
                continue
            }
            throw CELError("Syntax error: unexpected character '\(c)' at \(i)")
        }
        tokens.append(.end)
        return tokens
    }

    private static func readNumber(_ chars: [Unicode.Scalar], _ i: inout Int) throws -> Token {
        var text = ""
        if chars[i] == "0", i + 1 < chars.count, chars[i + 1] == "x" || chars[i + 1] == "X" {
            i += 2
            while i < chars.count, chars[i].properties.isASCIIHexDigit {
                text.unicodeScalars.append(chars[i])
                i += 1
            }
            if i < chars.count, chars[i] == "u" || chars[i] == "U" {
                i += 1
                guard let value = UInt64(text, radix: 16) else { throw CELError("Syntax error: bad hex literal") }
                return .uint(value)
            }
            guard let value = Int64(text, radix: 16) else { throw CELError("Syntax error: bad hex literal") }
            return .int(value)
        }
        var isDouble = false
        while i < chars.count {
            let c = chars[i]
            if ("0"..."9").contains(c) {
                text.unicodeScalars.append(c)
            } else if c == ".", i + 1 < chars.count, ("0"..."9").contains(chars[i + 1]) {
                isDouble = true
                text.unicodeScalars.append(c)
            } else if c == "e" || c == "E" {
                isDouble = true
                text.unicodeScalars.append(c)
                if i + 1 < chars.count, chars[i + 1] == "-" || chars[i + 1] == "+" {
                    i += 1
                    text.unicodeScalars.append(chars[i])
                }
            } else {
                break
            }
            i += 1
        }
        if isDouble {
            guard let value = Double(text) else { throw CELError("Syntax error: bad number \(text)") }
            return .double(value)
        }
        if i < chars.count, chars[i] == "u" || chars[i] == "U" {
            i += 1
            guard let value = UInt64(text) else { throw CELError("Syntax error: bad number \(text)") }
            return .uint(value)
        }
        guard let value = Int64(text) else { throw CELError("Syntax error: integer literal \(text) is out of range") }
        return .int(value)
    }

    private static func readString(_ chars: [Unicode.Scalar], _ i: inout Int, raw: Bool) throws -> String {
        let quote = chars[i]
        let triple = i + 2 < chars.count && chars[i + 1] == quote && chars[i + 2] == quote
        i += triple ? 3 : 1
        var text = ""
        while i < chars.count {
            let c = chars[i]
            if triple {
                if c == quote, i + 2 < chars.count, chars[i + 1] == quote, chars[i + 2] == quote {
                    i += 3
                    return text
                }
            } else if c == quote {
                i += 1
                return text
            } else if c == "\n" {
                break
            }
            if c == "\\" && !raw {
                i += 1
                guard i < chars.count else { break }
                if let simple = Self.simpleEscapes[chars[i]] {
                    text += simple
                } else {
                    switch chars[i] {
                    case "u", "U", "x":
                        let width = chars[i] == "u" ? 4 : chars[i] == "U" ? 8 : 2
                        let digits = String(String.UnicodeScalarView(chars[(i + 1)..<min(i + 1 + width, chars.count)]))
                        guard let code = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(code) else {
                            throw CELError("Syntax error: bad escape")
                        }
                        text.unicodeScalars.append(scalar)
                        i += width
                    default: throw CELError("Syntax error: unknown escape \\\(chars[i])")
                    }
                }
                i += 1
                continue
            }
            text.unicodeScalars.append(c)
            i += 1
        }
        throw CELError("Syntax error: unterminated string")
    }
}
