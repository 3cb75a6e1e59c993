/// Checks an object against its structural schema as Kubernetes' typed decoding does: fields
/// the schema does not know are dropped (and reported), values of the wrong JSON type are a
/// 400. `fieldValidation` says what becomes of the reports: `Strict` refuses the request,
/// `Warn` (the default) answers with `Warning` headers, `Ignore` says nothing.
public struct FieldValidation: Sendable {
    public enum Directive: String, Sendable {
        case strict = "Strict", warn = "Warn", ignore = "Ignore"
    }

    /// The directive of a request's `fieldValidation` parameter.
    public static func directive(_ text: String?) throws -> Directive {
        guard let text, !text.isEmpty else { return .warn }
        guard let directive = Directive(rawValue: text) else {
            throw StatusError.badRequest("fieldValidation must be Strict, Warn or Ignore, not \"\(text)\"")
        }
        return directive
    }

    /// The object with unknown fields removed, and the paths of those fields.
    /// `checkTypes: false` leaves values of the wrong type in place (custom resources check
    /// them in their own validation).
    public static func prune(_ object: JSON, schema: SchemaNode, kind: String, version: String,
                             checkTypes: Bool = true) throws -> (JSON, unknown: [String]) {
        var unknown: [String] = []
        let pruned = try prune(object, schema, path: "", unknown: &unknown, kind: kind, version: version, checkTypes: checkTypes)
        return (pruned, unknown.sorted())
    }

    private static func prune(_ value: JSON, _ schema: SchemaNode, path: String, unknown: inout [String],
                              kind: String, version: String, checkTypes: Bool) throws -> JSON {
        let resolved = schema.resolved
        if value == .null { return value }
        if resolved["x-kubernetes-preserve-unknown-fields"] == true || schema.schema["x-kubernetes-preserve-unknown-fields"] == true {
            return value
        }
        let type = checkTypes ? resolved["type"]?.stringValue : nil
        let embedded = resolved["x-kubernetes-embedded-resource"] == true
        let format = resolved["format"]?.stringValue
        func mismatch(_ expected: String) -> StatusError {
            let field = path.isEmpty ? kind : path
            return StatusError.badRequest("\(kind) in version \"\(version)\" cannot be handled as a \(kind): json: cannot unmarshal \(value.typeName) into Go struct field \(field) of type \(expected)")
        }
        switch value {
        case .object(let members):
            if let type, type != "object" { throw mismatch(type) }
            if let properties = resolved["properties"]?.objectValue {
                var kept: [String: JSON] = [:]
                for (key, member) in members {
                    let memberPath = path.isEmpty ? key : path + "." + key
                    guard let propertySchema = properties[key] else {
                        if embedded && ["apiVersion", "kind", "metadata"].contains(key) {
                            kept[key] = member
                            continue
                        }
                        unknown.append(memberPath)
                        continue
                    }
                    kept[key] = try prune(member, SchemaNode(schema: propertySchema, definitions: schema.definitions),
                                          path: memberPath, unknown: &unknown, kind: kind, version: version, checkTypes: checkTypes)
                }
                return .object(kept)
            }
            if let values = resolved["additionalProperties"], case .object = values {
                let valueSchema = SchemaNode(schema: values, definitions: schema.definitions)
                var kept: [String: JSON] = [:]
                for (key, member) in members {
                    kept[key] = try prune(member, valueSchema, path: path + "." + key, unknown: &unknown, kind: kind, version: version, checkTypes: checkTypes)
                }
                return .object(kept)
            }
            return value
        case .array(let elements):
            if let type, type != "array" { throw mismatch(type) }
            guard let items = schema.items else { return value }
            return .array(try elements.enumerated().map { index, element in
                try prune(element, items, path: "\(path)[\(index)]", unknown: &unknown, kind: kind, version: version, checkTypes: checkTypes)
            })
        case .string:
            if format == "int-or-string" || format == "quantity" { return value }
            if let type, type != "string" { throw mismatch(type) }
        case .int, .double:
            if format == "int-or-string" || format == "quantity" { return value }
            if type == "integer", value.intValue == nil { throw mismatch("integer") }
            if let type, type != "integer" && type != "number" { throw mismatch(type) }
        case .bool:
            if let type, type != "boolean" { throw mismatch(type) }
        case .null:
            break
        }
        return value
    }
}
