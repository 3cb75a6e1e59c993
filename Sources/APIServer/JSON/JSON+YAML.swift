import Yams

extension JSON {
    /// Parses a YAML document (as `application/yaml` and `application/apply-patch+yaml`
    /// bodies are written) into the JSON value it stands for; plain scalars resolve to null,
    /// booleans, integers and floats as YAML's core schema says.
    public static func parseYAML(_ bytes: [UInt8]) throws -> JSON {
        let text = String(decoding: bytes, as: UTF8.self)
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
            // Go's YAML decoder names the line of the second occurrence.
            let key = duplicates.first ?? ""
            let line = secondOccurrence(of: key, in: text, after: context.mark) ?? context.mark.line
            throw StatusError.badRequest("the YAML body is not valid: yaml: unmarshal errors:\n  line \(line): key \"\(key)\" already set in map")
        } catch {
            throw StatusError.badRequest("the YAML body is not valid: \(error)")
        }
        guard let node else { return .null }
        // Aliases share nodes, so a small document can stand for an exponentially large one
        // ("billion laughs"): the expansion may hold about as many values as the text has bytes.
        var budget = bytes.count + 1_000
        return try convert(node, budget: &budget)
    }

    /// The 1-based line where `key` appears again at the first occurrence's column.
    static func secondOccurrence(of key: String, in text: String, after mark: Mark) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let indent = max(0, mark.column - 1)
        guard mark.line >= 1, mark.line <= lines.count else { return nil }
        for index in mark.line..<lines.count {
            let line = lines[index]
            let content = line.drop(while: { $0 == " " })
            if line.count - content.count == indent, content.hasPrefix(key + ":") { return index + 1 }
        }
        return nil
    }

    private static func convert(_ node: Node, budget: inout Int) throws -> JSON {
        budget -= 1
        guard budget >= 0 else { throw StatusError.badRequest("the YAML body is not valid: yaml: document contains excessive aliasing") }
        switch node {
        case .mapping(let mapping):
            var members: [String: JSON] = [:]
            for (key, value) in mapping {
                guard let name = key.string else { throw StatusError.badRequest("YAML mapping keys must be strings") }
                members[name] = try convert(value, budget: &budget)
            }
            return .object(members)
        case .sequence(let sequence):
            var items: [JSON] = []
            for item in sequence { items.append(try convert(item, budget: &budget)) }
            return .array(items)
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map { .bool($0) } ?? .string(scalar.string)
            case Tag.Name.int.rawValue: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case Tag.Name.float.rawValue:
                guard let value = node.float else { return .string(scalar.string) }
                // JSON has no infinity or NaN: such an object could never be read back.
                guard value.isFinite else { throw StatusError.badRequest("YAML value \(scalar.string) is not a finite number") }
                return .double(value)
            default: return .string(scalar.string)
            }
        case .alias:
            throw StatusError.badRequest("YAML aliases are not supported in request bodies")
        }
    }
}
