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
        } catch {
            throw StatusError.badRequest("the YAML body is not valid: \(error)")
        }
        guard let node else { return .null }
        return try convert(node)
    }

    private static func convert(_ node: Node) throws -> JSON {
        switch node {
        case .mapping(let mapping):
            var members: [String: JSON] = [:]
            for (key, value) in mapping {
                guard let name = key.string else { throw StatusError.badRequest("YAML mapping keys must be strings") }
                members[name] = try convert(value)
            }
            return .object(members)
        case .sequence(let sequence):
            return .array(try sequence.map(convert))
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map { .bool($0) } ?? .string(scalar.string)
            case Tag.Name.int.rawValue: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case Tag.Name.float.rawValue: return node.float.map { .double($0) } ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .alias:
            throw StatusError.badRequest("YAML aliases are not supported in request bodies")
        }
    }
}
