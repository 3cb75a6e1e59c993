/// RFC 6902 JSON Patch: `add`, `remove`, `replace`, `move`, `copy` and `test` operations at
/// RFC 6901 JSON Pointers, applied in order; any failure leaves the document unchanged.
public enum JSONPatch {
    /// kube-apiserver's bound on a JSON patch's operations.
    static let maximumOperations = 10_000
    /// kube-apiserver's bound on the bytes a patch's copy operations add (3 MiB).
    static let maximumCopiedBytes = 3 << 20
    /// The deepest a patched document may nest (a JSON body is parsed to 512 levels).
    static let maximumDepth = 1000

    /// The nesting depth of a value, counted without recursion (the value may be deep).
    static func depth(of value: JSON) -> Int {
        var deepest = 0
        var pending: [(JSON, Int)] = [(value, 1)]
        while let (node, level) = pending.popLast() {
            deepest = max(deepest, level)
            switch node {
            case .object(let members): for member in members.values { pending.append((member, level + 1)) }
            case .array(let items): for item in items { pending.append((item, level + 1)) }
            default: break
            }
        }
        return deepest
    }

    /// Applies a patch document (an array of operations) to `document`.
    public static func apply(_ patch: JSON, to document: JSON) throws -> JSON {
        guard let operations = patch.arrayValue else {
            throw StatusError.badRequest("a JSON patch must be an array of operations")
        }
        guard operations.count <= maximumOperations else {
            throw StatusError(code: 413, reason: "RequestEntityTooLarge",
                              message: "Request entity too large: The allowed maximum operations in a JSON patch is \(maximumOperations), got \(operations.count)")
        }
        var result = document
        var copiedBytes = 0
        for (index, operation) in operations.enumerated() {
            guard let op = operation["op"]?.stringValue, let path = operation["path"]?.stringValue else {
                throw StatusError.badRequest("JSON patch operation \(index) needs \"op\" and \"path\"")
            }
            let pointer = try Self.pointer(path)
            switch op {
            case "add":
                result = try add(try value(operation, "value", index), at: pointer, in: result)
            case "remove":
                result = try remove(at: pointer, in: result).document
            case "replace":
                _ = try get(pointer, in: result)
                result = try set(try value(operation, "value", index), at: pointer, in: result, inserting: false)
            case "move":
                let from = try Self.pointer(try string(operation, "from", index))
                if pointer.starts(with: from) && pointer.count > from.count {
                    throw StatusError.badRequest("JSON patch operation \(index): cannot move a value into itself")
                }
                let (rest, moved) = try remove(at: from, in: result)
                result = try add(moved, at: pointer, in: rest)
            case "copy":
                let from = try Self.pointer(try string(operation, "from", index))
                let copied = try get(from, in: result)
                // Copies can double a document per operation: their added bytes are bounded.
                copiedBytes += copied.serialized().count
                guard copiedBytes <= maximumCopiedBytes else {
                    throw StatusError(code: 413, reason: "RequestEntityTooLarge",
                                      message: "Request entity too large: Unable to complete the copy, the accumulated size increase of copy is \(copiedBytes), exceeding the limit \(maximumCopiedBytes)")
                }
                // ... and so can their depth (a copy of the root into its deepest point): the result
                // stays within the nesting a request body may have, or serializing it would
                // exhaust the stack.
                guard pointer.count + Self.depth(of: copied) <= maximumDepth else {
                    throw StatusError.badRequest("JSON patch operation \(index): the result would nest deeper than \(maximumDepth) levels")
                }
                result = try add(copied, at: pointer, in: result)
            case "test":
                let expected = try value(operation, "value", index)
                guard try Self.equal(get(pointer, in: result), expected) else {
                    throw StatusError(code: 422, reason: "Invalid",
                                      message: "the server rejected our request due to an error in our request: test operation \(index) failed: the value at \(path) is not the expected one")
                }
            default:
                throw StatusError.badRequest("JSON patch operation \(index): unknown op \"\(op)\"")
            }
        }
        return result
    }

    private static func value(_ operation: JSON, _ key: String, _ index: Int) throws -> JSON {
        guard case .object(let members) = operation, let value = members[key] else {
            throw StatusError.badRequest("JSON patch operation \(index) needs \"\(key)\"")
        }
        return value
    }

    private static func string(_ operation: JSON, _ key: String, _ index: Int) throws -> String {
        guard let text = operation[key]?.stringValue else { throw StatusError.badRequest("JSON patch operation \(index) needs \"\(key)\"") }
        return text
    }

    /// Numbers compare by value (1 and 1.0 are equal), as JSON does.
    static func equal(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Double(x) == y
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { equal(value, $0) } ?? false }
        default: return a == b
        }
    }

    /// The reference tokens of a JSON Pointer (`~1` is `/`, `~0` is `~`).
    static func pointer(_ text: String) throws -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw StatusError.badRequest("invalid JSON pointer \"\(text)\"") }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func notFound(_ pointer: [String]) -> StatusError {
        StatusError(code: 422, reason: "Invalid",
                    message: "the server rejected our request due to an error in our request: the path /\(pointer.joined(separator: "/")) does not exist")
    }

    static func get(_ pointer: [String], in document: JSON) throws -> JSON {
        var node = document
        for token in pointer {
            switch node {
            case .object(let members):
                guard let next = members[token] else { throw notFound(pointer) }
                node = next
            case .array(let elements):
                guard let i = Int(token), elements.indices.contains(i) else { throw notFound(pointer) }
                node = elements[i]
            default: throw notFound(pointer)
            }
        }
        return node
    }

    static func add(_ value: JSON, at pointer: [String], in document: JSON) throws -> JSON {
        try set(value, at: pointer, in: document, inserting: true)
    }

    /// Sets the value at `pointer`; in arrays `inserting` inserts (and `-` appends) rather
    /// than replacing.
    static func set(_ value: JSON, at pointer: [String], in document: JSON, inserting: Bool) throws -> JSON {
        guard let token = pointer.first else { return value }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(var members):
            if rest.isEmpty {
                members[token] = value
            } else {
                guard let child = members[token] else { throw notFound(pointer) }
                members[token] = try set(value, at: rest, in: child, inserting: inserting)
            }
            return .object(members)
        case .array(var elements):
            if rest.isEmpty {
                if token == "-" && inserting { elements.append(value); return .array(elements) }
                guard let i = Int(token), i >= 0, inserting ? i <= elements.count : i < elements.count else { throw notFound(pointer) }
                if inserting { elements.insert(value, at: i) } else { elements[i] = value }
            } else {
                guard let i = Int(token), elements.indices.contains(i) else { throw notFound(pointer) }
                elements[i] = try set(value, at: rest, in: elements[i], inserting: inserting)
            }
            return .array(elements)
        default:
            throw notFound(pointer)
        }
    }

    static func remove(at pointer: [String], in document: JSON) throws -> (document: JSON, removed: JSON) {
        guard let token = pointer.first else { throw StatusError.badRequest("cannot remove the whole document") }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(var members):
            guard let child = members[token] else { throw notFound(pointer) }
            if rest.isEmpty {
                members[token] = nil
                return (.object(members), child)
            }
            let (updated, removed) = try remove(at: rest, in: child)
            members[token] = updated
            return (.object(members), removed)
        case .array(var elements):
            guard let i = Int(token), elements.indices.contains(i) else { throw notFound(pointer) }
            if rest.isEmpty {
                let removed = elements.remove(at: i)
                return (.array(elements), removed)
            }
            let (updated, removed) = try remove(at: rest, in: elements[i])
            elements[i] = updated
            return (.array(elements), removed)
        default:
            throw notFound(pointer)
        }
    }
}
