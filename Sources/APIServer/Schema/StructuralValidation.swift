import Foundation

/// Validates a custom object against its CustomResourceDefinition's structural schema, as
/// kube-apiserver does: types and formats, enum, pattern, bounds, lengths, item and property
/// counts, required and nullable fields, int-or-string, embedded resources, list types, and
/// the CEL rules of `x-kubernetes-validations` (`self`, and `oldSelf` on updates). Also
/// applies the schema's defaults and drops nulls where they are not allowed.
public struct StructuralValidation: Sendable {
    let schema: JSON

    public init(schema: JSON) { self.schema = schema }

    // MARK: Defaulting

    /// Fills missing fields that have a `default`, and removes `null`s from fields that are
    /// not `nullable` (as kube-apiserver does before validating).
    public func applyDefaults(_ object: inout JSON) {
        guard case .object(var members) = object else { return }
        for key in ["apiVersion", "kind", "metadata"] { members[key] = nil }
        var body = JSON.object(members)
        Self.defaults(&body, schema)
        guard case .object(let defaulted) = body else { return }
        for (key, value) in defaulted { object[key] = value }
    }

    static func defaults(_ value: inout JSON, _ schema: JSON) {
        switch value {
        case .object(var members):
            if let properties = schema["properties"]?.objectValue {
                for (key, property) in properties {
                    if members[key] == .null, property["nullable"]?.boolValue != true {
                        members[key] = property["default"]
                    }
                    if members[key] == nil, let fallback = property["default"] { members[key] = fallback }
                    if var member = members[key] {
                        defaults(&member, property)
                        members[key] = member
                    }
                }
            } else if let additional = schema["additionalProperties"], case .object = additional {
                for (key, member) in members {
                    var member = member
                    defaults(&member, additional)
                    members[key] = member
                }
            }
            value = .object(members)
        case .array(let items):
            guard let itemSchema = schema["items"] else { return }
            value = .array(items.map { item in
                var item = item
                defaults(&item, itemSchema)
                return item
            })
        default:
            break
        }
    }

    // MARK: Validation

    /// The problems of an object (empty when valid). `old` is the stored object an update
    /// replaces, for transition rules.
    public func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        var causes: [StatusError.Cause] = []
        var body = object
        for key in ["apiVersion", "kind", "metadata"] { body[key] = nil }
        var oldBody = old
        for key in ["apiVersion", "kind", "metadata"] { oldBody?[key] = nil }
        validate(body, schema, path: "", old: oldBody, causes: &causes, root: true)
        return causes
    }

    private static func typeName(_ value: JSON) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double(let d): return d == d.rounded() ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    private static func quoted(_ value: JSON) -> String {
        switch value {
        case .string(let s): return "\"\(s)\""
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        default: return "\"\(typeName(value))\""
        }
    }

    private func validate(_ value: JSON, _ schema: JSON, path: String, old: JSON?, causes: inout [StatusError.Cause], root: Bool = false) {
        let field = path.isEmpty ? "<root>" : path
        func invalid(_ message: String, type: String = "FieldValueInvalid") {
            causes.append(.init(field: field, type: type, message: message))
        }
        let intOrString = schema["x-kubernetes-int-or-string"]?.boolValue == true
        if value == .null {
            if schema["nullable"]?.boolValue != true && !root {
                invalid("Invalid value: \"null\": \(field) in body must be of type \(schema["type"]?.stringValue ?? "object"): \"null\"",
                        type: "FieldValueTypeInvalid")
            }
            return
        }
        let actual = Self.typeName(value)
        if let type = schema["type"]?.stringValue, !intOrString {
            let matches = type == actual || (type == "number" && actual == "integer")
            if !matches {
                invalid("Invalid value: \"\(actual)\": \(field) in body must be of type \(type): \(Self.quoted(value))", type: "FieldValueTypeInvalid")
                return
            }
        }
        if intOrString, actual != "integer", actual != "string" {
            invalid("Invalid value: \"\(actual)\": \(field) in body must be of type integer or string: \(Self.quoted(value))", type: "FieldValueTypeInvalid")
            return
        }
        if let options = schema["enum"]?.arrayValue, !options.contains(value) {
            invalid("Unsupported value: \(Self.quoted(value)): supported values: \(options.map(Self.quoted).joined(separator: ", "))",
                    type: "FieldValueNotSupported")
        }
        switch value {
        case .string(let text):
            if let pattern = schema["pattern"]?.stringValue {
                if let regex = SchemaPatterns.regex(pattern) {
                    if regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                        invalid("Invalid value: \"\(text)\": \(field) in body should match '\(pattern)'")
                    }
                } else {
                    invalid("Invalid value: \"\(text)\": \(field) cannot be checked: the schema's pattern '\(pattern)' is not a valid regular expression")
                }
            }
            let length = text.unicodeScalars.count
            if let minimum = schema["minLength"]?.intValue, length < minimum {
                invalid("Invalid value: \"\(text)\": \(field) in body should be at least \(minimum) chars long")
            }
            if let maximum = schema["maxLength"]?.intValue, length > maximum {
                invalid("Too long: may not be more than \(maximum) bytes", type: "FieldValueTooLong")
            }
            if let format = schema["format"]?.stringValue, !intOrString, !Self.formatHolds(format, text) {
                invalid("Invalid value: \"\(text)\": \(field) in body must be of type \(format): \"\(text)\"")
            }
        case .int, .double:
            let number = value.doubleValue ?? 0
            if let minimum = schema["minimum"]?.doubleValue {
                let exclusive = schema["exclusiveMinimum"]?.boolValue == true
                if exclusive ? number <= minimum : number < minimum {
                    invalid("Invalid value: \(Self.quoted(value)): \(field) in body should be greater than \(exclusive ? "" : "or equal to ")\(Self.number(minimum))")
                }
            }
            if let maximum = schema["maximum"]?.doubleValue {
                let exclusive = schema["exclusiveMaximum"]?.boolValue == true
                if exclusive ? number >= maximum : number > maximum {
                    invalid("Invalid value: \(Self.quoted(value)): \(field) in body should be less than \(exclusive ? "" : "or equal to ")\(Self.number(maximum))")
                }
            }
            if let multiple = schema["multipleOf"]?.doubleValue, multiple != 0, (number / multiple).rounded() != number / multiple {
                invalid("Invalid value: \(Self.quoted(value)): \(field) in body should be a multiple of \(Self.number(multiple))")
            }
            if let format = schema["format"]?.stringValue, let integer = value.intValue {
                if format == "int32", integer < Int64(Int32.min) || integer > Int64(Int32.max) {
                    invalid("Invalid value: \(integer): \(field) in body must be of type int32")
                }
            }
        case .array(let items):
            if let minimum = schema["minItems"]?.intValue, items.count < minimum {
                invalid("Invalid value: \(items.count): \(field) in body should have at least \(minimum) items")
            }
            if let maximum = schema["maxItems"]?.intValue, items.count > maximum {
                invalid("Too many: \(items.count): must have at most \(maximum) items", type: "FieldValueTooMany")
            }
            let listType = schema["x-kubernetes-list-type"]?.stringValue
            if listType == "set" || schema["uniqueItems"]?.boolValue == true {
                var seen: [JSON] = []
                for (index, item) in items.enumerated() {
                    if seen.contains(item) {
                        causes.append(.init(field: "\(path)[\(index)]", type: "FieldValueDuplicate", message: "Duplicate value: \(Self.quoted(item))"))
                    }
                    seen.append(item)
                }
            }
            if listType == "map", let keys = schema["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) {
                var seen: [[JSON?]] = []
                for (index, item) in items.enumerated() {
                    let identity = keys.map { item[$0] }
                    if seen.contains(identity) {
                        let text = zip(keys, identity).map { "\"\($0)\":\($1.map(Self.quoted) ?? "null")" }.joined(separator: ",")
                        causes.append(.init(field: "\(path)[\(index)]", type: "FieldValueDuplicate", message: "Duplicate value: map[string]interface {}{\(text)}"))
                    }
                    seen.append(identity)
                }
            }
            if let itemSchema = schema["items"] {
                let oldItems = old?.arrayValue
                for (index, item) in items.enumerated() {
                    // Transition rules inside lists compare items by position only for map lists (by key).
                    var oldItem: JSON? = nil
                    if listType == "map", let keys = schema["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) {
                        oldItem = oldItems?.first { candidate in keys.allSatisfy { candidate[$0] == item[$0] } }
                    }
                    validate(item, itemSchema, path: "\(path)[\(index)]", old: oldItem, causes: &causes)
                }
            }
        case .object(let members):
            if let required = schema["required"]?.arrayValue?.compactMap(\.stringValue) {
                for name in required where members[name] == nil {
                    causes.append(.init(field: path.isEmpty ? name : "\(path).\(name)", type: "FieldValueRequired", message: "Required value"))
                }
            }
            if let minimum = schema["minProperties"]?.intValue, members.count < minimum {
                invalid("Invalid value: \(members.count): \(field) in body should have at least \(minimum) properties")
            }
            if let maximum = schema["maxProperties"]?.intValue, members.count > maximum {
                invalid("Too many: \(members.count): must have at most \(maximum) items", type: "FieldValueTooMany")
            }
            if schema["x-kubernetes-embedded-resource"]?.boolValue == true {
                for name in ["apiVersion", "kind"] where (members[name]?.stringValue ?? "").isEmpty {
                    causes.append(.init(field: path.isEmpty ? name : "\(path).\(name)", type: "FieldValueRequired", message: "Required value: must not be empty"))
                }
            }
            if let properties = schema["properties"]?.objectValue {
                for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                    guard let property = properties[name] else { continue }
                    validate(member, property, path: path.isEmpty ? name : "\(path).\(name)", old: old?[name], causes: &causes)
                }
            } else if let additional = schema["additionalProperties"], case .object = additional {
                for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                    validate(member, additional, path: path.isEmpty ? name : "\(path).\(name)", old: old?[name], causes: &causes)
                }
            }
        default:
            break
        }
        if let rules = schema["x-kubernetes-validations"]?.arrayValue {
            validateRules(rules, value: value, old: old, type: schema["type"]?.stringValue ?? actual, path: path, causes: &causes)
        }
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? (Int64(exactly: value).map(String.init) ?? String(value)) : String(value)
    }

    /// The CEL rules at one node: `self` is the value; a rule that reads `oldSelf` (a
    /// transition rule) runs only on updates where the old value exists.
    private func validateRules(_ rules: [JSON], value: JSON, old: JSON?, type: String, path: String, causes: inout [StatusError.Cause]) {
        let field = path.isEmpty ? "<root>" : path
        for rule in rules {
            guard let source = rule["rule"]?.stringValue else { continue }
            let isTransition = source.contains("oldSelf")
            if isTransition && old == nil && rule["optionalOldSelf"]?.boolValue != true { continue }
            var variables: [String: CELValue] = ["self": CELValue(value)]
            if let old { variables["oldSelf"] = CELValue(old) } else if isTransition { variables["oldSelf"] = .null }
            let evaluator = CELEvaluator(variables: variables)
            let target = rule["fieldPath"]?.stringValue.map { path + $0 } ?? field
            let causeType = rule["reason"]?.stringValue ?? "FieldValueInvalid"
            do {
                let result = try evaluator.evaluate(try CELParseCache.expression(source))
                guard case .bool(let passed) = result else {
                    causes.append(.init(field: target, type: causeType, message: "Invalid value: \"\(type)\": rule did not evaluate to a bool"))
                    continue
                }
                if passed { continue }
                var message = rule["message"]?.stringValue ?? "failed rule: \(source)"
                if let expression = rule["messageExpression"]?.stringValue,
                   case .string(let text)? = try? evaluator.evaluate(try CELParseCache.expression(expression)), !text.isEmpty {
                    message = text
                }
                causes.append(.init(field: target, type: causeType, message: "Invalid value: \"\(type)\": \(message)"))
            } catch {
                causes.append(.init(field: target, type: causeType, message: "Invalid value: \"\(type)\": rule evaluation error: \(error)"))
            }
        }
    }

    /// The string formats Kubernetes checks in custom resources.
    static func formatHolds(_ format: String, _ text: String) -> Bool {
        func matches(_ pattern: String) -> Bool {
            text.range(of: pattern, options: .regularExpression) != nil
        }
        switch format {
        case "date-time", "datetime": return RFC3339.parse(text) != nil
        case "date": return matches(#"^\d{4}-\d{2}-\d{2}$"#)
        case "byte": return Data(base64Encoded: text) != nil
        case "uuid": return UUID(uuidString: text) != nil
        case "email": return matches(#"^[^@\s]+@[^@\s]+\.[^@\s]+$"#)
        case "hostname": return NameValidation.subdomainErrors(text).isEmpty
        case "ipv4": return IPAddressBytes(text)?.bytes.count == 4
        case "ipv6": return IPAddressBytes(text)?.bytes.count == 16
        case "cidr":
            let parts = text.split(separator: "/")
            return parts.count == 2 && IPAddressBytes(String(parts[0])) != nil && Int(parts[1]) != nil
        case "duration": return GoDuration.seconds(text) != nil
        default: return true
        }
    }
}
